/* Copy, merge and describe libconfig settings. */
#include "config_tree.h"

#include <ctype.h>
#include "config_text.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int copy_scalar(config_setting_t *dst, const config_setting_t *src) {
    switch (config_setting_type(src)) {
    case CONFIG_TYPE_INT: return config_setting_set_int(dst, config_setting_get_int(src));
    case CONFIG_TYPE_INT64: return config_setting_set_int64(dst, config_setting_get_int64(src));
    case CONFIG_TYPE_FLOAT: return config_setting_set_float(dst, config_setting_get_float(src));
    case CONFIG_TYPE_BOOL: return config_setting_set_bool(dst, config_setting_get_bool(src));
    case CONFIG_TYPE_STRING: return config_setting_set_string(dst, config_setting_get_string(src));
    default: return CONFIG_FALSE;
    }
}

config_setting_t *wb_tree_copy(config_setting_t *parent, const char *name, const config_setting_t *src) {
    config_setting_t *dst = config_setting_add(parent, name, config_setting_type(src));
    if (!dst) return NULL;
    dst->line = src->line;
    dst->file = src->file;
    if (config_setting_is_aggregate(src)) {
        int is_group = config_setting_is_group(src);
        for (int i = 0; i < config_setting_length(src); i++) {
            const config_setting_t *e = config_setting_get_elem(src, (unsigned)i);
            if (!wb_tree_copy(dst, is_group ? config_setting_name(e) : NULL, e)) return NULL;
        }
        return dst;
    }
    config_setting_set_format(dst, config_setting_get_format(src)); /* keeps hex ints hex */
    return copy_scalar(dst, src) ? dst : NULL;
}

static const char *string_member(const config_setting_t *g, const char *key) {
    const config_setting_t *m = config_setting_is_group(g) ? config_setting_get_member(g, key) : NULL;
    return m && config_setting_type(m) == CONFIG_TYPE_STRING ? config_setting_get_string(m) : NULL;
}

static int module_type_changes(const config_setting_t *base, const config_setting_t *derived) {
    const char *a = string_member(base, "type");
    const char *b = string_member(derived, "type");
    return a && b && strcmp(a, b) != 0;
}

int wb_tree_merge(config_setting_t *dst, const config_setting_t *src) {
    for (int i = 0; i < config_setting_length(src); i++) {
        const config_setting_t *s = config_setting_get_elem(src, (unsigned)i);
        const char *name = config_setting_name(s);
        config_setting_t *d = config_setting_get_member(dst, name);
        if (d && config_setting_is_group(d) && config_setting_is_group(s) && !module_type_changes(d, s)) {
            if (wb_tree_merge(d, s) != 0) return -1;
            continue;
        }
        if (d) config_setting_remove(dst, name);
        if (!wb_tree_copy(dst, name, s)) return -1;
    }
    return 0;
}

void wb_tree_set_origin(config_setting_t *s, const char *file, unsigned line) {
    s->file = file;
    if (line) s->line = line;
    if (config_setting_is_aggregate(s))
        for (int i = 0; i < config_setting_length(s); i++)
            wb_tree_set_origin(config_setting_get_elem(s, (unsigned)i), file, line);
}

typedef struct first_problem {
    char *err;
    size_t size;
    int seen;
} first_problem;

static void keep_first(void *user, unsigned line, const char *msg) {
    (void)line; /* a value is one line of its own */
    first_problem *f = user;
    if (!f->seen++) snprintf(f->err, f->size, "%s", msg);
}

config_setting_t *wb_tree_parse_value(config_t *tmp, const char *text, char *err, size_t err_size) {
    config_init(tmp);
    size_t n = strlen(text) + 16;
    char *buf = malloc(n);
    if (!buf) {
        snprintf(err, err_size, "out of memory");
        return NULL;
    }
    snprintf(buf, n, "v = %s\n;", text); /* newline: a trailing // comment cannot eat the ';' */
    first_problem problem = { err, err_size, 0 };
    char *prepared = wb_config_text_prepare(buf, strlen(buf), NULL, keep_first, &problem);
    free(buf);
    if (!prepared) return NULL;
    int ok = config_read_string(tmp, prepared);
    free(prepared);
    if (!ok) {
        snprintf(err, err_size, "%s", config_error_text(tmp));
        return NULL;
    }
    if (config_setting_length(config_root_setting(tmp)) != 1) {
        snprintf(err, err_size, "expected one value, got several settings");
        return NULL;
    }
    return config_lookup(tmp, "v");
}

static size_t path_into(const config_setting_t *s, char *buf, size_t size) {
    const config_setting_t *parent = config_setting_parent(s);
    if (!parent) return 0;
    size_t n = path_into(parent, buf, size);
    int w;
    if (config_setting_is_group(parent))
        w = snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "." : "", config_setting_name(s));
    else
        w = snprintf(buf + n, n < size ? size - n : 0, "[%d]", config_setting_index(s));
    return n + (size_t)(w > 0 ? w : 0);
}

void wb_tree_path(const config_setting_t *s, char *buf, size_t size) {
    if (size == 0) return;
    buf[0] = '\0';
    if (path_into(s, buf, size) >= size) buf[size - 1] = '\0';
}

const char *wb_tree_type_name(const config_setting_t *s) {
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return "an int";
    case CONFIG_TYPE_FLOAT: return "a float";
    case CONFIG_TYPE_BOOL: return "a bool";
    case CONFIG_TYPE_STRING: return "a string";
    case CONFIG_TYPE_GROUP: return "a group";
    case CONFIG_TYPE_LIST: return "a list";
    case CONFIG_TYPE_ARRAY: return "an array";
    default: return "nothing";
    }
}

int wb_tree_valid_name(const char *name) {
    if (!name || !(isalpha((unsigned char)name[0]) || name[0] == '*')) return 0;
    for (const char *p = name + 1; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '*')) return 0;
    return 1;
}
