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
    int32_t *shapes;  /* rect: batch b's letterbox [w, h] at 2b, 2b + 1; else NULL */
} wb_epoch_plan;

/* Rectangular batches (YOLOv5 --rect, MMYOLO BatchShapePolicy): items
 * sorted by aspect ratio h / w are cut into batches in that order, and each
 * batch gets the letterbox shape ceil(ratio * img_size / stride + pad) *
 * stride per side, ratio being (max ar, 1) when all its images are wider
 * than high, (1, 1 / min ar) when all are higher than wide, else (1, 1). */
typedef struct wb_rect_opts {
    const int32_t *sizes; /* per item [w, h]; 0 x 0 (unknown) counts as square */
    int img_size, stride;
    double pad;           /* YOLOv5: 0 for training, 0.5 for validation */
} wb_rect_opts;

typedef struct wb_sampler_opts {
    int64_t n_items;
    const uint8_t *groups; /* per item 0 or 1 (portrait / landscape), or NULL */
    const double *weights; /* per item >= 0, not all 0, or NULL; groups are then not used */
    const wb_rect_opts *rect; /* or NULL; groups and weights are then not used; shuffle moves whole batches */
    int batch_size;
    bool shuffle, drop_last;
    uint64_t seed;
    /* Data-parallel ranks (PyTorch's DistributedSampler): 0 / 0 or 1 alone.
     * The epoch's order is the one a single process with batch_size x world
     * images per batch has; it is padded from its start to a multiple of
     * world (cut to one with drop_last) and dealt out round-robin, so the
     * ranks' batch k together hold that process's batch k. With uneven (for
     * evaluation) nothing is padded: the shards differ by at most one item
     * and together hold every item once. Image weights: the n_items draws
     * (the same on every rank) are the order that is dealt out. rect: whole
     * batches of the rect plan are dealt out instead (rect_shard_plan), so
     * each keeps its shape. Not sharded: groups, and rect with uneven. */
    int rank, world;
    bool uneven;
} wb_sampler_opts;

/* Number of batches in every epoch (it does not depend on the epoch); the rank's own with world > 1. */
int64_t wb_sampler_batches(const wb_sampler_opts *o);
wb_status wb_sampler_plan(const wb_sampler_opts *o, int64_t epoch, wb_epoch_plan *out);
void wb_epoch_plan_free(wb_epoch_plan *p);

/* Internal to the samplers: Fisher-Yates on the stream; the rect plan. */
void wb_sampler_shuffle(int64_t *a, int64_t n, uint64_t *rng);
wb_status wb_rect_plan(const wb_sampler_opts *o, int64_t epoch, wb_epoch_plan *out);
#define WB_SAMPLER_STREAM (-1)

#endif
