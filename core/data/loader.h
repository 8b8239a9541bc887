/* The threaded data loader: worker threads fetch samples from a dataset
 * plugin, decode, run the transform pipeline and collate whole batches into a
 * bounded ring; the trainer takes them in order with wb_loader_next.
 *
 * Batches stream across epochs (each says its epoch and position). Results
 * depend only on (seed, epoch, index), never on the number of workers. A bad
 * sample (get() or decode or transform failure, an image above
 * max_image_pixels, more than max_boxes boxes) is skipped with a
 * rate-limited warning and recorded, or with WB_BAD_SAMPLE_FAIL ends the run
 * with its message. A batch whose samples were all bad is skipped; a dataset
 * whose samples keep failing ends the run (see loader_bad.h). */
#ifndef WB_CORE_DATA_LOADER_H
#define WB_CORE_DATA_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <workbench/dataset.h>
#include "collate.h"
#include "loader_bad.h"
#include "transforms.h"

typedef enum wb_bad_sample_policy { WB_BAD_SAMPLE_SKIP = 0, WB_BAD_SAMPLE_FAIL } wb_bad_sample_policy;

typedef struct wb_loader_opts {
    int batch_size;
    int workers;            /* threads; <= 0 means 1 */
    int prefetch;           /* batches in the ring; <= 0 means 2 per worker */
    bool shuffle, drop_last;
    bool group_by_aspect;   /* batches hold only landscape or only portrait images */
    bool image_weights;     /* YOLOv5's class-weighted draws with replacement (see image_weights.h) */
    /* rect batches (see wb_rect_opts): img_size > 0 turns them on; sizes are read here */
    int rect_img_size, rect_stride;
    double rect_pad;
    int size_divisor;       /* batch padding; 0 = none */
    int64_t max_image_pixels; /* stored width x height; 0 = the decoder's own limit */
    int max_boxes;          /* per image; 0 = no limit */
    uint64_t seed;
    int rank, world;        /* data-parallel shard (sampler.h); 0 / 0 or 1 alone */
    bool uneven;            /* shards without padding (evaluation) */
    int64_t start_epoch;    /* for resuming */
    int64_t max_epochs;     /* 0 = endless; else next() reports the end after these */
    wb_bad_sample_policy on_bad_sample;
    const wb_pipeline *pipeline; /* borrowed; NULL = no transforms */
    /* close_mosaic: epochs from late_from_epoch on run late_pipeline instead
     * (borrowed; NULL = never) */
    const wb_pipeline *late_pipeline;
    int64_t late_from_epoch;
} wb_loader_opts;

typedef struct wb_loader wb_loader;

/* Starts the workers. The dataset must outlive the loader. NULL + err on error. */
wb_loader *wb_loader_create(const wb_loader_opts *o, const wb_dataset_vtable *vt, void *dataset,
                            char *err, size_t err_size);
/* The next batch in order; *b = NULL (WB_OK) after max_epochs. Hold at most
 * prefetch - 1 batches at once. On error the message is wb_loader_error(). */
wb_status wb_loader_next(wb_loader *l, wb_batch **b);
void wb_loader_release(wb_loader *l, wb_batch *b);
const char *wb_loader_error(const wb_loader *l);
int64_t wb_loader_batches_per_epoch(const wb_loader *l);
/* Bad samples seen so far (each index once, the first WB_BAD_KEPT). Thread-safe copies. */
int wb_loader_bad_sample_count(wb_loader *l);
bool wb_loader_bad_sample_at(wb_loader *l, int i, wb_bad_sample *out);
/* Stops and joins the workers; every batch becomes invalid. */
void wb_loader_destroy(wb_loader *l);

#endif
