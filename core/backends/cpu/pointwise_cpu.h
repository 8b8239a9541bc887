/* The OpenMP pointwise kernels, one file per group; pointwise_cpu.c gathers
 * them into the family table. */
#ifndef WB_CORE_POINTWISE_CPU_H
#define WB_CORE_POINTWISE_CPU_H

#include "../kernels_pointwise.h"

/* Below this many elements a loop is not worth waking the thread team. */
#define WB_CPU_PARALLEL_MIN 32768

void wb_cpu_act_forward(wb_act_kind kind, float alpha, const float *x, float *y, int64_t n);
void wb_cpu_act_backward(wb_act_kind kind, float alpha, const float *x, const float *y,
                         const float *dy, float *dx, int64_t n);
void wb_cpu_binary_forward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                           float *y);
void wb_cpu_binary_backward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                            const float *dy, float *da, float *db);
void wb_cpu_scale(const float *x, float s, float *y, int64_t n);
void wb_cpu_unary_forward(wb_unary_kind kind, float p, float q, const float *x, float *y, int64_t n);
void wb_cpu_unary_backward(wb_unary_kind kind, float p, float q, const float *x, const float *y,
                           const float *dy, float *dx, int64_t n);
void wb_cpu_where_forward(const wb_bcast3 *g, const float *cond, const float *a, const float *b,
                          float *y);
void wb_cpu_where_backward(const wb_bcast3 *g, const float *cond, const float *dy, float *da, float *db);
void wb_cpu_nearest_forward(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h,
                            int out_w);
void wb_cpu_nearest_backward(const float *dy, int64_t planes, int in_h, int in_w, int out_h,
                             int out_w, float *dx);
void wb_cpu_bilinear_forward(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h,
                             int out_w, int align_corners);
void wb_cpu_bilinear_backward(const float *dy, int64_t planes, int in_h, int in_w, int out_h,
                              int out_w, int align_corners, float *dx);
void wb_cpu_copy_block(float *dst, int64_t dst_stride, const float *src, int64_t src_stride,
                       int64_t rows, int64_t cols);
void wb_cpu_permute(const float *x, int ndim, const int64_t *shape, const int *perm, float *y);
void wb_cpu_reduce_sum(const float *x, int64_t outer, int64_t len, int64_t inner, float scale,
                       float *y);
void wb_cpu_broadcast_axis(const float *dy, int64_t outer, int64_t len, int64_t inner, float scale,
                           float *dx);

#endif
