/* Channel-blocked activations (CPU backend only). A conv forward that no
 * backward follows may leave its output in the layout its oneDNN kernels
 * run in, nChw16c: [N][C/16][H][W][16], the same size as NCHW when C is a
 * multiple of 16 (the only case it is used). The next convolution reads it
 * as it is, and the ops between convolutions that only move or combine
 * whole pixels (activations, same-shape binary ops, channel concat, nearest
 * upsampling, max pooling) run on it directly; every other reader gets it
 * back in NCHW first (runtime/context.c: wb_ctx_check_inputs). That saves
 * the reorder into and out of the blocked layout around every convolution
 * at inference, and lets 1x1 convolutions take their activation as a
 * post-op (docs/architecture.md, "Blocked activations at inference").
 * RoIAlign reads it too: a two-stage head pools from the FPN's outputs. */
#ifndef WB_CORE_KERNELS_LAYOUT_H
#define WB_CORE_KERNELS_LAYOUT_H

#include <stdint.h>
#include "backend.h"
#include "kernels_dense.h"
#include "kernels_gather.h"

#define WB_LAYOUT_BLOCK 16

struct wb_layout_kernels {
    /* plain = NCHW of the nChw16c x (c a multiple of WB_LAYOUT_BLOCK). */
    void (*to_plain)(const float *x, int64_t n, int64_t c, int64_t hw, float *plain);
    /* Nearest upsampling as wb_cpu_nearest_forward, over planes = N * C / 16
     * planes of 16-float pixels. */
    void (*nearest_forward)(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h, int out_w);
    /* Max pooling (values only: no backward follows) as the plain kernel,
     * a->planes = N * C / 16 planes of 16-float pixels. */
    void (*max_pool_forward)(const float *x, const wb_pool_args *a, float *y);
    /* RoIAlign as the gather family's roi_align_forward, from blocked
     * features, into NCHW rows of y [*, C, out_h, out_w]: RoI k fills row
     * rows[k] (rows NULL: row k). */
    void (*roi_align_forward)(const float *feat, const float *rois, const wb_roi_args *a, const int64_t *rows,
                              float *y);
};

#endif
