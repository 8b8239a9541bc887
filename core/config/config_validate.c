/* Schema validation: every key of the tree is checked against the core
 * schema or, inside module sections and pipeline steps, against the schema the
 * lookup finds for the section's `type`. Defaults are written into the tree.
 * Problems are collected, never fatal, so one run reports all of them. */
#include "config_internal.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "config_tree.h"
#include "core_schema.h"
#include "list_limits.h"
#include "schema_table.h"
#include "suggest.h"
#include "value_check.h"

#define WB_MAX_NAMES 256

typedef struct validator {
    wb_config *cfg;
    const wb_module_lookup *lk;
    bool model_optional;   /* data-only commands: a config without `model` is complete */
} validator;

/* The keys a group may hold: a schema table, nested core sections, and
 * `type` for module sections and transforms. */
typedef struct key_set {
    const wb_param_schema *params;
    const wb_config_section *sections;
    int has_type;
    const char *owner; /* "optimizer", "model.backbone (resnet)", "the experiment" */
} key_set;

static void validate_group(validator *v, config_setting_t *g, const key_set *keys);

static int key_names(const key_set *keys, const char **names, int max) {
    int n = wb_schema_names(keys->params, names, max);
    for (const wb_config_section *c = keys->sections; c && c->name; c++)
        if (n < max) names[n++] = c->name;
    if (keys->has_type && n < max) names[n++] = "type";
    return n;
}

/* "a, b, c" into buf. */
static const char *join(char *buf, size_t size, const char *const *names, int n) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "", names[i]);
    return buf;
}

static void check_unknown_keys(validator *v, const config_setting_t *g, const key_set *keys) {
    const char *names[WB_MAX_NAMES];
    int n = key_names(keys, names, WB_MAX_NAMES);
    for (int i = 0; i < config_setting_length(g); i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(m);
        int known = 0;
        for (int k = 0; k < n && !known; k++) known = strcmp(names[k], name) == 0;
        if (known) continue;
        const char *close = wb_suggest(name, names, n);
        char list[1024];
        if (close)
            wb_cfg_error_at(v->cfg, m, "unknown key '%s' in %s; did you mean '%s'?", name, keys->owner, close);
        else if (n)
            wb_cfg_error_at(v->cfg, m, "unknown key '%s' in %s; known keys: %s", name, keys->owner,
                            join(list, sizeof list, names, n));
        else
            wb_cfg_error_at(v->cfg, m, "unknown key '%s' in %s (it takes no keys)", name, keys->owner);
    }
}

/* Adds `name = <text>` to g; the new setting has no source file of its own,
 * so messages about it point at g. */
static config_setting_t *add_default(validator *v, config_setting_t *g, const char *name, const char *text) {
    config_t tmp;
    char err[256];
    config_setting_t *value = wb_tree_parse_value(&tmp, text, err, sizeof err);
    config_setting_t *added = value ? wb_tree_copy(g, name, value) : NULL;
    if (added) wb_tree_set_origin(added, NULL, 0);
    else wb_cfg_error_at(v->cfg, g, "cannot fill the default of '%s' (%s)", name, value ? "out of memory" : err);
    config_destroy(&tmp);
    return added;
}

/* Pipeline steps are looked up like modules, under this pseudo kind. */
#define KIND_TRANSFORM 0

/* Up to max names of a kind; returns how many were written. */
static int list_types(const validator *v, int kind, const char **names, int max) {
    int n = 0;
    if (kind == KIND_TRANSFORM && v->lk && v->lk->list_transforms) n = v->lk->list_transforms(v->lk->user, names, max);
    if (kind != KIND_TRANSFORM && v->lk && v->lk->list) n = v->lk->list(v->lk->user, (wb_module_kind)kind, names, max);
    return n < max ? n : max;
}

static const char *kind_name(int kind) { return kind == KIND_TRANSFORM ? "transform" : wb_module_kind_name(kind); }

static void unknown_type(validator *v, const config_setting_t *at, int kind, const char *type) {
    char why[2048];
    if (kind != KIND_TRANSFORM && v->lk && v->lk->why_unusable &&
        v->lk->why_unusable(v->lk->user, (wb_module_kind)kind, type, why, sizeof why)) {
        wb_cfg_error_at(v->cfg, at, "%s", why); /* defined twice: not unknown, and listing it would confuse */
        return;
    }
    const char *names[WB_MAX_NAMES];
    int n = list_types(v, kind, names, WB_MAX_NAMES);
    char list[1024], hint[128];
    if (n == 0) {
        wb_cfg_error_at(v->cfg, at, "unknown %s type '%s'; no %s types are %s", kind_name(kind), type, kind_name(kind),
                        kind == KIND_TRANSFORM ? "known" : "loaded (check plugin_dirs and WB_PLUGIN_PATH)");
        return;
    }
    wb_cfg_error_at(v->cfg, at, "unknown %s type '%s'; known %s types: %s%s", kind_name(kind), type,
                    kind_name(kind), join(list, sizeof list, names, n),
                    wb_suggest_text(hint, sizeof hint, type, names, n));
}

/* A module group without `type` takes the schema default's type and the
 * default's keys it does not set itself: `loss_cls = { gamma = 1.5; }`
 * tunes the default loss. (The default parses: the schema holding it was
 * checked before its group was validated.) */
static void take_default_module(config_setting_t *g, const char *text) {
    config_t tmp;
    char err[256];
    config_setting_t *def = wb_tree_parse_value(&tmp, text, err, sizeof err);
    for (int i = 0; def && i < config_setting_length(def); i++) {
        config_setting_t *m = config_setting_get_elem(def, (unsigned)i);
        if (config_setting_get_member(g, config_setting_name(m))) continue;
        config_setting_t *added = wb_tree_copy(g, config_setting_name(m), m);
        if (added) wb_tree_set_origin(added, NULL, 0);
    }
    config_destroy(&tmp);
}

/* The `type` string of a module group or transform, or NULL (reported). */
static const char *type_of(validator *v, config_setting_t *g, int kind, const char *default_text) {
    if (!config_setting_get_member(g, "type") && default_text) take_default_module(g, default_text);
    config_setting_t *t = config_setting_get_member(g, "type");
    char path[256];
    wb_tree_path(g, path, sizeof path);
    if (!t) {
        const char *names[WB_MAX_NAMES];
        char list[1024];
        int n = list_types(v, kind, names, WB_MAX_NAMES);
        wb_cfg_error_at(v->cfg, g, "missing required key 'type' in %s (the %s type; known: %s)", path,
                        kind_name(kind), n ? join(list, sizeof list, names, n)
                                           : "none loaded");
        return NULL;
    }
    if (config_setting_type(t) != CONFIG_TYPE_STRING) {
        wb_cfg_error_at(v->cfg, t, "%s.type: expected a string naming a %s type, got %s", path, kind_name(kind),
                        wb_tree_type_name(t));
        return NULL;
    }
    return config_setting_get_string(t);
}

/* A schema that came from a plugin is checked before it is trusted. */
static int schema_ok(validator *v, const config_setting_t *at, int kind, const char *type,
                     const wb_param_schema *schema) {
    char owner[160], err[512];
    snprintf(owner, sizeof owner, "%s '%s'", kind_name(kind), type);
    if (wb_param_schema_check(schema, owner, err, sizeof err) == 0) return 1;
    wb_cfg_error_at(v->cfg, at, "plugin error: %s; fix the plugin's schema or use another %s type", err,
                    kind_name(kind));
    return 0;
}

/* The schema of a module type or transform; found = 0 when the type is unknown
 * (a module may have a NULL schema: no params). */
static const wb_param_schema *schema_of(const validator *v, int kind, const char *type, int *found) {
    if (kind == KIND_TRANSFORM) {
        const wb_param_schema *t = v->lk && v->lk->find_transform ? v->lk->find_transform(v->lk->user, type) : NULL;
        *found = t != NULL;
        return t;
    }
    const wb_module_desc *d = v->lk && v->lk->find ? v->lk->find(v->lk->user, (wb_module_kind)kind, type) : NULL;
    *found = d != NULL;
    return d ? d->params : NULL;
}

static void validate_typed_group(validator *v, config_setting_t *g, int kind, const char *default_text) {
    const char *type = type_of(v, g, kind, default_text);
    if (!type) return;
    config_setting_t *at = config_setting_get_member(g, "type");
    int found;
    const wb_param_schema *schema = schema_of(v, kind, type, &found);
    if (!found) {
        unknown_type(v, at, kind, type);
        return;
    }
    if (!schema_ok(v, at, kind, type, schema)) return;
    char path[256], owner[400];
    wb_tree_path(g, path, sizeof path);
    snprintf(owner, sizeof owner, "%s (%s)", path, type);
    key_set keys = { schema, NULL, 1, owner };
    validate_group(v, g, &keys);
}

static void validate_pipeline(validator *v, config_setting_t *list) {
    for (int i = 0; i < config_setting_length(list); i++) {
        config_setting_t *step = config_setting_get_elem(list, (unsigned)i);
        char path[256];
        wb_tree_path(step, path, sizeof path);
        if (!config_setting_is_group(step))
            wb_cfg_error_at(v->cfg, step, "%s: expected a transform { type = \"...\"; ... }, got %s", path,
                            wb_tree_type_name(step));
        else
            validate_typed_group(v, step, KIND_TRANSFORM, NULL);
    }
}

/* Core lists the trainer holds in fixed arrays (module lists have no limit here). */
static int list_fits(const config_setting_t *s, const char *path, char *err, size_t err_size) {
    const wb_list_limit *lim = config_setting_is_aggregate(s) ? wb_core_list_limit(path) : NULL;
    return !lim || wb_list_limit_check(lim, config_setting_length(s), err, err_size) == 0;
}

static void validate_param(validator *v, config_setting_t *g, const wb_param_schema *p, const key_set *keys) {
    config_setting_t *s = config_setting_get_member(g, p->name);
    if (!s && p->required) {
        wb_cfg_error_at(v->cfg, g, "missing required key '%s' in %s (%s)", p->name, keys->owner,
                        p->doc ? p->doc : wb_param_type_name(p->type));
        return;
    }
    if (!s && p->default_value) s = add_default(v, g, p->name, p->default_value);
    if (!s) return;
    char path[256], err[1024];
    wb_tree_path(s, path, sizeof path);
    if (wb_value_check(s, p, path, err, sizeof err) != 0 || !list_fits(s, path, err, sizeof err)) {
        wb_cfg_error_at(v->cfg, s, "%s", err);
        return;
    }
    if (p->type == WB_PARAM_MODULE) validate_typed_group(v, s, p->module_kind, p->default_value);
    if (p->type == WB_PARAM_TRANSFORM_LIST) validate_pipeline(v, s);
}

static void validate_group_list(validator *v, config_setting_t *list, const wb_config_section *c) {
    char path[256];
    wb_tree_path(list, path, sizeof path);
    if (!config_setting_is_list(list)) {
        wb_cfg_error_at(v->cfg, list, "%s: expected a list of groups ( { ... }, ... ), got %s", path,
                        wb_tree_type_name(list));
        return;
    }
    char err[512];
    if (!list_fits(list, path, err, sizeof err)) {
        wb_cfg_error_at(v->cfg, list, "%s", err);
        return;
    }
    for (int i = 0; i < config_setting_length(list); i++) {
        config_setting_t *g = config_setting_get_elem(list, (unsigned)i);
        wb_tree_path(g, path, sizeof path);
        if (!config_setting_is_group(g)) {
            wb_cfg_error_at(v->cfg, g, "%s: expected a group { ... }, got %s", path, wb_tree_type_name(g));
            continue;
        }
        key_set sub = { c->params, c->sections, 0, path };
        validate_group(v, g, &sub);
    }
}

static void validate_section(validator *v, config_setting_t *parent, const wb_config_section *c, const key_set *keys) {
    config_setting_t *s = config_setting_get_member(parent, c->name);
    bool may_omit = v->model_optional && parent == config_root_setting(&v->cfg->tree) && strcmp(c->name, "model") == 0;
    if (!s && c->presence == WB_SECTION_REQUIRED && !may_omit) {
        wb_cfg_error_at(v->cfg, parent, "missing required section '%s' in %s (%s)", c->name, keys->owner, c->doc);
        return;
    }
    if (!s && c->presence == WB_SECTION_DEFAULTED) {
        s = config_setting_add(parent, c->name, CONFIG_TYPE_GROUP);
        if (s) wb_tree_set_origin(s, NULL, 0);
    }
    if (!s) return;
    if (c->presence == WB_SECTION_LIST) {
        validate_group_list(v, s, c);
        return;
    }
    char path[256];
    wb_tree_path(s, path, sizeof path);
    if (!config_setting_is_group(s)) {
        wb_cfg_error_at(v->cfg, s, "%s: expected a group { ... }, got %s", path, wb_tree_type_name(s));
        return;
    }
    key_set sub = { c->params, c->sections, 0, path };
    validate_group(v, s, &sub);
}

static void validate_group(validator *v, config_setting_t *g, const key_set *keys) {
    check_unknown_keys(v, g, keys);
    for (int i = 0; keys->params && i < WB_SCHEMA_MAX_ENTRIES; i++) {
        const wb_param_schema *p = wb_schema_entry(keys->params, i);
        if (!p->name) break;
        validate_param(v, g, p, keys);
    }
    for (const wb_config_section *c = keys->sections; c && c->name; c++) validate_section(v, g, c, keys);
}

/* work_dir = "" means work_dirs/<experiment file name without .conf>. */
static void derive_work_dir(wb_config *cfg) {
    config_setting_t *w = config_lookup(&cfg->tree, "work_dir");
    if (!w || config_setting_type(w) != CONFIG_TYPE_STRING || config_setting_get_string(w)[0] || !cfg->n_files) return;
    const char *file = wb_cfg_main_file(cfg);
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    size_t stem = strlen(base);
    if (stem > 5 && strcmp(base + stem - 5, ".conf") == 0) stem -= 5;
    char dir[512];
    snprintf(dir, sizeof dir, "work_dirs/%.*s", (int)stem, base);
    config_setting_set_string(w, dir);
}

static int validate_root(validator *v) {
    const wb_config_section *root = wb_core_schema();
    key_set keys = { root->params, root->sections, 0, "the experiment" };
    validate_group(v, config_root_setting(&v->cfg->tree), &keys);
    derive_work_dir(v->cfg);
    return v->cfg->n_errors;
}

int wb_config_validate(wb_config *cfg, const wb_module_lookup *lookup) {
    validator v = { cfg, lookup, false };
    return validate_root(&v);
}

int wb_config_validate_data(wb_config *cfg, const wb_module_lookup *lookup) {
    validator v = { cfg, lookup, true };
    return validate_root(&v);
}

int wb_config_validate_module(wb_config *cfg, const char *path, int kind, const wb_module_lookup *lookup) {
    validator v = { cfg, lookup, false };
    config_setting_t *g = config_lookup(&cfg->tree, path);
    if (!g || config_setting_type(g) != CONFIG_TYPE_GROUP) {
        wb_cfg_error_file(cfg, wb_cfg_main_file(cfg), 0, "'%s' is not a group", path);
        return cfg->n_errors;
    }
    validate_typed_group(&v, g, kind, NULL);
    return cfg->n_errors;
}
