/* workbench SDK: parameter schemas. A module describes its config keys as data;
 * the core validates every experiment against them before anything is built.
 *
 * What a module can rely on: create()/open() get only keys of their schema,
 * each of its declared type, within its range or choices, with the default
 * filled in when the config leaves it out; read them with host->param_* and
 * no checks. A required key (no default) is always present. Defaults are
 * checked against their own entry when the plugin loads: a default that does
 * not parse, or fails its own type, range or choices, REJECTS the plugin. */
#ifndef WORKBENCH_PARAMS_H
#define WORKBENCH_PARAMS_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wb_param_type {
    WB_PARAM_INT = 1,
    WB_PARAM_FLOAT,
    WB_PARAM_BOOL,
    WB_PARAM_STRING,
    WB_PARAM_CHOICE,      /* a string from `choices` */
    WB_PARAM_INT_LIST,
    WB_PARAM_FLOAT_LIST,  /* ints are accepted and widened */
    WB_PARAM_STRING_LIST,
    WB_PARAM_MODULE       /* a nested group `{ type = "..."; ... }` of kind `module_kind` */
} wb_param_type;

typedef struct wb_param_schema {
    uint32_t struct_size;
    const char *name;
    wb_param_type type;
    const char *doc;           /* one line */
    int required;              /* 1: no default, must be given */
    const char *default_value; /* libconfig syntax: "0.25", "[8, 16, 32]", "\"bn\"", "true";
                                * modules: a group "{ type = \"l1\"; loss_weight = 1.0; }" */
    int has_range;             /* numbers and list items: min <= v <= max (inclusive) */
    double min, max;
    const char *const *choices; /* NULL-terminated, for WB_PARAM_CHOICE */
    int module_kind;           /* wb_module_kind, for WB_PARAM_MODULE */
} wb_param_schema;

/* Schema tables end with an entry whose name is NULL. */
#define WB_PARAM_END { sizeof(wb_param_schema), NULL, (wb_param_type)0, NULL, 0, NULL, 0, 0.0, 0.0, NULL, 0 }

#define WB_P_INT(nm, def, lo, hi, doc_) \
    { sizeof(wb_param_schema), nm, WB_PARAM_INT, doc_, 0, def, 1, lo, hi, NULL, 0 }
#define WB_P_FLOAT(nm, def, lo, hi, doc_) \
    { sizeof(wb_param_schema), nm, WB_PARAM_FLOAT, doc_, 0, def, 1, lo, hi, NULL, 0 }
#define WB_P_BOOL(nm, def, doc_) \
    { sizeof(wb_param_schema), nm, WB_PARAM_BOOL, doc_, 0, def, 0, 0.0, 0.0, NULL, 0 }
#define WB_P_STRING(nm, def, doc_) \
    { sizeof(wb_param_schema), nm, WB_PARAM_STRING, doc_, (def) == NULL, def, 0, 0.0, 0.0, NULL, 0 }
#define WB_P_CHOICE(nm, def, choices_, doc_) \
    { sizeof(wb_param_schema), nm, WB_PARAM_CHOICE, doc_, 0, def, 0, 0.0, 0.0, choices_, 0 }
#define WB_P_INT_LIST(nm, def, lo, hi, doc_) \
    { sizeof(wb_param_schema), nm, WB_PARAM_INT_LIST, doc_, 0, def, 1, lo, hi, NULL, 0 }
#define WB_P_FLOAT_LIST(nm, def, lo, hi, doc_) \
    { sizeof(wb_param_schema), nm, WB_PARAM_FLOAT_LIST, doc_, 0, def, 1, lo, hi, NULL, 0 }
#define WB_P_STRING_LIST(nm, def, doc_) \
    { sizeof(wb_param_schema), nm, WB_PARAM_STRING_LIST, doc_, 0, def, 0, 0.0, 0.0, NULL, 0 }
#define WB_P_MODULE(nm, kind, def, doc_) \
    { sizeof(wb_param_schema), nm, WB_PARAM_MODULE, doc_, (def) == NULL, def, 0, 0.0, 0.0, NULL, kind }
#define WB_P_REQUIRED(nm, type_, doc_) \
    { sizeof(wb_param_schema), nm, type_, doc_, 1, NULL, 0, 0.0, 0.0, NULL, 0 }
/* More classes than any detection dataset has (LVIS 1203, ImageNet-21k 21841):
 * a bound for num_classes-like parameters, so a typo is a config error and
 * not an allocation of gigabytes. */
#define WB_MAX_CLASSES 100000

/* A required number that only makes sense within [lo, hi]. */
#define WB_P_REQUIRED_RANGE(nm, type_, lo, hi, doc_) \
    { sizeof(wb_param_schema), nm, type_, doc_, 1, NULL, 1, lo, hi, NULL, 0 }

#ifdef __cplusplus
}
#endif
#endif
