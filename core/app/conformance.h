/* The conformance kit behind `workbench gradcheck TYPE`: builds one module of
 * any kind from its schema defaults (plus overrides), checks that forward
 * returns the declared outputs, and compares its backward (tape replay or
 * custom) with central finite differences on every parameter tensor and on
 * its inputs. A head's loss() is checked on random truth boxes; a loss
 * module on random pred/target/weight with each of its reductions. */
#ifndef WB_CORE_CONFORMANCE_H
#define WB_CORE_CONFORMANCE_H

#include <stdio.h>
#include "experiment.h"

typedef struct wb_conformance_opts {
    const char *type;
    const char *const *params;  /* "key=value" as `run --set` takes them, keys relative to the module */
    int n_params;
    const char *inputs;         /* "name:channels:stride,..." for necks and heads; NULL = a default */
    const char *target;         /* loss targets: binary, soft, class, real, box; NULL = by type */
    int size;                   /* input image side (default 64, 32 with quick) */
    int points;                 /* finite-difference probes per tensor (default 8) */
    bool quick;                 /* small widths and inputs */
    uint64_t seed;
} wb_conformance_opts;

/* Prints a report to out; returns a process exit code (0 pass, 1 fail, 2 usage). */
int wb_conformance_run(wb_registry *reg, const wb_conformance_opts *o, FILE *out);

#endif
