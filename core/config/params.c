/* wb_params getters over the validated tree. Validation has checked types and
 * filled defaults, so a getter only has to read; asked for a key that is not
 * there (an optional key left out) it returns 0 / NULL. */
#include "params.h"

#include <stdlib.h>

const wb_params *wb_params_of(config_setting_t *group) {
    if (!group) return NULL;
    /* One view per group, kept in its hook so every call returns the same
     * pointer; the config's destructor (free) releases it with the group.
     * Configs made outside wb_config (tests, tools) get that destructor here. */
    if (!group->config->destructor) config_set_destructor(group->config, free);
    wb_params *p = config_setting_get_hook(group);
    if (p) return p;
    p = malloc(sizeof *p);
    if (!p) return NULL;
    p->group = group;
    config_setting_set_hook(group, p);
    return p;
}

static config_setting_t *member(const wb_params *p, const char *key) {
    return p && key ? config_setting_get_member(p->group, key) : NULL;
}

/* Ints are accepted where floats are expected (validation widens them, but
 * groups read before validation may still hold them). */
static double number(const config_setting_t *s) {
    if (!s) return 0.0;
    switch (config_setting_type(s)) {
    case CONFIG_TYPE_FLOAT: return config_setting_get_float(s);
    case CONFIG_TYPE_INT:
    case CONFIG_TYPE_INT64: return (double)config_setting_get_int64(s);
    default: return 0.0;
    }
}

static config_setting_t *element(const wb_params *p, const char *key, int i) {
    config_setting_t *list = member(p, key);
    if (!list || !config_setting_is_aggregate(list) || i < 0) return NULL;
    return config_setting_get_elem(list, (unsigned)i);
}

int wb_params_has(const wb_params *p, const char *key) { return member(p, key) != NULL; }

int64_t wb_params_int(const wb_params *p, const char *key) {
    config_setting_t *s = member(p, key);
    return s && config_setting_is_number(s) ? (int64_t)config_setting_get_int64(s) : 0;
}

double wb_params_float(const wb_params *p, const char *key) { return number(member(p, key)); }

int wb_params_bool(const wb_params *p, const char *key) {
    config_setting_t *s = member(p, key);
    return s && config_setting_type(s) == CONFIG_TYPE_BOOL ? config_setting_get_bool(s) : 0;
}

const char *wb_params_string(const wb_params *p, const char *key) {
    config_setting_t *s = member(p, key);
    return s ? config_setting_get_string(s) : NULL;
}

int wb_params_list_len(const wb_params *p, const char *key) {
    config_setting_t *s = member(p, key);
    return s && (config_setting_is_array(s) || config_setting_is_list(s)) ? config_setting_length(s) : 0;
}

int64_t wb_params_int_at(const wb_params *p, const char *key, int i) {
    config_setting_t *e = element(p, key, i);
    return e && config_setting_is_number(e) ? (int64_t)config_setting_get_int64(e) : 0;
}

double wb_params_float_at(const wb_params *p, const char *key, int i) { return number(element(p, key, i)); }

const char *wb_params_string_at(const wb_params *p, const char *key, int i) {
    config_setting_t *e = element(p, key, i);
    return e ? config_setting_get_string(e) : NULL;
}

const wb_params *wb_params_section(const wb_params *p, const char *key) {
    config_setting_t *s = member(p, key);
    return s && config_setting_is_group(s) ? wb_params_of(s) : NULL;
}
