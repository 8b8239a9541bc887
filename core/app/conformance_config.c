/* The checked module's config section. It sits where a head sits in an
 * experiment, so each --set goes through the same override code as
 * `run --set model.head.KEY=VALUE` (libconfig values, bare words as text,
 * messages naming the command line) and the same schema validation; messages
 * show the keys as the user typed them, without that prefix. */
#include <stdarg.h>
#include <string.h>
#include "../config/params.h"
#include "../config/schema_table.h"
#include "conformance_kit.h"

#define SECTION "model.head"
#define MAX_AUTO 32

typedef struct assignments {
    char text[MAX_AUTO][128];
    int n;
} assignments;

__attribute__((format(printf, 2, 3))) static void add(assignments *a, const char *fmt, ...) {
    if (a->n == MAX_AUTO) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->text[a->n++], sizeof a->text[0], fmt, ap);
    va_end(ap);
}

const wb_params *wb_gc_params(wb_config *cfg) { return wb_config_params(cfg, SECTION); }

bool wb_gc_user_sets(const wb_conformance_opts *o, const char *key) {
    size_t len = strlen(key);
    for (int i = 0; i < o->n_params; i++)
        if (strncmp(o->params[i], key, len) == 0 && (o->params[i][len] == '=' || o->params[i][len] == '.'))
            return true;
    return false;
}

static void print_errors(const wb_config *cfg, FILE *out) {
    static const char prefix[] = SECTION ".";
    for (int i = 0; i < wb_config_error_count(cfg); i++) {
        char line[4096];
        const char *e = wb_config_error(cfg, i);
        size_t n = 0;
        while (*e && n + 1 < sizeof line) {
            if (strncmp(e, prefix, sizeof prefix - 1) == 0) e += sizeof prefix - 1;
            else line[n++] = *e++;
        }
        line[n] = '\0';
        fprintf(out, "%s\n", line);
    }
}

static void apply(wb_config *cfg, const char *assignment) {
    char path[4096];
    snprintf(path, sizeof path, SECTION ".%s", assignment);
    wb_config_override(cfg, path);
}

static wb_config *build(wb_registry *reg, const wb_module_desc *d, const wb_conformance_opts *o,
                        const assignments *automatic, const char *extra, FILE *out) {
    wb_config *cfg = wb_config_new();
    if (!cfg) {
        fprintf(out, "error: out of memory\n");
        return NULL;
    }
    /* The user's values first, so messages count them from 1 as `run` does;
     * the automatic ones never touch a key the user set. */
    for (int i = 0; i < o->n_params; i++) apply(cfg, o->params[i]);
    char type[160];
    snprintf(type, sizeof type, "type=\"%s\"", d->type_name);
    apply(cfg, type);
    for (int i = 0; i < automatic->n; i++) apply(cfg, automatic->text[i]);
    if (extra) apply(cfg, extra);
    wb_module_lookup lk = wb_registry_module_lookup(reg);
    if (wb_config_error_count(cfg) == 0) wb_config_validate_module(cfg, SECTION, d->kind, &lk);
    if (wb_config_error_count(cfg) > 0) {
        print_errors(cfg, out);
        wb_config_free(cfg);
        return NULL;
    }
    return cfg;
}

static int64_t clamp_int(int64_t v, const wb_param_schema *p) {
    if (p->has_range && v < (int64_t)p->min) return (int64_t)p->min;
    if (p->has_range && v > (int64_t)p->max) return (int64_t)p->max;
    return v;
}

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* Required integers (num_classes) have no default: a small class count. */
static void fill_required(const wb_module_desc *d, const wb_conformance_opts *o, assignments *a, FILE *out) {
    for (int i = 0; d->params && i < WB_SCHEMA_MAX_ENTRIES; i++) {
        const wb_param_schema *p = wb_schema_entry(d->params, i);
        if (!p->name) break;
        if (!p->required || p->type != WB_PARAM_INT || wb_gc_user_sets(o, p->name)) continue;
        add(a, "%s=%lld", p->name, (long long)clamp_int(3, p));
        fprintf(out, "note: %s (required) = %lld; change it with --set %s=N\n", p->name,
                (long long)clamp_int(3, p), p->name);
    }
}

/* --quick: widths (integer keys ending in channels/width/widths) at most 8,
 * stacked conv counts (keys ending in _convs) at most 1, a `depth` at its
 * smallest; the user's --set keys are left alone. */
static void shrink(const wb_module_desc *d, const wb_conformance_opts *o, const wb_params *v, assignments *a,
                   FILE *out) {
    char said[1024] = "";
    size_t len = 0;
    for (int i = 0; d->params && i < WB_SCHEMA_MAX_ENTRIES; i++) {
        const wb_param_schema *p = wb_schema_entry(d->params, i);
        if (!p->name) break;
        if (wb_gc_user_sets(o, p->name) || !wb_params_has(v, p->name)) continue;
        bool wide = ends_with(p->name, "channels") || ends_with(p->name, "width") || ends_with(p->name, "widths");
        if (p->type == WB_PARAM_INT) {
            int64_t was = wb_params_int(v, p->name), now = was;
            if (wide) now = clamp_int(was < 8 ? was : 8, p);
            else if (ends_with(p->name, "_convs")) now = clamp_int(was < 1 ? was : 1, p);
            else if (strcmp(p->name, "depth") == 0 && p->has_range) now = clamp_int((int64_t)p->min, p);
            if (now == was) continue;
            add(a, "%s=%lld", p->name, (long long)now);
            len += (size_t)snprintf(said + len, len < sizeof said ? sizeof said - len : 0, "%s%s %lld -> %lld",
                                    len ? ", " : "", p->name, (long long)was, (long long)now);
        } else if (p->type == WB_PARAM_INT_LIST && wide) {
            char list[96] = "[";
            bool changed = false;
            for (int k = 0, n = wb_params_list_len(v, p->name); k < n && strlen(list) + 16 < sizeof list; k++) {
                int64_t was = wb_params_int_at(v, p->name, k), now = clamp_int(was < 8 ? was : 8, p);
                changed |= now != was;
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%lld", k ? ", " : "", (long long)now);
            }
            strcat(list, "]");
            if (!changed) continue;
            add(a, "%s=%s", p->name, list);
            len += (size_t)snprintf(said + len, len < sizeof said ? sizeof said - len : 0, "%s%s -> %s",
                                    len ? ", " : "", p->name, list);
        }
    }
    if (len) fprintf(out, "quick: %s\n", said);
}

wb_config *wb_gc_config(wb_registry *reg, const wb_module_desc *d, const wb_conformance_opts *o, const char *extra,
                        FILE *out) {
    assignments automatic = {.n = 0};
    fill_required(d, o, &automatic, out);
    wb_config *cfg = build(reg, d, o, &automatic, extra, out);
    if (!cfg || !o->quick) return cfg;
    int before = automatic.n;
    shrink(d, o, wb_gc_params(cfg), &automatic, out);
    if (automatic.n == before) return cfg;
    wb_config_free(cfg);
    return build(reg, d, o, &automatic, extra, out);
}
