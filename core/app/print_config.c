#include "print_config.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../config/config_internal.h"

/* Comments start at this column when the setting leaves room. */
enum { COMMENT_COLUMN = 56 };

typedef struct printer {
    FILE *out;
    const char *const *overrides;
    int n_overrides;
} printer;

static void origin_of(const printer *p, const config_setting_t *s, char *buf, size_t n) {
    const char *file = config_setting_source_file(s);
    unsigned line = config_setting_source_line(s);
    if (!file) snprintf(buf, n, "default");
    else if (strcmp(file, WB_CONFIG_CMDLINE) == 0 && line >= 1 && (int)line <= p->n_overrides)
        snprintf(buf, n, "--set %s", p->overrides[line - 1]);
    else if (line) snprintf(buf, n, "%s:%u", file, line);
    else snprintf(buf, n, "%s", file);
}

/* A float as libconfig reads it back: the shortest digits that round-trip, always with a '.' or exponent. */
static void float_text(double v, char *buf, size_t n) {
    for (int digits = 6; digits <= 17; digits++) {
        snprintf(buf, n, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (isfinite(v) && !strpbrk(buf, ".e")) strncat(buf, ".0", n - strlen(buf) - 1);
}

static void string_text(const char *s, FILE *out) {
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(out, "\\%c", *c);
        else if (*c == '\n') fputs("\\n", out);
        else if (*c == '\t') fputs("\\t", out);
        else if (*c < 0x20 || *c == 0x7f) fprintf(out, "\\x%02x", *c);
        else fputc(*c, out);
    }
    fputc('"', out);
}

static void scalar(const config_setting_t *s, FILE *out) {
    char buf[64];
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT: fprintf(out, "%d", config_setting_get_int(s)); break;
    case CONFIG_TYPE_INT64: fprintf(out, "%" PRId64 "L", (int64_t)config_setting_get_int64(s)); break;
    case CONFIG_TYPE_FLOAT: float_text(config_setting_get_float(s), buf, sizeof buf), fputs(buf, out); break;
    case CONFIG_TYPE_BOOL: fputs(config_setting_get_bool(s) ? "true" : "false", out); break;
    case CONFIG_TYPE_STRING: string_text(config_setting_get_string(s), out); break;
    default: break;
    }
}

static void comment(const printer *p, const config_setting_t *s, long used) {
    char origin[1024];
    origin_of(p, s, origin, sizeof origin);
    fprintf(p->out, "%*s  # %s\n", used < COMMENT_COLUMN ? (int)(COMMENT_COLUMN - used) : 0, "", origin);
}

static void setting(const printer *p, const config_setting_t *s, int depth, const char *sep);

/* Members of a group or elements of a list, one a line. */
static void children(const printer *p, const config_setting_t *s, int depth, int list) {
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++)
        setting(p, config_setting_get_elem(s, (unsigned)i), depth, list ? (i + 1 < n ? "," : "") : ";");
}

/* One setting at an indentation of depth; sep ends it (";" in groups, "," between list elements). */
static void setting(const printer *p, const config_setting_t *s, int depth, const char *sep) {
    FILE *out = p->out;
    const char *name = config_setting_name(s);
    int type = config_setting_type(s);
    if (type == CONFIG_TYPE_GROUP || type == CONFIG_TYPE_LIST) {
        fprintf(out, "%*s%s%s%s\n", 2 * depth, "", name ? name : "", name ? " = " : "",
                type == CONFIG_TYPE_GROUP ? "{" : "(");
        children(p, s, depth + 1, type == CONFIG_TYPE_LIST);
        fprintf(out, "%*s%s%s\n", 2 * depth, "", type == CONFIG_TYPE_GROUP ? "}" : ")", sep);
        return;
    }
    /* the line goes through a buffer first: the comment's column depends on its length */
    char *line = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&line, &len);
    if (!m) return;
    fprintf(m, "%*s%s%s", 2 * depth, "", name ? name : "", name ? " = " : "");
    if (type == CONFIG_TYPE_ARRAY) {
        fputc('[', m);
        for (int i = 0; i < config_setting_length(s); i++) {
            if (i) fputs(", ", m);
            scalar(config_setting_get_elem(s, (unsigned)i), m);
        }
        fputc(']', m);
    } else {
        scalar(s, m);
    }
    fputs(sep, m);
    fclose(m);
    fputs(line, out);
    comment(p, s, (long)len);
    free(line);
}

void wb_print_config(wb_config *cfg, const char *const *overrides, int n_overrides, FILE *out) {
    printer p = {out, overrides, n_overrides};
    fprintf(out, "# The effective config: every value, then where it comes from (FILE:LINE, --set, hyp FILE:LINE,\n"
                 "# or default: the schema's).\n");
    children(&p, config_root_setting(wb_config_tree(cfg)), 0, 0);
}
