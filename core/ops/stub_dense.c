/* TEMPORARY stub for resize_bilinear (pointwise family), replaced by its implementation. */
#include <workbench/ops.h>
#include "ops.h"
#include "../backends/families.h"

wb_tensor *wb_op_resize_bilinear(wb_ctx *ctx, wb_tensor *x, int out_h, int out_w, int align_corners) {
    (void)ctx;
    (void)x;
    (void)out_h;
    (void)out_w;
    (void)align_corners;
    WB_H(ctx)->set_error(ctx, WB_ERR_UNSUPPORTED, "op_resize_bilinear: not implemented yet");
    return NULL;
}
