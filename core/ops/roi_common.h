/* Argument checks shared by the RoI ops (roi_align, roi_pool,
 * multiscale_roi_align): shapes, parameters and the rows of rois. */
#ifndef WB_CORE_ROI_COMMON_H
#define WB_CORE_ROI_COMMON_H

#include <stdbool.h>
#include "../backends/kernels_gather.h"
#include "../runtime/context.h"

/* feat [N, C, H, W], rois [K, 5], out_h/out_w >= 1, spatial_scale finite and
 * > 0. Fills a's shape fields and scale; sampling_ratio/aligned are left 0. */
bool wb_roi_check_args(wb_context *c, const char *op, const wb_tensor *feat, const wb_tensor *rois,
                       int out_h, int out_w, float spatial_scale, wb_roi_args *a);

/* A host copy of rois (K * 5 floats) once every row has an integral batch
 * index in [0, n_images) and finite coordinates; NULL with the ctx error
 * naming the row otherwise. The caller frees it. */
float *wb_roi_read_rows(wb_context *c, const char *op, const wb_tensor *rois, int64_t n_images);

#endif
