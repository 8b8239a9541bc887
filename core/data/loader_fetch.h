/* Internal to the loader: one dataset item -> one transformed sample. */
#ifndef WB_CORE_DATA_LOADER_FETCH_H
#define WB_CORE_DATA_LOADER_FETCH_H

#include <stddef.h>
#include <stdint.h>
#include <workbench/dataset.h>
#include "../runtime/context.h"
#include "image.h"
#include "sample.h"
#include "transforms.h"

typedef struct wb_fetch_source {
    const wb_dataset_vtable *vt;
    void *dataset;
    const wb_pipeline *pipeline;
    uint64_t seed;
    wb_decode_opts decode;
    int max_boxes; /* 0 = no limit */
    int64_t n_items;
} wb_fetch_source;

/* What the samples of one batch share (see wb_data_sample's batch_rng and
 * batch_w / batch_h). */
typedef struct wb_batch_share {
    uint64_t rng;
    int shape_w, shape_h; /* rect; 0 x 0: none */
} wb_batch_share;

/* Gets item `index`, decodes it and runs the pipeline with the item's own RNG
 * stream for `epoch` and what its batch shares. ctx is
 * the calling worker's context (get() reports through it); extra
 * (WB_MAX_EXTRA_SAMPLES) holds the other samples mosaic / mixup pull in. On
 * failure err says what went wrong with this item. */
wb_status wb_fetch_sample(const wb_fetch_source *src, wb_context *ctx, wb_data_sample *extra, int64_t epoch,
                          int64_t index, const wb_batch_share *batch, wb_data_sample *out, char *err, size_t err_size);

/* The labels of the item's boxes that are not ignored (0..num_classes-1), at
 * most max of them into out; returns how many there are (more than max:
 * call again with room for them), -1 when get() failed. */
int wb_fetch_labels(const wb_fetch_source *src, wb_context *ctx, int64_t index, int num_classes, int *out, int max);

/* The item's width and height without decoding pixels when possible (for
 * aspect grouping); 0 x 0 when unknown. */
void wb_fetch_size(const wb_fetch_source *src, wb_context *ctx, int64_t index, int *w, int *h);

#endif
