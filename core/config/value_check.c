/* Type, range and choice checks of one value, with messages saying what was
 * expected and what was found. */
#include "value_check.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "core_schema.h"
#include "suggest.h"

#define WB_MAX_CHOICES 64

const char *wb_param_type_name(wb_param_type t) {
    switch (t) {
    case WB_PARAM_INT: return "int";
    case WB_PARAM_FLOAT: return "float";
    case WB_PARAM_BOOL: return "bool";
    case WB_PARAM_STRING: return "string";
    case WB_PARAM_CHOICE: return "choice";
    case WB_PARAM_INT_LIST: return "int list";
    case WB_PARAM_FLOAT_LIST: return "float list";
    case WB_PARAM_STRING_LIST: return "string list";
    case WB_PARAM_MODULE: return "module";
    default: return t == WB_PARAM_TRANSFORM_LIST ? "transform list" : "unknown";
    }
}

static const char *expected_text(wb_param_type t) {
    switch (t) {
    case WB_PARAM_INT: return "an int";
    case WB_PARAM_FLOAT: return "a float";
    case WB_PARAM_BOOL: return "a bool (true or false)";
    case WB_PARAM_STRING: return "a string";
    case WB_PARAM_CHOICE: return "a string";
    case WB_PARAM_INT_LIST: return "a list of ints, e.g. [1, 2]";
    case WB_PARAM_FLOAT_LIST: return "a list of floats, e.g. [0.5, 1.0]";
    case WB_PARAM_STRING_LIST: return "a list of strings, e.g. [\"a\", \"b\"]";
    case WB_PARAM_MODULE: return "a group { type = \"...\"; ... }";
    default: return "a list of transforms ( { type = \"...\"; ... }, ... )";
    }
}

void wb_format_number(char *buf, size_t size, double v) {
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, size, "%.0f", v);
    else
        snprintf(buf, size, "%g", v);
}

static double number_of(const config_setting_t *s) {
    return config_setting_type(s) == CONFIG_TYPE_FLOAT ? config_setting_get_float(s)
                                                       : (double)config_setting_get_int64(s);
}

static int is_int(const config_setting_t *s) {
    return config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64;
}

/* Ints compare as ints: a double holds 53 bits, so 9007199254740993 would
 * pass a maximum of 9007199254740992. A bound beyond int64 bounds nothing. */
static int in_range(const wb_param_schema *p, const config_setting_t *s) {
    if (!p->has_range) return 1;
    if (!is_int(s)) return number_of(s) >= p->min && number_of(s) <= p->max;
    long long v = config_setting_get_int64(s);
    int above_min = p->min < -0x1p63 || v >= (long long)ceil(p->min);
    int below_max = p->max >= 0x1p63 || v <= (long long)floor(p->max);
    return above_min && below_max;
}

/* The value as written: ints exactly, not through a double. */
static void format_value(char *buf, size_t size, const config_setting_t *s) {
    if (is_int(s))
        snprintf(buf, size, "%lld", (long long)config_setting_get_int64(s));
    else
        wb_format_number(buf, size, number_of(s));
}

/* "an int (5)", "a string (\"abc\")", "a group". */
static void describe_found(const config_setting_t *s, char *buf, size_t size) {
    char num[64];
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64:
    case CONFIG_TYPE_FLOAT:
        format_value(num, sizeof num, s);
        snprintf(buf, size, "%s (%s)", config_setting_type(s) == CONFIG_TYPE_FLOAT ? "a float" : "an int", num);
        break;
    case CONFIG_TYPE_BOOL: snprintf(buf, size, "a bool (%s)", config_setting_get_bool(s) ? "true" : "false"); break;
    case CONFIG_TYPE_STRING: snprintf(buf, size, "a string (\"%s\")", config_setting_get_string(s)); break;
    default: {
        const char *names[] = { "a group", "a list", "an array" };
        int t = config_setting_type(s);
        snprintf(buf, size, "%s", names[t == CONFIG_TYPE_GROUP ? 0 : t == CONFIG_TYPE_LIST ? 1 : 2]);
    }
    }
}

static int type_error(const config_setting_t *s, const wb_param_schema *p, const char *what, char *err,
                      size_t err_size) {
    char found[160];
    describe_found(s, found, sizeof found);
    snprintf(err, err_size, "%s: expected %s, got %s", what, expected_text(p->type), found);
    return -1;
}

/* libconfig has no call that changes a setting's type in place, and removing
 * and re-adding it would lose its source line and hook: write the fields. */
static void widen_to_float(config_setting_t *s) {
    if (config_setting_type(s) == CONFIG_TYPE_FLOAT) return;
    double v = (double)config_setting_get_int64(s);
    s->type = CONFIG_TYPE_FLOAT;
    s->format = CONFIG_FORMAT_DEFAULT;
    s->value.fval = v;
}

static int range_error(const wb_param_schema *p, const char *what, int index, const config_setting_t *s, char *err,
                       size_t err_size) {
    char val[64], lo[64], hi[64], idx[32] = "";
    format_value(val, sizeof val, s);
    wb_format_number(lo, sizeof lo, p->min);
    wb_format_number(hi, sizeof hi, p->max);
    if (index >= 0) snprintf(idx, sizeof idx, "[%d]", index);
    /* The doc says what the key means, often why its range ends where it does. */
    int doc = p->doc && p->doc[0];
    snprintf(err, err_size, "%s%s = %s is out of range [%s, %s]%s%s%s", what, idx, val, lo, hi, doc ? " (" : "",
             doc ? p->doc : "", doc ? ")" : "");
    return -1;
}

static int check_choice(const config_setting_t *s, const wb_param_schema *p, const char *what, char *err,
                        size_t err_size) {
    const char *v = config_setting_get_string(s);
    const char *names[WB_MAX_CHOICES];
    int n = 0;
    char list[512] = "";
    size_t len = 0;
    for (const char *const *c = p->choices; c && *c && n < WB_MAX_CHOICES; c++) {
        if (strcmp(*c, v) == 0) return 0;
        names[n++] = *c;
        len += (size_t)snprintf(list + len, len < sizeof list ? sizeof list - len : 0, "%s%s", n > 1 ? ", " : "", *c);
    }
    char hint[128];
    snprintf(err, err_size, "%s = \"%s\" is not one of: %s%s", what, v, list,
             wb_suggest_text(hint, sizeof hint, v, names, n));
    return -1;
}

static int check_list(config_setting_t *s, const wb_param_schema *p, const char *what, char *err, size_t err_size) {
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) return type_error(s, p, what, err, err_size);
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        config_setting_t *e = config_setting_get_elem(s, (unsigned)i);
        int ok = p->type == WB_PARAM_INT_LIST     ? is_int(e)
                 : p->type == WB_PARAM_FLOAT_LIST ? config_setting_is_number(e)
                                                  : config_setting_type(e) == CONFIG_TYPE_STRING;
        if (!ok) {
            char found[160];
            describe_found(e, found, sizeof found);
            snprintf(err, err_size, "%s[%d]: expected %s, got %s", what, i, expected_text(p->type), found);
            return -1;
        }
        if (p->type != WB_PARAM_STRING_LIST && !in_range(p, e)) return range_error(p, what, i, e, err, err_size);
    }
    for (int i = 0; p->type == WB_PARAM_FLOAT_LIST && i < n; i++)
        widen_to_float(config_setting_get_elem(s, (unsigned)i));
    s->type = CONFIG_TYPE_ARRAY; /* same storage as a list; now every element has one type */
    return 0;
}

int wb_value_check(config_setting_t *s, const wb_param_schema *p, const char *what, char *err, size_t err_size) {
    switch (p->type) {
    case WB_PARAM_INT:
        if (!is_int(s)) return type_error(s, p, what, err, err_size);
        return in_range(p, s) ? 0 : range_error(p, what, -1, s, err, err_size);
    case WB_PARAM_FLOAT:
        if (!config_setting_is_number(s)) return type_error(s, p, what, err, err_size);
        if (!in_range(p, s)) return range_error(p, what, -1, s, err, err_size);
        widen_to_float(s);
        return 0;
    case WB_PARAM_BOOL:
        return config_setting_type(s) == CONFIG_TYPE_BOOL ? 0 : type_error(s, p, what, err, err_size);
    case WB_PARAM_STRING:
        return config_setting_type(s) == CONFIG_TYPE_STRING ? 0 : type_error(s, p, what, err, err_size);
    case WB_PARAM_CHOICE:
        if (config_setting_type(s) != CONFIG_TYPE_STRING) return type_error(s, p, what, err, err_size);
        return check_choice(s, p, what, err, err_size);
    case WB_PARAM_INT_LIST:
    case WB_PARAM_FLOAT_LIST:
    case WB_PARAM_STRING_LIST: return check_list(s, p, what, err, err_size);
    case WB_PARAM_MODULE:
        return config_setting_is_group(s) ? 0 : type_error(s, p, what, err, err_size);
    default:
        if (p->type == WB_PARAM_TRANSFORM_LIST && (config_setting_is_list(s) || config_setting_is_array(s)))
            return 0;
        return type_error(s, p, what, err, err_size);
    }
}
