/* Schema tables: stride-aware access and the sanity check of plugin schemas. */
#include "schema_table.h"

#include <stdio.h>
#include <string.h>
#include <workbench/module.h>
#include "config.h"
#include "config_tree.h"
#include "core_schema.h"
#include "value_check.h"

const wb_param_schema *wb_schema_entry(const wb_param_schema *table, int i) {
    return (const wb_param_schema *)((const char *)table + (size_t)i * table->struct_size);
}

const wb_param_schema *wb_schema_find(const wb_param_schema *table, const char *name) {
    for (int i = 0; table && i < WB_SCHEMA_MAX_ENTRIES; i++) {
        const wb_param_schema *e = wb_schema_entry(table, i);
        if (!e->name) return NULL;
        if (strcmp(e->name, name) == 0) return e;
    }
    return NULL;
}

int wb_schema_names(const wb_param_schema *table, const char **names, int max) {
    int n = 0;
    for (int i = 0; table && i < WB_SCHEMA_MAX_ENTRIES; i++) {
        const wb_param_schema *e = wb_schema_entry(table, i);
        if (!e->name) break;
        if (n < max) names[n++] = e->name;
    }
    return n;
}

static int known_type(wb_param_type t) {
    return (t >= WB_PARAM_INT && t <= WB_PARAM_MODULE) || t == WB_PARAM_TRANSFORM_LIST;
}

/* The default must parse as libconfig and pass its own entry's checks. */
static int check_default(const wb_param_schema *e, const char *where, char *err, size_t err_size) {
    config_t tmp;
    char msg[512];
    config_setting_t *v = wb_tree_parse_value(&tmp, e->default_value, msg, sizeof msg);
    int rc = 0;
    if (!v) {
        snprintf(err, err_size, "%s: default '%s' is not a libconfig value (%s)", where, e->default_value, msg);
        rc = -1;
    } else if (wb_value_check(v, e, "default", msg, sizeof msg) != 0) {
        snprintf(err, err_size, "%s: %s", where, msg);
        rc = -1;
    }
    config_destroy(&tmp);
    return rc;
}

static int check_entry(const wb_param_schema *table, int i, const char *owner, int type_reserved, char *err,
                       size_t err_size) {
    const wb_param_schema *e = wb_schema_entry(table, i);
    char where[256];
    snprintf(where, sizeof where, "%s: schema entry %d ('%s')", owner, i, e->name);
    if (!wb_tree_valid_name(e->name)) {
        snprintf(err, err_size, "%s: '%s' is not a valid key name (a letter, then letters, digits, '_' or '-')",
                 where, e->name);
        return -1;
    }
    if (type_reserved && strcmp(e->name, "type") == 0) {
        snprintf(err, err_size, "%s: 'type' is reserved for the module type", where);
        return -1;
    }
    if (wb_schema_find(table, e->name) != e) {
        snprintf(err, err_size, "%s: the name '%s' appears twice", where, e->name);
        return -1;
    }
    if (!known_type(e->type)) {
        snprintf(err, err_size, "%s: unknown param type %d", where, (int)e->type);
        return -1;
    }
    if (e->type == WB_PARAM_CHOICE && (!e->choices || !e->choices[0])) {
        snprintf(err, err_size, "%s: a choice needs a NULL-terminated list of choices", where);
        return -1;
    }
    if (e->type == WB_PARAM_MODULE && (e->module_kind < WB_KIND_BACKBONE || e->module_kind > WB_KIND_DATASET)) {
        snprintf(err, err_size, "%s: module_kind %d is not a wb_module_kind", where, e->module_kind);
        return -1;
    }
    if (e->has_range && !(e->min <= e->max)) {
        snprintf(err, err_size, "%s: range min %g is above max %g", where, e->min, e->max);
        return -1;
    }
    return e->default_value ? check_default(e, where, err, err_size) : 0;
}

int wb_schema_check_table(const wb_param_schema *schema, const char *owner, int type_reserved, char *err,
                          size_t err_size) {
    if (!schema) return 0; /* a module without parameters */
    if (schema->struct_size < sizeof(wb_param_schema)) {
        snprintf(err, err_size, "%s: schema entries have struct_size %u, expected at least %zu (built against "
                 "an incompatible SDK?)", owner, schema->struct_size, sizeof(wb_param_schema));
        return -1;
    }
    for (int i = 0; i < WB_SCHEMA_MAX_ENTRIES; i++) {
        const wb_param_schema *e = wb_schema_entry(schema, i);
        if (e->struct_size != schema->struct_size) {
            snprintf(err, err_size, "%s: schema entry %d has struct_size %u but entry 0 has %u", owner, i,
                     e->struct_size, schema->struct_size);
            return -1;
        }
        if (!e->name && e->type == 0) return 0; /* WB_PARAM_END */
        if (!e->name) {
            snprintf(err, err_size, "%s: schema entry %d has a NULL name (only WB_PARAM_END may, and it has "
                     "type 0)", owner, i);
            return -1;
        }
        if (check_entry(schema, i, owner, type_reserved, err, err_size) != 0) return -1;
    }
    snprintf(err, err_size, "%s: schema has no WB_PARAM_END within %d entries", owner, WB_SCHEMA_MAX_ENTRIES);
    return -1;
}

int wb_param_schema_check(const wb_param_schema *schema, const char *owner, char *err, size_t err_size) {
    return wb_schema_check_table(schema, owner, 1, err, err_size);
}
