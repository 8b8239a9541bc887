/* sum and mean: over everything (axis -1, a 0-D result, as torch's
 * x.sum()) or over one axis, optionally keeping it with size 1. */
#include "ops.h"

#include <math.h>
#include <string.h>
#include "../backends/kernels_pointwise.h"
#include "../runtime/context.h"

typedef struct reduce_saved {
    int64_t outer, len, inner;
    float scale;
} reduce_saved;

static wb_status reduce_backward(wb_context *c, wb_tape_node *node) {
    const reduce_saved *sv = node->saved;
    wb_tensor *x = node->in[0], *y = node->out[0];
    if (!x->requires_grad) return WB_OK;
    const float *dy = wb_grad_of(c, y);
    float *dx = dy ? wb_grad_begin(c, x) : NULL;
    if (!dx) return c->err;
    c->s->backend->pointwise->broadcast_axis(dy, sv->outer, sv->len, sv->inner, sv->scale, dx);
    wb_grad_end(c, x, dx);
    return WB_OK;
}

static wb_tensor *reduce(wb_ctx *ctx, const char *op, int mean, wb_tensor *x, int axis, int keepdim) {
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, op, &x, 1)) return NULL;
    if (axis < -1 || axis >= x->ndim) {
        char s[96];
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: axis %d is out of range for %s (0..%d, or -1 for all)", op, axis,
                    wb_shape_str(x, s, sizeof s), x->ndim - 1);
        return NULL;
    }
    reduce_saved sv;
    int64_t shape[WB_MAX_DIMS];
    int ndim = 0;
    if (axis == -1) {
        sv = (reduce_saved){1, x->numel, 1, 1.0f};
    } else {
        sv.outer = wb_shape_numel(axis, x->shape);
        sv.len = x->shape[axis];
        sv.inner = wb_shape_numel(x->ndim - axis - 1, x->shape + axis + 1);
        for (int d = 0; d < x->ndim; d++) {
            if (d != axis) shape[ndim++] = x->shape[d];
            else if (keepdim) shape[ndim++] = 1;
        }
    }
    /* Mean of nothing is 0/0 = NaN, as in torch. */
    sv.scale = mean ? (sv.len > 0 ? 1.0f / (float)sv.len : NAN) : 1.0f;
    wb_tensor *y = wb_ctx_tensor_uninit(c, ndim, shape);
    if (!y) return NULL;
    c->s->backend->pointwise->reduce_sum(x->data, sv.outer, sv.len, sv.inner, sv.scale, y->data);
    if (wb_tape_needed(c, &x, 1)) {
        wb_tape_node *node = wb_tape_record(c, op, reduce_backward, &x, 1, &y, 1, sizeof sv, WB_KEEP_NONE);
        if (!node) return NULL;
        memcpy(node->saved, &sv, sizeof sv);
    }
    return y;
}

wb_tensor *wb_op_sum(wb_ctx *ctx, wb_tensor *x, int axis, int keepdim) { return reduce(ctx, "sum", 0, x, axis, keepdim); }

wb_tensor *wb_op_mean(wb_ctx *ctx, wb_tensor *x, int axis, int keepdim) {
    return reduce(ctx, "mean", 1, x, axis, keepdim);
}
