/* The conformance kit behind `workbench gradcheck TYPE`: builds one module
 * from its schema defaults (plus overrides), checks that forward returns the
 * declared specs, and compares its backward (tape replay or custom) with
 * central finite differences on parameters and inputs. */
#ifndef WB_CORE_CONFORMANCE_H
#define WB_CORE_CONFORMANCE_H

#include <stdio.h>
#include "experiment.h"

typedef struct wb_conformance_opts {
    const char *type;
    const char *const *params;  /* "key=value" in libconfig syntax */
    int n_params;
    const char *inputs;         /* "name:channels:stride,..." for necks and heads; NULL = a default */
    int size;                   /* input image side (default 64) */
    int points;                 /* finite-difference probes per tensor (default 4) */
    uint64_t seed;
} wb_conformance_opts;

/* Prints a report to out; returns a process exit code (0 pass, 1 fail, 2 usage). */
int wb_conformance_run(wb_registry *reg, const wb_conformance_opts *o, FILE *out);

#endif
