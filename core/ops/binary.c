/* Broadcast add and mul (numpy rules) and scaling by a constant. The
 * broadcast geometry is worked out once here and handed to the kernels. */
#include "ops.h"

#include "../backends/kernels_pointwise.h"
#include "../runtime/context.h"

/* Fills g for a (op) b and the output shape; false with the ctx error set
 * when the shapes do not broadcast. */
static bool broadcast(wb_context *c, const char *op, const wb_tensor *a, const wb_tensor *b,
                      wb_bcast *g, int *out_ndim, int64_t *out_shape) {
    int nd = a->ndim > b->ndim ? a->ndim : b->ndim;
    int64_t as[WB_MAX_DIMS], bs[WB_MAX_DIMS], sa = 1, sb = 1;
    /* Right-aligned, innermost first, so contiguous strides build up as we go. */
    for (int d = nd - 1; d >= 0; d--) {
        int ia = d - (nd - a->ndim), ib = d - (nd - b->ndim);
        int64_t da = ia >= 0 ? a->shape[ia] : 1, db = ib >= 0 ? b->shape[ib] : 1;
        if (da != db && da != 1 && db != 1) {
            char s1[96], s2[96];
            wb_ctx_fail(c, WB_ERR_INVALID,
                        "%s: shapes %s and %s do not broadcast (dim %d of the result: %lld vs %lld)", op,
                        wb_shape_str(a, s1, sizeof s1), wb_shape_str(b, s2, sizeof s2), d,
                        (long long)da, (long long)db);
            return false;
        }
        out_shape[d] = da == 1 ? db : da;
        as[d] = da == 1 ? 0 : sa;
        bs[d] = db == 1 ? 0 : sb;
        sa *= da;
        sb *= db;
    }
    *out_ndim = nd;
    /* Drop size-1 dims and merge a dim into its inner neighbour when both
     * operands step through them as one (equal zero strides included). */
    g->ndim = 0;
    for (int d = nd - 1; d >= 0; d--) {
        if (out_shape[d] == 1) continue;
        int k = g->ndim - 1;
        if (k >= 0 && as[d] == g->a_stride[k] * g->shape[k] && bs[d] == g->b_stride[k] * g->shape[k]) {
            g->shape[k] *= out_shape[d];
            continue;
        }
        g->ndim++;
        g->shape[k + 1] = out_shape[d];
        g->a_stride[k + 1] = as[d];
        g->b_stride[k + 1] = bs[d];
    }
    if (g->ndim == 0) {
        g->ndim = 1;
        g->shape[0] = 1;
        g->a_stride[0] = g->b_stride[0] = 0;
    }
    /* Built innermost first; kernels want outermost first. */
    for (int i = 0, j = g->ndim - 1; i < j; i++, j--) {
        int64_t t = g->shape[i];
        g->shape[i] = g->shape[j];
        g->shape[j] = t;
        t = g->a_stride[i];
        g->a_stride[i] = g->a_stride[j];
        g->a_stride[j] = t;
        t = g->b_stride[i];
        g->b_stride[i] = g->b_stride[j];
        g->b_stride[j] = t;
    }
    return true;
}

typedef struct binary_saved {
    wb_binary_kind kind;
    wb_bcast g;
} binary_saved;

/* One operand at a time, so mul(x, x) gets both contributions: the second
 * wb_grad_begin sees the first one already written. */
static wb_status binary_backward(wb_context *c, wb_tape_node *node) {
    const binary_saved *sv = node->saved;
    wb_tensor *y = node->out[0];
    const float *dy = wb_grad_of(c, y);
    if (!dy) return c->err;
    for (int i = 0; i < 2; i++) {
        wb_tensor *t = node->in[i];
        if (!t->requires_grad) continue;
        float *g = wb_grad_begin(c, t);
        if (!g) return c->err;
        if (y->numel == 0)
            c->s->backend->zero(g, (size_t)t->numel * sizeof(float));
        else
            c->s->backend->pointwise->binary_backward(sv->kind, &sv->g, node->in[0]->data,
                                                      node->in[1]->data, dy, i == 0 ? g : NULL,
                                                      i == 1 ? g : NULL);
        wb_grad_end(c, t, g);
    }
    return WB_OK;
}

static wb_tensor *binary(wb_ctx *ctx, const char *op, wb_binary_kind kind, wb_tensor *a, wb_tensor *b) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[2] = {a, b};
    if (!wb_ctx_check_inputs(c, op, in, 2)) return NULL;
    wb_bcast g;
    int nd;
    int64_t shape[WB_MAX_DIMS];
    if (!broadcast(c, op, a, b, &g, &nd, shape)) return NULL;
    wb_tensor *y = wb_ctx_tensor_uninit(c, nd, shape);
    if (!y) return NULL;
    if (y->numel > 0) c->s->backend->pointwise->binary_forward(kind, &g, a->data, b->data, y->data);
    if (wb_tape_needed(c, in, 2)) {
        wb_tape_node *node = wb_tape_record(c, op, binary_backward, in, 2, &y, 1, sizeof(binary_saved),
                                            kind == WB_BINARY_MUL ? WB_KEEP_IN(0) | WB_KEEP_IN(1) : WB_KEEP_NONE);
        if (!node) return NULL;
        *(binary_saved *)node->saved = (binary_saved){kind, g};
    }
    return y;
}

wb_tensor *wb_op_add(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "add", WB_BINARY_ADD, a, b); }

wb_tensor *wb_op_mul(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "mul", WB_BINARY_MUL, a, b); }

static wb_status scale_backward(wb_context *c, wb_tape_node *node) {
    float s = *(const float *)node->saved;
    wb_tensor *x = node->in[0], *y = node->out[0];
    if (!x->requires_grad) return WB_OK;
    const float *dy = wb_grad_of(c, y);
    float *dx = dy ? wb_grad_begin(c, x) : NULL;
    if (!dx) return c->err;
    c->s->backend->pointwise->scale(dy, s, dx, x->numel);
    wb_grad_end(c, x, dx);
    return WB_OK;
}

wb_tensor *wb_op_scale(wb_ctx *ctx, wb_tensor *x, float s) {
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, "scale", &x, 1)) return NULL;
    wb_tensor *y = wb_ctx_tensor_uninit(c, x->ndim, x->shape);
    if (!y) return NULL;
    c->s->backend->pointwise->scale(x->data, s, y->data, x->numel);
    if (wb_tape_needed(c, &x, 1)) {
        wb_tape_node *node = wb_tape_record(c, "scale", scale_backward, &x, 1, &y, 1, sizeof(float), WB_KEEP_NONE);
        if (!node) return NULL;
        *(float *)node->saved = s;
    }
    return y;
}
