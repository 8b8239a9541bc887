/* The config reference in Markdown, generated from the schemas so it cannot
 * drift from what validation accepts. */
#include "config.h"

#include <string.h>
#include "core_schema.h"
#include "schema_table.h"
#include "value_check.h"

#define WB_MAX_TRANSFORMS 128

/* Table cells: '|' would end the cell, newlines the row. */
static void put_cell(FILE *out, const char *text) {
    for (const char *p = text ? text : ""; *p; p++) {
        if (*p == '|') fputs("\\|", out);
        else fputc(*p == '\n' ? ' ' : *p, out);
    }
}

static void put_type(FILE *out, const wb_param_schema *p) {
    if (p->type == WB_PARAM_MODULE) fprintf(out, "%s module", wb_module_kind_name(p->module_kind));
    else fputs(wb_param_type_name(p->type), out);
}

static void put_default(FILE *out, const wb_param_schema *p) {
    if (p->required) fputs("**required**", out);
    else if (!p->default_value) fputs("(optional)", out);
    else {
        fputs("`", out);
        put_cell(out, p->default_value);
        fputs("`", out);
    }
}

static void put_limits(FILE *out, const wb_param_schema *p) {
    if (p->type == WB_PARAM_CHOICE) {
        for (const char *const *c = p->choices; c && *c; c++) fprintf(out, "%s`%s`", c == p->choices ? "" : ", ", *c);
    } else if (p->has_range) {
        char lo[64], hi[64];
        wb_format_number(lo, sizeof lo, p->min);
        wb_format_number(hi, sizeof hi, p->max);
        fprintf(out, "[%s, %s]", lo, hi);
    }
}

static void put_table(FILE *out, const wb_param_schema *table, int has_type) {
    if (!table || !table->name) {
        fputs(has_type ? "Only `type`; no other keys.\n\n" : "No keys.\n\n", out);
        return;
    }
    fputs("| Key | Type | Default | Range / choices | Description |\n|---|---|---|---|---|\n", out);
    for (int i = 0; i < WB_SCHEMA_MAX_ENTRIES; i++) {
        const wb_param_schema *p = wb_schema_entry(table, i);
        if (!p->name) break;
        fprintf(out, "| `%s` | ", p->name);
        put_type(out, p);
        fputs(" | ", out);
        put_default(out, p);
        fputs(" | ", out);
        put_limits(out, p);
        fputs(" | ", out);
        put_cell(out, p->doc);
        fputs(" |\n", out);
    }
    fputs("\n", out);
}

static const char *presence_text(wb_presence p) {
    return p == WB_SECTION_REQUIRED    ? "required"
           : p == WB_SECTION_DEFAULTED ? "defaults if left out"
           : p == WB_SECTION_LIST      ? "optional list of groups"
                                       : "optional";
}

static void put_sections(FILE *out, const wb_config_section *sections, const char *prefix) {
    for (const wb_config_section *c = sections; c && c->name; c++) {
        char path[128];
        snprintf(path, sizeof path, "%s%s%s", prefix, prefix[0] ? "." : "", c->name);
        fprintf(out, "### `%s` (%s)\n\n", path, presence_text(c->presence));
        put_cell(out, c->doc);
        fputs(".\n\n", out);
        put_table(out, c->params, 0);
        put_sections(out, c->sections, path);
    }
}

/* One module or transform; a broken plugin schema is shown as such. */
static void put_typed(FILE *out, const char *kind, const char *type, const char *summary,
                      const wb_param_schema *schema) {
    char owner[160], err[512];
    snprintf(owner, sizeof owner, "%s '%s'", kind, type);
    fprintf(out, "### `%s`\n\n", type);
    if (summary) {
        put_cell(out, summary);
        fputs("\n\n", out);
    }
    fprintf(out, "Selected with `type = \"%s\";`.\n\n", type);
    if (wb_param_schema_check(schema, owner, err, sizeof err) != 0) fprintf(out, "**Broken schema:** %s\n\n", err);
    else put_table(out, schema, 1);
}

static void put_modules(FILE *out, const wb_module_desc *const *modules, int n, wb_module_kind kind,
                        const char *title) {
    int any = 0;
    for (int i = 0; i < n; i++) {
        const wb_module_desc *d = modules[i];
        if (!d || d->kind != kind) continue;
        if (!any) fprintf(out, "## %s\n\n", title);
        any = 1;
        put_typed(out, wb_module_kind_name(kind), d->type_name ? d->type_name : "(unnamed)", d->summary, d->params);
    }
}

static void put_transforms(FILE *out, const wb_module_lookup *lk) {
    if (!lk || !lk->list_transforms || !lk->find_transform) return;
    const char *names[WB_MAX_TRANSFORMS];
    int n = lk->list_transforms(lk->user, names, WB_MAX_TRANSFORMS);
    if (n > WB_MAX_TRANSFORMS) n = WB_MAX_TRANSFORMS;
    if (n > 0) fputs("## Transforms\n\nSteps of `data.*.pipeline`, run in order.\n\n", out);
    for (int i = 0; i < n; i++) put_typed(out, "transform", names[i], NULL, lk->find_transform(lk->user, names[i]));
}

int wb_config_write_reference(FILE *out, const wb_module_desc *const *modules, int n_modules,
                              const wb_module_lookup *lookup) {
    const wb_config_section *root = wb_core_schema();
    fputs("# Configuration reference\n\n"
          "Generated from the schemas of the core and of the plugins (`workbench` writes it); do not edit.\n"
          "Experiments are libconfig files: `@include` bases first (paths relative to the including file),\n"
          "then settings that override them; `--set a.b=value` overrides on the command line.\n\n"
          "## Experiment\n\nTop-level keys.\n\n", out);
    put_table(out, root->params, 0);
    put_sections(out, root->sections, "");
    put_modules(out, modules, n_modules, WB_KIND_BACKBONE, "Backbones");
    put_modules(out, modules, n_modules, WB_KIND_NECK, "Necks");
    put_modules(out, modules, n_modules, WB_KIND_HEAD, "Heads");
    put_modules(out, modules, n_modules, WB_KIND_LOSS, "Losses");
    put_modules(out, modules, n_modules, WB_KIND_DATASET, "Datasets");
    put_transforms(out, lookup);
    return ferror(out) ? -1 : 0;
}
