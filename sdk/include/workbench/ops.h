/* workbench SDK: readable wrappers over the host table, so plugin code reads
 *   y = wb_relu(ctx, wb_conv2d(ctx, x, w, b, &p));
 * Every op returns NULL once ctx holds an error; check wb_ok(ctx) at the end. */
#ifndef WORKBENCH_OPS_H
#define WORKBENCH_OPS_H

#include "host.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_H(ctx) ((ctx)->host)

/* return wb_error(ctx, WB_ERR_INVALID, "depth %d not in {18, 34, 50}", d); */
#define wb_error(ctx, st, ...) (WB_H(ctx)->set_error((ctx), (st), __VA_ARGS__))
#define wb_log(ctx, level, ...) (WB_H(ctx)->log((ctx), (level), __VA_ARGS__))
static inline wb_status wb_ok(wb_ctx *ctx) { return WB_H(ctx)->status(ctx); }

static inline int wb_is_training(wb_ctx *ctx) { return WB_H(ctx)->is_training(ctx); }
/* See host.h tensor_release: call after the last use of an intermediate. */
static inline void wb_release(wb_ctx *ctx, wb_tensor *t) { WB_H(ctx)->tensor_release(ctx, t); }

static inline wb_tensor_info wb_info(wb_ctx *ctx, const wb_tensor *t) {
    wb_tensor_info i; i.struct_size = sizeof i; WB_H(ctx)->tensor_info(t, &i); return i;
}
static inline wb_tensor *wb_tensor_new(wb_ctx *ctx, int ndim, const int64_t *shape) {
    return WB_H(ctx)->tensor_new(ctx, ndim, shape);
}
static inline wb_tensor *wb_tensor_from_host(wb_ctx *ctx, int ndim, const int64_t *shape, const float *d) {
    return WB_H(ctx)->tensor_from_host(ctx, ndim, shape, d);
}
static inline float *wb_map(wb_ctx *ctx, wb_tensor *t) { return WB_H(ctx)->tensor_map(ctx, t); }
static inline wb_status wb_unmap(wb_ctx *ctx, wb_tensor *t) { return WB_H(ctx)->tensor_unmap(ctx, t); }
static inline float wb_item(wb_ctx *ctx, wb_tensor *t) { return WB_H(ctx)->tensor_item(ctx, t); }

static inline wb_tensor *wb_param(wb_ctx *ctx, const char *name, int ndim, const int64_t *shape,
                                  wb_init init, int trainable) {
    return WB_H(ctx)->param_create(ctx, name, ndim, shape, &init, trainable);
}
static inline wb_tensor *wb_buffer(wb_ctx *ctx, const char *name, int ndim, const int64_t *shape,
                                   wb_init init) {
    return WB_H(ctx)->buffer_create(ctx, name, ndim, shape, &init);
}
static inline wb_init wb_init_constant(float v) { wb_init i = {WB_INIT_CONSTANT, v, 0, 0, 0, 0, 0}; return i; }
static inline wb_init wb_init_normal(float mean, float std) { wb_init i = {WB_INIT_NORMAL, 0, mean, std, 0, 0, 0}; return i; }
static inline wb_init wb_init_kaiming_uniform(float a) { wb_init i = {WB_INIT_KAIMING_UNIFORM, 0, 0, 0, a, 0, 0}; return i; }
static inline wb_init wb_init_kaiming_normal_fan_out(void) { wb_init i = {WB_INIT_KAIMING_NORMAL, 0, 0, 0, 0, 0, 1}; return i; }

static inline wb_conv2d_params wb_conv_p(int stride, int pad, int dilation, int groups) {
    wb_conv2d_params p = {sizeof p, stride, stride, pad, pad, dilation, dilation, groups};
    return p;
}
static inline wb_pool2d_params wb_pool_p(int kernel, int stride, int pad) {
    wb_pool2d_params p = {sizeof p, kernel, kernel, stride, stride, pad, pad, 0, 1};
    return p;
}

static inline wb_tensor *wb_conv2d(wb_ctx *c, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p) { return WB_H(c)->conv2d(c, x, w, b, p); }
static inline wb_tensor *wb_conv2d_act(wb_ctx *c, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p, int act) { return WB_H(c)->conv2d_act(c, x, w, b, p, act); }
static inline wb_tensor *wb_batch_norm_act(wb_ctx *c, wb_tensor *x, wb_tensor *g, wb_tensor *b, wb_tensor *rm, wb_tensor *rv, int training, float momentum, float eps, int act) { return WB_H(c)->batch_norm_act(c, x, g, b, rm, rv, training, momentum, eps, act); }
static inline wb_tensor *wb_batch_norm(wb_ctx *c, wb_tensor *x, wb_tensor *g, wb_tensor *b, wb_tensor *rm, wb_tensor *rv, int training, float momentum, float eps) { return WB_H(c)->batch_norm(c, x, g, b, rm, rv, training, momentum, eps); }
static inline wb_tensor *wb_relu(wb_ctx *c, wb_tensor *x) { return WB_H(c)->relu(c, x); }
static inline wb_tensor *wb_leaky_relu(wb_ctx *c, wb_tensor *x, float s) { return WB_H(c)->leaky_relu(c, x, s); }
static inline wb_tensor *wb_silu(wb_ctx *c, wb_tensor *x) { return WB_H(c)->silu(c, x); }
static inline wb_tensor *wb_sigmoid(wb_ctx *c, wb_tensor *x) { return WB_H(c)->sigmoid(c, x); }
static inline wb_tensor *wb_hardswish(wb_ctx *c, wb_tensor *x) { return WB_H(c)->hardswish(c, x); }
static inline wb_tensor *wb_max_pool2d(wb_ctx *c, wb_tensor *x, const wb_pool2d_params *p) { return WB_H(c)->max_pool2d(c, x, p); }
static inline wb_tensor *wb_avg_pool2d(wb_ctx *c, wb_tensor *x, const wb_pool2d_params *p) { return WB_H(c)->avg_pool2d(c, x, p); }
static inline wb_tensor *wb_global_avg_pool(wb_ctx *c, wb_tensor *x) { return WB_H(c)->global_avg_pool(c, x); }
static inline wb_tensor *wb_upsample_nearest(wb_ctx *c, wb_tensor *x, int factor, int oh, int ow) { return WB_H(c)->upsample_nearest(c, x, factor, oh, ow); }
static inline wb_tensor *wb_resize_bilinear(wb_ctx *c, wb_tensor *x, int oh, int ow, int align) { return WB_H(c)->resize_bilinear(c, x, oh, ow, align); }
static inline wb_tensor *wb_add(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->add(c, a, b); }
static inline wb_tensor *wb_mul(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->mul(c, a, b); }
static inline wb_tensor *wb_scale(wb_ctx *c, wb_tensor *x, float s) { return WB_H(c)->scale(c, x, s); }
static inline wb_tensor *wb_concat(wb_ctx *c, wb_tensor *const *ts, int n, int axis) { return WB_H(c)->concat(c, ts, n, axis); }
static inline wb_status wb_split(wb_ctx *c, wb_tensor *x, int axis, const int64_t *sizes, int n, wb_tensor **out) { return WB_H(c)->split(c, x, axis, sizes, n, out); }
static inline wb_tensor *wb_slice(wb_ctx *c, wb_tensor *x, int axis, int64_t start, int64_t end) { return WB_H(c)->slice(c, x, axis, start, end); }
static inline wb_tensor *wb_reshape(wb_ctx *c, wb_tensor *x, int ndim, const int64_t *shape) { return WB_H(c)->reshape(c, x, ndim, shape); }
static inline wb_tensor *wb_permute(wb_ctx *c, wb_tensor *x, const int *perm) { return WB_H(c)->permute(c, x, perm); }
static inline wb_tensor *wb_matmul(wb_ctx *c, wb_tensor *a, wb_tensor *b, int ta, int tb) { return WB_H(c)->matmul(c, a, b, ta, tb); }
static inline wb_tensor *wb_linear(wb_ctx *c, wb_tensor *x, wb_tensor *w, wb_tensor *b) { return WB_H(c)->linear(c, x, w, b); }
static inline wb_tensor *wb_sum(wb_ctx *c, wb_tensor *x, int axis, int keepdim) { return WB_H(c)->sum(c, x, axis, keepdim); }
static inline wb_tensor *wb_mean(wb_ctx *c, wb_tensor *x, int axis, int keepdim) { return WB_H(c)->mean(c, x, axis, keepdim); }
static inline wb_tensor *wb_sigmoid_focal_loss(wb_ctx *c, wb_tensor *x, wb_tensor *t, wb_tensor *w, float gamma, float alpha, wb_reduction r) { return WB_H(c)->sigmoid_focal_loss(c, x, t, w, gamma, alpha, r); }
static inline wb_tensor *wb_bce_with_logits(wb_ctx *c, wb_tensor *x, wb_tensor *t, wb_tensor *w, wb_reduction r) { return WB_H(c)->bce_with_logits(c, x, t, w, r); }
static inline wb_tensor *wb_softmax_cross_entropy(wb_ctx *c, wb_tensor *x, wb_tensor *labels, wb_tensor *w, wb_reduction r) { return WB_H(c)->softmax_cross_entropy(c, x, labels, w, r); }
static inline wb_tensor *wb_smooth_l1_loss(wb_ctx *c, wb_tensor *x, wb_tensor *t, wb_tensor *w, float beta, wb_reduction r) { return WB_H(c)->smooth_l1_loss(c, x, t, w, beta, r); }
static inline wb_tensor *wb_l1_loss(wb_ctx *c, wb_tensor *x, wb_tensor *t, wb_tensor *w, wb_reduction r) { return WB_H(c)->l1_loss(c, x, t, w, r); }
static inline wb_tensor *wb_iou_loss(wb_ctx *c, wb_tensor *x, wb_tensor *t, wb_tensor *w, wb_iou_mode m, float eps, wb_reduction r) { return WB_H(c)->iou_loss(c, x, t, w, m, eps, r); }

/* Elementwise (ABI 1.2; host.h has the conventions). Losses such as varifocal,
 * quality focal or GIoU become a few lines of these with a free backward. */
static inline wb_tensor *wb_sub(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->sub(c, a, b); }
static inline wb_tensor *wb_div(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->div(c, a, b); }
static inline wb_tensor *wb_neg(wb_ctx *c, wb_tensor *x) { return WB_H(c)->neg(c, x); }
static inline wb_tensor *wb_exp(wb_ctx *c, wb_tensor *x) { return WB_H(c)->exp_(c, x); }
/* The natural logarithm (wb_log is the logging macro). */
static inline wb_tensor *wb_ln(wb_ctx *c, wb_tensor *x) { return WB_H(c)->log_(c, x); }
static inline wb_tensor *wb_pow(wb_ctx *c, wb_tensor *x, float exponent) { return WB_H(c)->pow_(c, x, exponent); }
static inline wb_tensor *wb_abs(wb_ctx *c, wb_tensor *x) { return WB_H(c)->abs(c, x); }
/* NAN for a bound means none: wb_clamp(c, x, 0.0f, NAN) clamps below only. */
static inline wb_tensor *wb_clamp(wb_ctx *c, wb_tensor *x, float lo, float hi) { return WB_H(c)->clamp(c, x, lo, hi); }
static inline wb_tensor *wb_minimum(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->minimum(c, a, b); }
static inline wb_tensor *wb_maximum(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->maximum(c, a, b); }
static inline wb_tensor *wb_gt(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->gt(c, a, b); }
static inline wb_tensor *wb_ge(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->ge(c, a, b); }
static inline wb_tensor *wb_lt(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->lt(c, a, b); }
static inline wb_tensor *wb_le(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->le(c, a, b); }
static inline wb_tensor *wb_eq(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->eq(c, a, b); }
static inline wb_tensor *wb_ne(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->ne(c, a, b); }
static inline wb_tensor *wb_where(wb_ctx *c, wb_tensor *cond, wb_tensor *a, wb_tensor *b) { return WB_H(c)->where(c, cond, a, b); }
static inline wb_tensor *wb_detach(wb_ctx *c, wb_tensor *x) { return WB_H(c)->detach(c, x); }
static inline wb_tensor *wb_add_scalar(wb_ctx *c, wb_tensor *x, float s) { return WB_H(c)->add_scalar(c, x, s); }
/* s - x, e.g. 1 - p. */
static inline wb_tensor *wb_rsub_scalar(wb_ctx *c, float s, wb_tensor *x) { return WB_H(c)->add_scalar(c, WB_H(c)->neg(c, x), s); }
static inline wb_status wb_record_custom_op(wb_ctx *c, const wb_custom_op *op) { return WB_H(c)->record_custom_op(c, op); }

/* Region and index ops (ABI 1.3; host.h has the semantics). */
static inline wb_tensor *wb_roi_align(wb_ctx *c, wb_tensor *feat, wb_tensor *rois, int out_h, int out_w, float spatial_scale, int sampling_ratio, int aligned) { return WB_H(c)->roi_align(c, feat, rois, out_h, out_w, spatial_scale, sampling_ratio, aligned); }
static inline wb_tensor *wb_roi_pool(wb_ctx *c, wb_tensor *feat, wb_tensor *rois, int out_h, int out_w, float spatial_scale) { return WB_H(c)->roi_pool(c, feat, rois, out_h, out_w, spatial_scale); }
static inline wb_tensor *wb_multiscale_roi_align(wb_ctx *c, wb_tensor *const *feats, int n_levels, const float *spatial_scales, wb_tensor *rois, int out_h, int out_w, int sampling_ratio, int aligned, const wb_roi_levels *lv) { return WB_H(c)->multiscale_roi_align(c, feats, n_levels, spatial_scales, rois, out_h, out_w, sampling_ratio, aligned, lv); }
static inline wb_tensor *wb_index_select(wb_ctx *c, wb_tensor *x, int axis, wb_tensor *index) { return WB_H(c)->index_select(c, x, axis, index); }
static inline wb_tensor *wb_group_norm(wb_ctx *c, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, int groups, float eps) { return WB_H(c)->group_norm(c, x, gamma, beta, groups, eps); }
static inline wb_tensor *wb_group_norm_act(wb_ctx *c, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, int groups, float eps, int act) { return WB_H(c)->group_norm_act(c, x, gamma, beta, groups, eps, act); }
static inline wb_tensor *wb_conv2d_add_act(wb_ctx *c, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p, wb_tensor *residual, int act) { return WB_H(c)->conv2d_add_act(c, x, w, b, p, residual, act); }
static inline wb_tensor *wb_hardsigmoid(wb_ctx *c, wb_tensor *x) { return WB_H(c)->hardsigmoid(c, x); }
/* torchvision's MultiScaleRoIAlign level rule (canonical scale 224 at level 4). */
static inline wb_roi_levels wb_roi_levels_torchvision(void) { wb_roi_levels l = {sizeof l, WB_ROI_LEVELS_TORCHVISION, 224.0f, 4, 56.0f, 0}; return l; }
/* mmdetection's SingleRoIExtractor rule (finest_scale 56). */
static inline wb_roi_levels wb_roi_levels_mmdet(void) { wb_roi_levels l = {sizeof l, WB_ROI_LEVELS_MMDET, 224.0f, 4, 56.0f, 0}; return l; }

/* Box utilities on tensors (ABI 1.4; host.h has the semantics). */
static inline wb_tensor *wb_box_iou_tensor(wb_ctx *c, wb_tensor *a, wb_tensor *b) { return WB_H(c)->box_iou_tensor(c, a, b); }
static inline wb_tensor *wb_box_encode_tensor(wb_ctx *c, wb_tensor *anchors, wb_tensor *gt, const float means[4], const float stds[4]) { return WB_H(c)->box_encode_tensor(c, anchors, gt, means, stds); }
static inline wb_tensor *wb_box_decode_tensor(wb_ctx *c, wb_tensor *anchors, wb_tensor *deltas, const float means[4], const float stds[4], float max_ratio, int clip_h, int clip_w) { return WB_H(c)->box_decode_tensor(c, anchors, deltas, means, stds, max_ratio, clip_h, clip_w); }
static inline wb_tensor *wb_grid_anchors_tensor(wb_ctx *c, const float *base, int n_base, int feat_h, int feat_w, int stride) { return WB_H(c)->grid_anchors_tensor(c, base, n_base, feat_h, feat_w, stride); }
static inline wb_tensor *wb_nms_tensor(wb_ctx *c, wb_tensor *boxes, wb_tensor *scores, wb_tensor *labels, float iou_threshold) { return WB_H(c)->nms_tensor(c, boxes, scores, labels, iou_threshold); }

#ifdef __cplusplus
}
#endif
#endif
