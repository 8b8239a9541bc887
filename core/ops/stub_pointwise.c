/* TEMPORARY stubs for the pointwise ops, replaced by their implementations. */
#include <workbench/ops.h>
#include "ops.h"
#include "../backends/families.h"

wb_tensor *wb_op_relu(wb_ctx *ctx, wb_tensor *x) {
    (void)ctx;
    (void)x;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_relu: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_leaky_relu(wb_ctx *ctx, wb_tensor *x, float negative_slope) {
    (void)ctx;
    (void)x;
    (void)negative_slope;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_leaky_relu: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_silu(wb_ctx *ctx, wb_tensor *x) {
    (void)ctx;
    (void)x;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_silu: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_sigmoid(wb_ctx *ctx, wb_tensor *x) {
    (void)ctx;
    (void)x;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_sigmoid: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_hardswish(wb_ctx *ctx, wb_tensor *x) {
    (void)ctx;
    (void)x;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_hardswish: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_upsample_nearest(wb_ctx *ctx, wb_tensor *x, int factor, int out_h, int out_w) {
    (void)ctx;
    (void)x;
    (void)factor;
    (void)out_h;
    (void)out_w;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_upsample_nearest: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_add(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) {
    (void)ctx;
    (void)a;
    (void)b;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_add: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_mul(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) {
    (void)ctx;
    (void)a;
    (void)b;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_mul: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_scale(wb_ctx *ctx, wb_tensor *x, float s) {
    (void)ctx;
    (void)x;
    (void)s;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_scale: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_concat(wb_ctx *ctx, wb_tensor *const *ts, int n, int axis) {
    (void)ctx;
    (void)ts;
    (void)n;
    (void)axis;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_concat: not implemented yet");
    return NULL;
}

wb_status wb_op_split(wb_ctx *ctx, wb_tensor *x, int axis, const int64_t *sizes, int n, wb_tensor **out) {
    (void)ctx;
    (void)x;
    (void)axis;
    (void)sizes;
    (void)n;
    (void)out;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_split: not implemented yet");
    return WB_ERR_UNSUPPORTED;
}

wb_tensor *wb_op_slice(wb_ctx *ctx, wb_tensor *x, int axis, int64_t start, int64_t end) {
    (void)ctx;
    (void)x;
    (void)axis;
    (void)start;
    (void)end;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_slice: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_reshape(wb_ctx *ctx, wb_tensor *x, int ndim, const int64_t *shape) {
    (void)ctx;
    (void)x;
    (void)ndim;
    (void)shape;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_reshape: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_permute(wb_ctx *ctx, wb_tensor *x, const int *perm) {
    (void)ctx;
    (void)x;
    (void)perm;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_permute: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_sum(wb_ctx *ctx, wb_tensor *x, int axis, int keepdim) {
    (void)ctx;
    (void)x;
    (void)axis;
    (void)keepdim;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_sum: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_mean(wb_ctx *ctx, wb_tensor *x, int axis, int keepdim) {
    (void)ctx;
    (void)x;
    (void)axis;
    (void)keepdim;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_mean: not implemented yet");
    return NULL;
}

const wb_pointwise_kernels *wb_ref_pointwise_kernels(void) { return NULL; }
const wb_pointwise_kernels *wb_cpu_pointwise_kernels(void) { return NULL; }
