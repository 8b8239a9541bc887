/* Defensive validation of a plugin manifest and its module descriptors, so
 * nothing the core reads later (names, vtables, schemas) can be NULL or
 * malformed. */
#ifndef WB_CORE_MANIFEST_CHECK_H
#define WB_CORE_MANIFEST_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <workbench/plugin.h>

/* A schema table longer than this is taken as one missing its WB_PARAM_END. */
#define WB_MAX_SCHEMA_ENTRIES 256

/* true when every field the core relies on is present and consistent;
 * otherwise false and `reason` says what is wrong, naming the module and
 * parameter. The manifest must not be NULL. */
bool wb_manifest_check(const wb_plugin_manifest *m, char *reason, size_t size);

#endif
