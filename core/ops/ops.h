/* Op front-ends: the functions behind the host table's op entries. Each one
 * checks its inputs and the sticky error, validates shapes (messages name the
 * op and the module), allocates its output in the compute arena, runs the
 * session backend's kernel and records a tape node when gradients are needed.
 * Signatures are exactly those of wb_host_api (sdk/include/workbench/host.h). */
#ifndef WB_CORE_OPS_H
#define WB_CORE_OPS_H

#include <stdbool.h>
#include <workbench/host.h>

/* dense: conv.c norm.c pool.c linear.c */
wb_tensor *wb_op_conv2d(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p);
wb_tensor *wb_op_conv2d_act(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p,
                            int act);
wb_tensor *wb_op_conv2d_add_act(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p,
                                wb_tensor *residual, int act);
wb_tensor *wb_op_batch_norm(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta,
                            wb_tensor *running_mean, wb_tensor *running_var,
                            int training, float momentum, float eps);
/* For the ops taking a WB_ACTIVATION_* (conv2d_act, batch_norm_act): false, with the error naming op and the
 * choices, for any other value. activation.c */
bool wb_op_check_activation(wb_ctx *ctx, const char *op, int act);
/* act(y) as an op of its own (y itself for WB_ACTIVATION_NONE); the caller's y is released. activation.c */
wb_tensor *wb_op_then_activation(wb_ctx *ctx, wb_tensor *y, int act);
/* act(batch_norm(...)), act a WB_ACTIVATION_*: norm.c */
wb_tensor *wb_op_batch_norm_act(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta,
                                wb_tensor *running_mean, wb_tensor *running_var, int training, float momentum,
                                float eps, int act);
wb_tensor *wb_op_max_pool2d(wb_ctx *ctx, wb_tensor *x, const wb_pool2d_params *p);
wb_tensor *wb_op_avg_pool2d(wb_ctx *ctx, wb_tensor *x, const wb_pool2d_params *p);
wb_tensor *wb_op_global_avg_pool(wb_ctx *ctx, wb_tensor *x);
wb_tensor *wb_op_matmul(wb_ctx *ctx, wb_tensor *a, wb_tensor *b, int trans_a, int trans_b);
wb_tensor *wb_op_linear(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b);

/* pointwise and shape: activation.c binary.c resize.c shape.c reduce.c */
wb_tensor *wb_op_relu(wb_ctx *ctx, wb_tensor *x);
wb_tensor *wb_op_leaky_relu(wb_ctx *ctx, wb_tensor *x, float negative_slope);
wb_tensor *wb_op_silu(wb_ctx *ctx, wb_tensor *x);
wb_tensor *wb_op_sigmoid(wb_ctx *ctx, wb_tensor *x);
wb_tensor *wb_op_hardswish(wb_ctx *ctx, wb_tensor *x);
wb_tensor *wb_op_hardsigmoid(wb_ctx *ctx, wb_tensor *x);
wb_tensor *wb_op_upsample_nearest(wb_ctx *ctx, wb_tensor *x, int factor, int out_h, int out_w);
wb_tensor *wb_op_resize_bilinear(wb_ctx *ctx, wb_tensor *x, int out_h, int out_w, int align_corners);
wb_tensor *wb_op_add(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_mul(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_scale(wb_ctx *ctx, wb_tensor *x, float s);
wb_tensor *wb_op_concat(wb_ctx *ctx, wb_tensor *const *ts, int n, int axis);
wb_status wb_op_split(wb_ctx *ctx, wb_tensor *x, int axis, const int64_t *sizes, int n, wb_tensor **out);
wb_tensor *wb_op_slice(wb_ctx *ctx, wb_tensor *x, int axis, int64_t start, int64_t end);
wb_tensor *wb_op_reshape(wb_ctx *ctx, wb_tensor *x, int ndim, const int64_t *shape);
wb_tensor *wb_op_permute(wb_ctx *ctx, wb_tensor *x, const int *perm);
wb_tensor *wb_op_sum(wb_ctx *ctx, wb_tensor *x, int axis, int keepdim);

wb_tensor *wb_op_mean(wb_ctx *ctx, wb_tensor *x, int axis, int keepdim);

/* elementwise (ABI 1.2): binary.c elementwise.c */
wb_tensor *wb_op_sub(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_div(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_minimum(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_maximum(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_gt(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_ge(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_lt(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_le(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_eq(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_ne(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_neg(wb_ctx *ctx, wb_tensor *x);
wb_tensor *wb_op_exp(wb_ctx *ctx, wb_tensor *x);
wb_tensor *wb_op_log(wb_ctx *ctx, wb_tensor *x);
wb_tensor *wb_op_pow(wb_ctx *ctx, wb_tensor *x, float exponent);
wb_tensor *wb_op_abs(wb_ctx *ctx, wb_tensor *x);
wb_tensor *wb_op_clamp(wb_ctx *ctx, wb_tensor *x, float lo, float hi);
wb_tensor *wb_op_add_scalar(wb_ctx *ctx, wb_tensor *x, float s);
wb_tensor *wb_op_where(wb_ctx *ctx, wb_tensor *cond, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_detach(wb_ctx *ctx, wb_tensor *x);

/* region and index ops (ABI 1.3): roi_align.c roi_pool.c roi_multiscale.c
 * index_select.c group_norm.c */
wb_tensor *wb_op_roi_align(wb_ctx *ctx, wb_tensor *feat, wb_tensor *rois, int out_h, int out_w,
                           float spatial_scale, int sampling_ratio, int aligned);
wb_tensor *wb_op_roi_pool(wb_ctx *ctx, wb_tensor *feat, wb_tensor *rois, int out_h, int out_w,
                          float spatial_scale);
wb_tensor *wb_op_multiscale_roi_align(wb_ctx *ctx, wb_tensor *const *feats, int n_levels,
                                      const float *spatial_scales, wb_tensor *rois, int out_h, int out_w,
                                      int sampling_ratio, int aligned, const wb_roi_levels *lv);
wb_tensor *wb_op_index_select(wb_ctx *ctx, wb_tensor *x, int axis, wb_tensor *index);
wb_tensor *wb_op_group_norm(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, int groups, float eps);
/* act(group_norm(...)), act a WB_ACTIVATION_* (ABI 1.5). */
wb_tensor *wb_op_group_norm_act(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, int groups, float eps,
                                int act);

/* losses: loss_*.c */
wb_tensor *wb_op_sigmoid_focal_loss(wb_ctx *ctx, wb_tensor *logits, wb_tensor *target,
                                    wb_tensor *weight, float gamma, float alpha, wb_reduction r);
wb_tensor *wb_op_bce_with_logits(wb_ctx *ctx, wb_tensor *logits, wb_tensor *target,
                                 wb_tensor *weight, wb_reduction r);
wb_tensor *wb_op_softmax_cross_entropy(wb_ctx *ctx, wb_tensor *logits, wb_tensor *labels,
                                       wb_tensor *weight, wb_reduction r);
wb_tensor *wb_op_smooth_l1_loss(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target,
                                wb_tensor *weight, float beta, wb_reduction r);
wb_tensor *wb_op_l1_loss(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target, wb_tensor *weight,
                         wb_reduction r);
wb_tensor *wb_op_iou_loss(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target, wb_tensor *weight,
                          wb_iou_mode mode, float eps, wb_reduction r);

/* box utilities (host memory, no gradient): boxes.c nms.c anchors.c */
void wb_box_iou(const float *a, int na, const float *b, int nb, float *out);
void wb_box_encode(const float *anchors, const float *gt, int n,
                   const float means[4], const float stds[4], float *deltas);
void wb_box_decode(const float *anchors, const float *deltas, int n,
                   const float means[4], const float stds[4], float max_ratio,
                   int clip_h, int clip_w, float *boxes);
int wb_nms(const float *boxes, const float *scores, const int *labels, int n,
           float iou_threshold, int *keep);
void wb_base_anchors(float base_size, const float *scales, int n_scales,
                     const float *ratios, int n_ratios, float center_offset, float *out);
void wb_grid_anchors(const float *base, int n_base, int feat_h, int feat_w, int stride, float *out);

/* box utilities on tensors (ABI 1.4), the backend's box kernels: boxes_tensor.c */
wb_tensor *wb_op_box_iou_tensor(wb_ctx *ctx, wb_tensor *a, wb_tensor *b);
wb_tensor *wb_op_box_encode_tensor(wb_ctx *ctx, wb_tensor *anchors, wb_tensor *gt, const float means[4],
                                   const float stds[4]);
wb_tensor *wb_op_box_decode_tensor(wb_ctx *ctx, wb_tensor *anchors, wb_tensor *deltas, const float means[4],
                                   const float stds[4], float max_ratio, int clip_h, int clip_w);
wb_tensor *wb_op_grid_anchors_tensor(wb_ctx *ctx, const float *base, int n_base, int feat_h, int feat_w,
                                     int stride);
wb_tensor *wb_op_nms_tensor(wb_ctx *ctx, wb_tensor *boxes, wb_tensor *scores, wb_tensor *labels,
                            float iou_threshold);

/* For the tape, not host entries: gives y, the output of the conv2d tape node `conv` whose memory was freed,
 * its data again by running that convolution once more (on the input the node holds), in pool memory that
 * wb_tape_unrevive frees. false (ctx error set) on failure. conv.c */
struct wb_context;
struct wb_tape_node;
bool wb_conv_recompute_output(struct wb_context *c, struct wb_tape_node *conv, wb_tensor *y);

#endif
