/* Gather kernel family: ops that read their input at positions computed from
 * another tensor and whose backward scatter-adds: RoIAlign and RoIPool
 * (torchvision.ops semantics, geometry in roi_geometry.h) and index_select.
 * rois are [K, 5] device floats (batch index, x1, y1, x2, y2) whose batch
 * indices the front-end has checked; index arrays are device int64 already
 * checked to be in range. Backward kernels overwrite their outputs. */
#ifndef WB_CORE_KERNELS_GATHER_H
#define WB_CORE_KERNELS_GATHER_H

#include <stdint.h>
#include <workbench/types.h>

typedef struct wb_roi_args {
    int64_t n, c, h, w;  /* the feature map */
    int64_t k;           /* RoIs */
    int out_h, out_w;
    float spatial_scale;
    int sampling_ratio;  /* align: points per bin side, 0 = adaptive */
    int aligned;         /* align: half-pixel offset */
} wb_roi_args;

struct wb_gather_kernels {
    /* y [K, C, out_h, out_w]. */
    void (*roi_align_forward)(const float *feat, const float *rois, const wb_roi_args *a, float *y);
    /* dfeat [N, C, H, W]. */
    void (*roi_align_backward)(const float *dy, const float *rois, const wb_roi_args *a, float *dfeat);
    /* argmax: per output, the index inside its input plane of the maximum, -1 for an empty bin. */
    void (*roi_pool_forward)(const float *feat, const float *rois, const wb_roi_args *a, float *y,
                             int32_t *argmax);
    void (*roi_pool_backward)(const float *dy, const float *rois, const int32_t *argmax,
                              const wb_roi_args *a, float *dfeat);
    /* x viewed as [outer, len, inner]: y[o, j, i] = x[o, index[j], i], j < n_index. */
    void (*index_select_forward)(const float *x, int64_t outer, int64_t len, int64_t inner,
                                 const int64_t *index, int64_t n_index, float *y);
    /* dx[o, index[j], i] += dy[o, j, i] over j, dx zeroed first. */
    void (*index_select_backward)(const float *dy, int64_t outer, int64_t len, int64_t inner,
                                  const int64_t *index, int64_t n_index, float *dx);
};

#endif
