/* wb_params: a validated, defaulted config section handed to a module.
 * It wraps a libconfig group of the effective config; the getters behind
 * the host table read it (types are guaranteed by schema validation). */
#ifndef WB_CORE_PARAMS_H
#define WB_CORE_PARAMS_H

#include <libconfig.h>
#include <workbench/types.h>

struct wb_params {
    config_setting_t *group;
};

/* The wb_params view of a group (lives as long as the config). */
const wb_params *wb_params_of(config_setting_t *group);

int wb_params_has(const wb_params *p, const char *key);
int64_t wb_params_int(const wb_params *p, const char *key);
double wb_params_float(const wb_params *p, const char *key);
int wb_params_bool(const wb_params *p, const char *key);
const char *wb_params_string(const wb_params *p, const char *key);
int wb_params_list_len(const wb_params *p, const char *key);
int64_t wb_params_int_at(const wb_params *p, const char *key, int i);
double wb_params_float_at(const wb_params *p, const char *key, int i);
const char *wb_params_string_at(const wb_params *p, const char *key, int i);
const wb_params *wb_params_section(const wb_params *p, const char *key);

#endif
