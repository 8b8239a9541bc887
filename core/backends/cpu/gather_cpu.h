/* OpenMP gather kernels, gathered into the family table by gather_cpu.c. */
#ifndef WB_CORE_GATHER_CPU_H
#define WB_CORE_GATHER_CPU_H

#include "../kernels_gather.h"

void wb_cpu_roi_align_forward(const float *feat, const float *rois, const wb_roi_args *a, float *y);
/* feat in the blocked layout (kernels_layout.h), c a multiple of its block;
 * RoI k fills row rows[k] of y (rows NULL: row k). */
void wb_cpu_roi_align_forward_blocked(const float *feat, const float *rois, const wb_roi_args *a,
                                      const int64_t *rows, float *y);
void wb_cpu_roi_align_backward(const float *dy, const float *rois, const wb_roi_args *a, float *dfeat);
void wb_cpu_roi_pool_forward(const float *feat, const float *rois, const wb_roi_args *a, float *y,
                             int32_t *argmax);
void wb_cpu_roi_pool_backward(const float *dy, const float *rois, const int32_t *argmax,
                              const wb_roi_args *a, float *dfeat);
void wb_cpu_index_select_forward(const float *x, int64_t outer, int64_t len, int64_t inner,
                                 const int64_t *index, int64_t n_index, float *y);
void wb_cpu_index_select_backward(const float *dy, int64_t outer, int64_t len, int64_t inner,
                                  const int64_t *index, int64_t n_index, float *dx);

#endif
