/* The reference pointwise kernels, one file per group; pointwise_ref.c
 * gathers them into the family table. */
#ifndef WB_CORE_POINTWISE_REF_H
#define WB_CORE_POINTWISE_REF_H

#include "../kernels_pointwise.h"

void wb_ref_act_forward(wb_act_kind kind, float alpha, const float *x, float *y, int64_t n);
void wb_ref_act_backward(wb_act_kind kind, float alpha, const float *x, const float *y,
                         const float *dy, float *dx, int64_t n);
void wb_ref_binary_forward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                           float *y);
void wb_ref_binary_backward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                            const float *dy, float *da, float *db);
void wb_ref_scale(const float *x, float s, float *y, int64_t n);
void wb_ref_unary_forward(wb_unary_kind kind, float p, float q, const float *x, float *y, int64_t n);
void wb_ref_unary_backward(wb_unary_kind kind, float p, float q, const float *x, const float *y,
                           const float *dy, float *dx, int64_t n);
void wb_ref_where_forward(const wb_bcast3 *g, const float *cond, const float *a, const float *b,
                          float *y);
void wb_ref_where_backward(const wb_bcast3 *g, const float *cond, const float *dy, float *da, float *db);
void wb_ref_nearest_forward(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h,
                            int out_w);
void wb_ref_nearest_backward(const float *dy, int64_t planes, int in_h, int in_w, int out_h,
                             int out_w, float *dx);
void wb_ref_bilinear_forward(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h,
                             int out_w, int align_corners);
void wb_ref_bilinear_backward(const float *dy, int64_t planes, int in_h, int in_w, int out_h,
                              int out_w, int align_corners, float *dx);
void wb_ref_copy_block(float *dst, int64_t dst_stride, const float *src, int64_t src_stride,
                       int64_t rows, int64_t cols);
void wb_ref_permute(const float *x, int ndim, const int64_t *shape, const int *perm, float *y);
void wb_ref_reduce_sum(const float *x, int64_t outer, int64_t len, int64_t inner, float scale,
                       float *y);
void wb_ref_broadcast_axis(const float *dy, int64_t outer, int64_t len, int64_t inner, float scale,
                           float *dx);

#endif
