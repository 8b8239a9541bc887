/* Which dataset indices form which batch in one epoch: shuffled from
 * (seed, epoch), optionally grouped by aspect ratio, with or without the last
 * partial batch; or, with image weights, n_items weighted draws with
 * replacement (YOLOv5's image_weights). Pure function of its inputs, so every
 * worker agrees and a resumed run draws what the uninterrupted one did. */
#ifndef WB_CORE_DATA_SAMPLER_H
#define WB_CORE_DATA_SAMPLER_H

#include <stdbool.h>
#include <stdint.h>
#include <workbench/types.h>

typedef struct wb_epoch_plan {
    int64_t epoch;
    int64_t *order;   /* dataset indices, batch after batch */
    int64_t *starts;  /* batch b is order[starts[b] .. starts[b + 1]) */
    int64_t n_batches;
} wb_epoch_plan;

typedef struct wb_sampler_opts {
    int64_t n_items;
    const uint8_t *groups; /* per item 0 or 1 (portrait / landscape), or NULL */
    const double *weights; /* per item >= 0, not all 0, or NULL; groups are then not used */
    int batch_size;
    bool shuffle, drop_last;
    uint64_t seed;
} wb_sampler_opts;

/* Number of batches in every epoch (it does not depend on the epoch). */
int64_t wb_sampler_batches(const wb_sampler_opts *o);
wb_status wb_sampler_plan(const wb_sampler_opts *o, int64_t epoch, wb_epoch_plan *out);
void wb_epoch_plan_free(wb_epoch_plan *p);

#endif
