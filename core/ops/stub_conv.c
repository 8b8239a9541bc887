/* TEMPORARY stubs for conv2d, replaced by its implementation. */
#include <workbench/ops.h>
#include "ops.h"
#include "../backends/families.h"

wb_tensor *wb_op_conv2d(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p) {
    (void)ctx;
    (void)x;
    (void)w;
    (void)b;
    (void)p;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_conv2d: not implemented yet");
    return NULL;
}

const wb_conv_kernels *wb_ref_conv_kernels(void) { return NULL; }
const wb_conv_kernels *wb_cpu_conv_kernels(void) { return NULL; }
