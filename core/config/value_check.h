/* Checking one config value against one wb_param_schema entry. */
#ifndef WB_CORE_VALUE_CHECK_H
#define WB_CORE_VALUE_CHECK_H

#include <stddef.h>
#include <libconfig.h>
#include <workbench/params.h>

/* Checks the type, range and choices of s against p (for modules and
 * transform lists only that s is a group / list; their contents are checked
 * by validation). Widens ints to floats where p wants floats, and turns
 * (lists) of scalars into [arrays], so getters find one type. Returns 0, or -1
 * with a message starting with `what` in err. */
int wb_value_check(config_setting_t *s, const wb_param_schema *p, const char *what, char *err, size_t err_size);

/* "int", "float", "bool", "string", "choice", "int list", ..., "module", "transform list". */
const char *wb_param_type_name(wb_param_type t);

/* Writes a number as users would: integers without exponent ("2147483647"). */
void wb_format_number(char *buf, size_t size, double v);

#endif
