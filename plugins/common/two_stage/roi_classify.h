/* A stage's box head on every proposal at test, a chunk of RoIs at a time:
 * RoIs are independent at inference, and the pooled features of all of them
 * at once would be the largest tensors of the whole inference. */
#ifndef TS_ROI_CLASSIFY_H
#define TS_ROI_CLASSIFY_H

#include "roi_stage.h"

/* A box head: pooled [k, C, S, S] in, logits [k, c1] and deltas [k, w] out. */
typedef wb_status (*ts_box_forward_fn)(void *user, wb_ctx *ctx, wb_tensor *pooled, wb_tensor **cls,
                                       wb_tensor **reg);

/* Logits and deltas of the boxes (per-image counts, images in order) into
 * host arrays of k x c1 and k x w floats. */
wb_status ts_roi_classify(wb_ctx *ctx, const ts_roi_extractor *ex, wb_tensor *const *feats, const float *boxes,
                          const int64_t *counts, int n_images, ts_box_forward_fn forward, void *user, int c1, int w,
                          float *logits, float *deltas);

#endif
