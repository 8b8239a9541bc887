#include "schema_text.h"

#include <string.h>
#include "plugin/registry.h"

static const char *const g_type_names[] = {
    NULL, "int", "float", "bool", "string", "choice", "int list", "float list", "string list", "module",
};

const char *wb_cli_param_type_name(wb_param_type type) {
    return type >= WB_PARAM_INT && type <= WB_PARAM_MODULE ? g_type_names[type] : "?";
}

/* "[0, 1]", "one of: a, b", "a neck module" or "" */
static void format_constraint(const wb_param_schema *p, char *buf, size_t size) {
    buf[0] = '\0';
    if (p->type == WB_PARAM_CHOICE && p->choices) {
        size_t n = (size_t)snprintf(buf, size, "one of:");
        for (int i = 0; p->choices[i] && n < size; i++)
            n += (size_t)snprintf(buf + n, size - n, "%s %s", i ? "," : "", p->choices[i]);
    } else if (p->type == WB_PARAM_MODULE) {
        snprintf(buf, size, "a %s module", wb_registry_kind_name(p->module_kind));
    } else if (p->has_range) {
        snprintf(buf, size, "[%g, %g]", p->min, p->max);
    }
}

static const char *default_text(const wb_param_schema *p) {
    return p->required ? "(required)" : p->default_value ? p->default_value : "(unset)";
}

void wb_cli_print_schema(FILE *out, const wb_param_schema *params, const char *indent) {
    if (!params || !params[0].name) {
        fprintf(out, "%s(no parameters)\n", indent);
        return;
    }
    fprintf(out, "%s%-20s %-11s %-14s %-24s %s\n", indent, "NAME", "TYPE", "DEFAULT", "VALUES", "DESCRIPTION");
    for (const wb_param_schema *p = params; p->name; p++) {
        char constraint[256];
        format_constraint(p, constraint, sizeof(constraint));
        fprintf(out, "%s%-20s %-11s %-14s %-24s %s\n", indent, p->name, wb_cli_param_type_name(p->type),
                default_text(p), constraint, p->doc ? p->doc : "");
    }
}

cJSON *wb_cli_schema_json(const wb_param_schema *params) {
    cJSON *array = cJSON_CreateArray();
    for (const wb_param_schema *p = params; p && p->name; p++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", p->name);
        cJSON_AddStringToObject(o, "type", wb_cli_param_type_name(p->type));
        cJSON_AddBoolToObject(o, "required", p->required != 0);
        if (p->default_value) cJSON_AddStringToObject(o, "default", p->default_value);
        if (p->has_range) {
            cJSON_AddNumberToObject(o, "min", p->min);
            cJSON_AddNumberToObject(o, "max", p->max);
        }
        if (p->type == WB_PARAM_CHOICE && p->choices) {
            cJSON *choices = cJSON_AddArrayToObject(o, "choices");
            for (int i = 0; p->choices[i]; i++) cJSON_AddItemToArray(choices, cJSON_CreateString(p->choices[i]));
        }
        if (p->type == WB_PARAM_MODULE)
            cJSON_AddStringToObject(o, "module_kind", wb_registry_kind_name(p->module_kind));
        cJSON_AddStringToObject(o, "doc", p->doc ? p->doc : "");
        cJSON_AddItemToArray(array, o);
    }
    return array;
}
