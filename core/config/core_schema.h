/* The core's own part of the experiment schema: top-level keys and the
 * sections model, data, optimizer, schedule, checkpoint, log, evaluation. */
#ifndef WB_CORE_CORE_SCHEMA_H
#define WB_CORE_CORE_SCHEMA_H

#include <workbench/params.h>

/* Most kernel threads an experiment, --threads or WB_THREADS may ask for:
 * oneDNN's CPU kernels abort (stack smashing) with 1536 or more. */
#define WB_MAX_THREADS 1024

/* A list of `{ type = "..."; ... }` transform groups, checked against the
 * transform schemas. Core-only: plugins never declare it. */
#define WB_PARAM_TRANSFORM_LIST ((wb_param_type)64)

typedef enum wb_presence {
    WB_SECTION_REQUIRED,  /* must be written */
    WB_SECTION_DEFAULTED, /* created with its defaults when left out */
    WB_SECTION_OPTIONAL,  /* stays absent when left out (data.val, data.test) */
    WB_SECTION_LIST       /* optional list of groups ( { ... }, ... ), each with the section's keys */
} wb_presence;

typedef struct wb_config_section wb_config_section;
struct wb_config_section {
    const char *name;                  /* NULL ends a table */
    const char *doc;
    wb_presence presence;
    const wb_param_schema *params;     /* keys of the section, ends with WB_PARAM_END */
    const wb_config_section *sections; /* nested sections, or NULL */
};

/* The root: top-level keys and sections (its name is NULL). */
const wb_config_section *wb_core_schema(void);

/* The param or section of s named key; NULL when there is none. */
const wb_param_schema *wb_section_param(const wb_config_section *s, const char *key);
const wb_config_section *wb_section_child(const wb_config_section *s, const char *key);
/* Every key name of s (params, then sections) for did-you-mean; returns the count. */
int wb_section_keys(const wb_config_section *s, const char **names, int max);

#endif
