/* `workbench bench`: where a training iteration's time goes, module by
 * module (forward, backward), plus the loss and the optimizer step, on random
 * images of a fixed size, with peak memory. */
#ifndef WB_CORE_BENCH_RUN_H
#define WB_CORE_BENCH_RUN_H

#include <stdio.h>
#include "experiment.h"

typedef struct wb_bench_opts {
    int iters;   /* timed iterations (one more runs first, untimed) */
    int batch;
    int width, height;  /* input size in pixels */
    int threads;
    int inference;  /* time forward (no tape) + predict instead of training */
} wb_bench_opts;

int wb_bench_run(wb_experiment *e, const wb_bench_opts *o, FILE *out);

#endif
