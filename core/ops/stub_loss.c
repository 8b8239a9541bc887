/* TEMPORARY stubs for the loss ops, replaced by their implementations. */
#include <workbench/ops.h>
#include "ops.h"
#include "../backends/families.h"

wb_tensor *wb_op_sigmoid_focal_loss(wb_ctx *ctx, wb_tensor *logits, wb_tensor *target, wb_tensor *weight, float gamma, float alpha, wb_reduction r) {
    (void)ctx;
    (void)logits;
    (void)target;
    (void)weight;
    (void)gamma;
    (void)alpha;
    (void)r;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_sigmoid_focal_loss: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_bce_with_logits(wb_ctx *ctx, wb_tensor *logits, wb_tensor *target, wb_tensor *weight, wb_reduction r) {
    (void)ctx;
    (void)logits;
    (void)target;
    (void)weight;
    (void)r;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_bce_with_logits: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_softmax_cross_entropy(wb_ctx *ctx, wb_tensor *logits, wb_tensor *labels, wb_tensor *weight, wb_reduction r) {
    (void)ctx;
    (void)logits;
    (void)labels;
    (void)weight;
    (void)r;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_softmax_cross_entropy: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_smooth_l1_loss(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target, wb_tensor *weight, float beta, wb_reduction r) {
    (void)ctx;
    (void)pred;
    (void)target;
    (void)weight;
    (void)beta;
    (void)r;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_smooth_l1_loss: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_l1_loss(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target, wb_tensor *weight, wb_reduction r) {
    (void)ctx;
    (void)pred;
    (void)target;
    (void)weight;
    (void)r;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_l1_loss: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_iou_loss(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target, wb_tensor *weight, wb_iou_mode mode, float eps, wb_reduction r) {
    (void)ctx;
    (void)pred;
    (void)target;
    (void)weight;
    (void)mode;
    (void)eps;
    (void)r;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_iou_loss: not implemented yet");
    return NULL;
}

const wb_loss_kernels *wb_ref_loss_kernels(void) { return NULL; }
const wb_loss_kernels *wb_cpu_loss_kernels(void) { return NULL; }
