/* Walking a schema table that may come from a plugin built against another
 * SDK minor: entries are struct_size bytes apart, and nothing in it is
 * trusted before wb_param_schema_check (config.h) has passed. */
#ifndef WB_CORE_SCHEMA_TABLE_H
#define WB_CORE_SCHEMA_TABLE_H

#include <workbench/params.h>

/* More entries than this means a missing WB_PARAM_END. */
#define WB_SCHEMA_MAX_ENTRIES 256

/* Entry i (the table's first struct_size is its stride). */
const wb_param_schema *wb_schema_entry(const wb_param_schema *table, int i);
/* The entry named name, or NULL (table may be NULL: no params). */
const wb_param_schema *wb_schema_find(const wb_param_schema *table, const char *name);
/* The entry names, for did-you-mean; returns the count. */
int wb_schema_names(const wb_param_schema *table, const char **names, int max);

/* wb_param_schema_check (config.h) for any table; type_reserved: the table
 * describes a group whose `type` key selects it (modules, transforms), so it
 * may not declare `type` itself. The core's sections may. */
int wb_schema_check_table(const wb_param_schema *schema, const char *owner, int type_reserved, char *err,
                          size_t err_size);

#endif
