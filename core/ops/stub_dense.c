/* TEMPORARY stubs for the dense ops, replaced by their implementations. */
#include <workbench/ops.h>
#include "ops.h"
#include "../backends/families.h"

wb_tensor *wb_op_batch_norm(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, wb_tensor *running_mean, wb_tensor *running_var, int training, float momentum, float eps) {
    (void)ctx;
    (void)x;
    (void)gamma;
    (void)beta;
    (void)running_mean;
    (void)running_var;
    (void)training;
    (void)momentum;
    (void)eps;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_batch_norm: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_max_pool2d(wb_ctx *ctx, wb_tensor *x, const wb_pool2d_params *p) {
    (void)ctx;
    (void)x;
    (void)p;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_max_pool2d: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_avg_pool2d(wb_ctx *ctx, wb_tensor *x, const wb_pool2d_params *p) {
    (void)ctx;
    (void)x;
    (void)p;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_avg_pool2d: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_global_avg_pool(wb_ctx *ctx, wb_tensor *x) {
    (void)ctx;
    (void)x;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_global_avg_pool: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_matmul(wb_ctx *ctx, wb_tensor *a, wb_tensor *b, int trans_a, int trans_b) {
    (void)ctx;
    (void)a;
    (void)b;
    (void)trans_a;
    (void)trans_b;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_matmul: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_linear(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b) {
    (void)ctx;
    (void)x;
    (void)w;
    (void)b;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_linear: not implemented yet");
    return NULL;
}

wb_tensor *wb_op_resize_bilinear(wb_ctx *ctx, wb_tensor *x, int out_h, int out_w, int align_corners) {
    (void)ctx;
    (void)x;
    (void)out_h;
    (void)out_w;
    (void)align_corners;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_resize_bilinear: not implemented yet");
    return NULL;
}

const wb_dense_kernels *wb_ref_dense_kernels(void) { return NULL; }
const wb_dense_kernels *wb_cpu_dense_kernels(void) { return NULL; }
