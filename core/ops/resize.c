/* Spatial resize of [N, C, H, W] tensors: nearest (integer factor or to a
 * size) and bilinear (to a size), with torch's index rules. */
#include "ops.h"

#include "../backends/kernels_layout.h"
#include "../backends/kernels_pointwise.h"
#include "../runtime/context.h"

typedef struct resize_saved {
    int bilinear;
    int align_corners;
} resize_saved;

static wb_status resize_backward(wb_context *c, wb_tape_node *node) {
    const resize_saved *sv = node->saved;
    wb_tensor *x = node->in[0], *y = node->out[0];
    if (!x->requires_grad) return WB_OK;
    const float *dy = wb_grad_of(c, y);
    float *dx = dy ? wb_grad_begin(c, x) : NULL;
    if (!dx) return c->err;
    const wb_pointwise_kernels *k = c->s->backend->pointwise;
    int64_t planes = x->shape[0] * x->shape[1];
    int in_h = (int)x->shape[2], in_w = (int)x->shape[3], out_h = (int)y->shape[2], out_w = (int)y->shape[3];
    if (sv->bilinear)
        k->bilinear_backward(dy, planes, in_h, in_w, out_h, out_w, sv->align_corners, dx);
    else
        k->nearest_backward(dy, planes, in_h, in_w, out_h, out_w, dx);
    wb_grad_end(c, x, dx);
    return WB_OK;
}

/* Output [N, C, out_h, out_w] after checking x is a non-empty 4-D tensor. */
static wb_tensor *resize_output(wb_context *c, const char *op, wb_tensor *x, int64_t out_h, int64_t out_w) {
    char s[96];
    if (x->ndim != 4) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: input must be 4-D [N, C, H, W], got %s", op,
                    wb_shape_str(x, s, sizeof s));
        return NULL;
    }
    if (x->shape[2] < 1 || x->shape[3] < 1) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: input %s has an empty spatial size", op,
                    wb_shape_str(x, s, sizeof s));
        return NULL;
    }
    if (out_h < 1 || out_w < 1 || out_h > INT32_MAX || out_w > INT32_MAX) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: output size %lld x %lld is out of range (1 .. 2^31-1)", op,
                    (long long)out_h, (long long)out_w);
        return NULL;
    }
    int64_t shape[4] = {x->shape[0], x->shape[1], out_h, out_w};
    return wb_ctx_tensor_uninit(c, 4, shape);
}

static wb_tensor *record(wb_context *c, const char *op, wb_tensor *x, wb_tensor *y, resize_saved sv) {
    if (wb_tape_needed(c, &x, 1)) {
        wb_tape_node *node = wb_tape_record(c, op, resize_backward, &x, 1, &y, 1, sizeof sv, WB_KEEP_NONE);
        if (!node) return NULL;
        *(resize_saved *)node->saved = sv;
    }
    return y;
}

wb_tensor *wb_op_upsample_nearest(wb_ctx *ctx, wb_tensor *x, int factor, int out_h, int out_w) {
    const char *op = "upsample_nearest";
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs_any_layout(c, op, &x, 1)) return NULL;
    if (wb_tape_needed(c, &x, 1) && !wb_ctx_make_plain(c, x)) return NULL;
    if ((out_h > 0) != (out_w > 0)) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: give both out_h and out_w (got %d x %d), or neither and a factor",
                    op, out_h, out_w);
        return NULL;
    }
    if (out_h <= 0 && factor < 1) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: factor must be >= 1 when no output size is given (got %d)", op,
                    factor);
        return NULL;
    }
    int64_t h = out_h > 0 ? out_h : (x->ndim == 4 ? x->shape[2] * factor : 0);
    int64_t w = out_w > 0 ? out_w : (x->ndim == 4 ? x->shape[3] * factor : 0);
    wb_tensor *y = resize_output(c, op, x, h, w);
    if (!y) return NULL;
    if (y->numel > 0 && x->blocked)
        c->s->backend->layout->nearest_forward(x->data, x->shape[0] * x->shape[1] / WB_LAYOUT_BLOCK,
                                               (int)x->shape[2], (int)x->shape[3], y->data, (int)h, (int)w);
    else if (y->numel > 0)
        c->s->backend->pointwise->nearest_forward(x->data, x->shape[0] * x->shape[1], (int)x->shape[2],
                                                  (int)x->shape[3], y->data, (int)h, (int)w);
    y->blocked = x->blocked;
    return record(c, op, x, y, (resize_saved){0, 0});
}

wb_tensor *wb_op_resize_bilinear(wb_ctx *ctx, wb_tensor *x, int out_h, int out_w, int align_corners) {
    const char *op = "resize_bilinear";
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, op, &x, 1)) return NULL;
    wb_tensor *y = resize_output(c, op, x, out_h, out_w);
    if (!y) return NULL;
    int ac = align_corners != 0;
    if (y->numel > 0)
        c->s->backend->pointwise->bilinear_forward(x->data, x->shape[0] * x->shape[1], (int)x->shape[2],
                                                   (int)x->shape[3], y->data, out_h, out_w, ac);
    return record(c, op, x, y, (resize_saved){1, ac});
}
