/* TEMPORARY stubs, replaced by config/params.c. */
#include "params.h"
const wb_params *wb_params_of(config_setting_t *group) { (void)group; return NULL; }
int wb_params_has(const wb_params *p, const char *key) { (void)p; (void)key; return 0; }
int64_t wb_params_int(const wb_params *p, const char *key) { (void)p; (void)key; return 0; }
double wb_params_float(const wb_params *p, const char *key) { (void)p; (void)key; return 0; }
int wb_params_bool(const wb_params *p, const char *key) { (void)p; (void)key; return 0; }
const char *wb_params_string(const wb_params *p, const char *key) { (void)p; (void)key; return NULL; }
int wb_params_list_len(const wb_params *p, const char *key) { (void)p; (void)key; return 0; }
int64_t wb_params_int_at(const wb_params *p, const char *key, int i) { (void)p; (void)key; (void)i; return 0; }
double wb_params_float_at(const wb_params *p, const char *key, int i) { (void)p; (void)key; (void)i; return 0; }
const char *wb_params_string_at(const wb_params *p, const char *key, int i) { (void)p; (void)key; (void)i; return NULL; }
const wb_params *wb_params_section(const wb_params *p, const char *key) { (void)p; (void)key; return NULL; }
