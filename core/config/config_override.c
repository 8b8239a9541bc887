/* `--set a.b.c=value` overrides. The value is typed by libconfig's own
 * syntax; the path is checked against the core schema down to the first
 * module section or pipeline, below which validation checks it against the
 * module's schema (this runs before plugins are loaded: plugin_dirs itself
 * may be overridden). Missing groups on the path are created. */
#include "config_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config_tree.h"
#include "core_schema.h"
#include "suggest.h"

#define WB_MAX_PATH_DEPTH 32

typedef struct override {
    wb_config *cfg;
    const char *text;  /* the whole assignment, for messages */
    unsigned index;    /* 1-based position among the overrides */
} override;

__attribute__((format(printf, 2, 3))) static void override_error(const override *o, const char *fmt, ...) {
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wb_cfg_error_file(o->cfg, WB_CONFIG_CMDLINE, o->index, "--set %s: %s", o->text, msg);
}

/* An integer libconfig could not take (one beyond 64 bits) is a mistake, not text. */
static int is_integer(const char *v) {
    v += *v == '-' || *v == '+';
    int hex = v[0] == '0' && (v[1] == 'x' || v[1] == 'X');
    v += hex ? 2 : 0;
    return *v && strspn(v, hex ? "0123456789abcdefABCDEF" : "0123456789") == strlen(v);
}

/* A word with no libconfig meaning that is clearly meant as text
 * (backend=cuda, work_dir=work_dirs/exp-1). */
static int is_bare_word(const char *v) {
    if (!*v || is_integer(v)) return 0;
    for (const char *p = v; *p; p++)
        if (isspace((unsigned char)*p) || strchr("\"[](){},;=#", *p)) return 0;
    return 1;
}

static int is_index(const char *seg) {
    if (!*seg) return 0;
    for (const char *p = seg; *p; p++)
        if (!isdigit((unsigned char)*p)) return 0;
    return 1;
}

/* Walks the core schema one segment deeper. *sec becomes NULL once the path
 * enters a module section or a pipeline (checked later by validation); *param
 * is the schema of the last segment when it is a core key. */
static int schema_step(override *o, const wb_config_section **sec, const wb_param_schema **param,
                       const char *seg, const char *prefix, int last) {
    *param = NULL;
    if (!*sec) return 0;
    const wb_config_section *child = wb_section_child(*sec, seg);
    const wb_param_schema *p = wb_section_param(*sec, seg);
    if (child) {
        *sec = child;
        return 0;
    }
    if (!p) {
        const char *names[64];
        int n = wb_section_keys(*sec, names, 64);
        const char *close = wb_suggest(seg, names, n);
        const char *owner = prefix[0] ? prefix : "the experiment";
        if (close) {
            override_error(o, "unknown key '%s' in %s; did you mean '%s'?", seg, owner, close);
        } else {
            char list[512] = "";
            for (int i = 0, len = 0; i < n && len < (int)sizeof list; i++)
                len += snprintf(list + len, sizeof list - (size_t)len, "%s%s", i ? ", " : "", names[i]);
            override_error(o, "unknown key '%s' in %s; known keys: %s", seg, owner, list);
        }
        return -1;
    }
    if (!last && p->type != WB_PARAM_MODULE && p->type != WB_PARAM_TRANSFORM_LIST) {
        override_error(o, "%s%s%s is a single value, it has no keys", prefix, prefix[0] ? "." : "", seg);
        return -1;
    }
    *param = p;
    *sec = NULL;
    return 0;
}

/* Descends one non-final segment, creating a missing group. */
static config_setting_t *descend(override *o, config_setting_t *cur, const char *seg, const char *prefix) {
    if (is_index(seg)) {
        if (!config_setting_is_list(cur) && !config_setting_is_array(cur)) {
            override_error(o, "%s is not a list, it cannot be indexed with %s", prefix, seg);
            return NULL;
        }
        /* Compared as text-checked digits, never narrowed: 4294967296 is not 0. */
        errno = 0;
        unsigned long long i = strtoull(seg, NULL, 10);
        unsigned n = (unsigned)config_setting_length(cur);
        if (errno == ERANGE || i >= n) {
            override_error(o, "index %s is past the end of %s (%u elements)", seg, prefix, n);
            return NULL;
        }
        return config_setting_get_elem(cur, (unsigned)i);
    }
    if (!config_setting_is_group(cur)) {
        override_error(o, "%s is %s, not a group", prefix, wb_tree_type_name(cur));
        return NULL;
    }
    config_setting_t *child = config_setting_get_member(cur, seg);
    if (!child) {
        child = config_setting_add(cur, seg, CONFIG_TYPE_GROUP);
        if (child) wb_tree_set_origin(child, WB_CONFIG_CMDLINE, o->index);
    }
    if (child && !config_setting_is_aggregate(child))
        override_error(o, "%s%s%s is %s, not a group", prefix, prefix[0] ? "." : "", seg, wb_tree_type_name(child));
    return child && config_setting_is_aggregate(child) ? child : NULL;
}

/* Core string keys take an unquoted number or bool as text (--set work_dir=2024). */
static int wants_text(const wb_param_schema *p, const config_setting_t *v, const char *raw) {
    return p && (p->type == WB_PARAM_STRING || p->type == WB_PARAM_CHOICE) && config_setting_is_scalar(v) &&
           config_setting_type(v) != CONFIG_TYPE_STRING && raw[0] != '"';
}

/* Merges `name = value` into group like one more config layer would. */
static int assign(override *o, config_setting_t *group, const char *name, const char *raw,
                  const wb_param_schema *p) {
    config_t parsed, layer;
    char err[256];
    config_setting_t *v = wb_tree_parse_value(&parsed, raw, err, sizeof err);
    if (!v && is_bare_word(raw)) {
        config_destroy(&parsed);
        config_init(&parsed);
        v = config_setting_add(config_root_setting(&parsed), "v", CONFIG_TYPE_STRING);
        config_setting_set_string(v, raw);
    } else if (!v) {
        override_error(o, "cannot read the value '%s' (%s); quote text with spaces or symbols: key='\"text\"'", raw,
                       err);
        config_destroy(&parsed);
        return -1;
    }
    if (wants_text(p, v, raw)) {
        config_setting_remove(config_root_setting(&parsed), "v");
        v = config_setting_add(config_root_setting(&parsed), "v", CONFIG_TYPE_STRING);
        config_setting_set_string(v, raw);
    }
    config_init(&layer);
    config_setting_t *copy = wb_tree_copy(config_root_setting(&layer), name, v);
    int rc = copy ? 0 : -1;
    if (copy) {
        wb_tree_set_origin(copy, WB_CONFIG_CMDLINE, o->index);
        rc = wb_tree_merge(group, config_root_setting(&layer));
    }
    if (rc != 0) override_error(o, "out of memory");
    config_destroy(&layer);
    config_destroy(&parsed);
    return rc;
}

static int apply(override *o, char *path, const char *raw) {
    char *segs[WB_MAX_PATH_DEPTH];
    int n = 0;
    for (char *save = NULL, *s = strtok_r(path, ".", &save); s; s = strtok_r(NULL, ".", &save)) {
        if (n == WB_MAX_PATH_DEPTH) {
            override_error(o, "the key path is deeper than %d levels", WB_MAX_PATH_DEPTH);
            return -1;
        }
        segs[n++] = s;
    }
    if (n == 0 || is_index(segs[n - 1])) {
        override_error(o, "expected key.path=value ending with a key name (to change a list, set it whole: key=[...])");
        return -1;
    }
    const wb_config_section *sec = wb_core_schema();
    const wb_param_schema *param = NULL;
    config_setting_t *cur = config_root_setting(&o->cfg->tree);
    char prefix[512] = "";
    for (int i = 0; i < n; i++) {
        int last = i == n - 1;
        if (!is_index(segs[i]) && !wb_tree_valid_name(segs[i])) {
            override_error(o, "'%s' is not a valid key name", segs[i]);
            return -1;
        }
        if (!is_index(segs[i]) && schema_step(o, &sec, &param, segs[i], prefix, last) != 0) return -1;
        if (last) return assign(o, cur, segs[i], raw, param);
        if (!(cur = descend(o, cur, segs[i], prefix))) return -1;
        size_t len = strlen(prefix);
        if (is_index(segs[i]))
            snprintf(prefix + len, sizeof prefix - len, "[%s]", segs[i]);
        else
            snprintf(prefix + len, sizeof prefix - len, "%s%s", len ? "." : "", segs[i]);
    }
    return 0;
}

int wb_config_override(wb_config *cfg, const char *assignment) {
    override o = { cfg, assignment, (unsigned)++cfg->n_overrides };
    const char *eq = strchr(assignment, '=');
    if (!eq || eq == assignment || !eq[1]) {
        override_error(&o, "expected key.path=value");
        return cfg->n_errors;
    }
    char *path = strndup(assignment, (size_t)(eq - assignment));
    if (!path) {
        override_error(&o, "out of memory");
        return cfg->n_errors;
    }
    apply(&o, path, eq + 1);
    free(path);
    return cfg->n_errors;
}
