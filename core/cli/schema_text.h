/* Parameter schemas as text tables and as JSON, for `plugins -v`,
 * `plugins --json` and `describe`. */
#ifndef WB_CLI_SCHEMA_TEXT_H
#define WB_CLI_SCHEMA_TEXT_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <workbench/plugin.h>

/* "int", "float list", "module", ... */
const char *wb_cli_param_type_name(wb_param_type type);
/* One row per parameter (name, type, default, constraint, doc), or "(no parameters)". */
void wb_cli_print_schema(FILE *out, const wb_param_schema *params, const char *indent);
/* An array of objects {name, type, required, default, min, max, choices, module_kind, doc}. */
cJSON *wb_cli_schema_json(const wb_param_schema *params);

#endif
