/* Batch collation: transformed samples -> one padded NCHW tensor on the host
 * plus the per-image ground truth in the SDK's wb_batch_truth shape. */
#ifndef WB_CORE_DATA_COLLATE_H
#define WB_CORE_DATA_COLLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <workbench/module.h>
#include "sample.h"

/* What the core keeps per image beyond wb_gt_image (to undo flips). */
typedef struct wb_batch_image {
    int64_t index; /* dataset index */
    int h, w;      /* size the flips were applied over */
    bool flip_h, flip_v;
} wb_batch_image;

typedef struct wb_batch {
    int n;
    int pad_h, pad_w;
    float *images;            /* n * 3 * pad_h * pad_w, zero padding right/bottom */
    wb_batch_truth truth;     /* truth.images == gt */
    wb_gt_image *gt;
    wb_batch_image *info;
    int64_t epoch, iter;      /* iter counts batches within the epoch */
    bool last_in_epoch;
    double data_time;         /* seconds wb_loader_next waited for this batch */

    /* private storage, reused from batch to batch */
    float *boxes;
    int *labels;
    uint8_t *ignore;
    size_t images_cap;
    int img_cap, box_cap;
} wb_batch;

/* Fills b from n samples (n >= 1), padding to the largest one rounded up to
 * size_divisor (0 or 1 = no rounding). WB_ERR_NOMEM with a message on failure. */
wb_status wb_collate(wb_batch *b, wb_data_sample *const *samples, int n, int size_divisor, char *err,
                     size_t err_size);
void wb_batch_free(wb_batch *b);

#endif
