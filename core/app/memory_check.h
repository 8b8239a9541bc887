/* Refuses experiments that cannot fit in this machine's memory before they
 * run, instead of leaving them to the OOM killer: an estimate from the
 * config (batch size, the largest image the pipelines can output, loader
 * threads and prefetch) and the built model (parameter count; every stage
 * output's channels at its stride, for the forward and the backward): a
 * lower bound of what a run needs, so only hopeless configs fail. One term
 * is a budget instead: each loader thread may hold the largest image it
 * accepts (data.max_image_pixels, or less when the pipeline shrinks large
 * images while decoding them). */
#ifndef WB_CORE_APP_MEMORY_CHECK_H
#define WB_CORE_APP_MEMORY_CHECK_H

#include <stddef.h>
#include <stdint.h>
#include "../model/model.h"
#include "experiment.h"

typedef struct wb_memory_estimate {
    int64_t pixels;                 /* per image, the most the pipelines output */
    int64_t input, activations, params, loader, total; /* bytes */
    const char *widest_stage;       /* the stage output with the most channels */
    int widest_channels;
} wb_memory_estimate;

void wb_memory_estimate_of(wb_experiment *e, wb_session *s, const wb_model *m, wb_memory_estimate *out);
/* This machine's memory in bytes (physical, or the cgroup's limit when lower). */
int64_t wb_memory_available(void);
/* WB_OK when the estimate fits; else WB_ERR_INVALID and a message naming the
 * estimate, the limit and what to lower. */
wb_status wb_memory_check(wb_experiment *e, wb_session *s, const wb_model *m, char *err, size_t n);

#endif
