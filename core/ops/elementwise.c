/* Elementwise math with a backward (neg, exp, log, pow by a scalar, abs,
 * clamp, add_scalar), where(cond, a, b) and detach. The formulas and
 * torch's conventions at the edges are in backends/pointwise_math.h. */
#include <math.h>
#include "ops.h"

#include "../backends/pointwise_math.h"
#include "broadcast.h"

typedef struct unary_saved {
    wb_unary_kind kind;
    float p, q;
} unary_saved;

static wb_status unary_backward(wb_context *c, wb_tape_node *node) {
    const unary_saved *sv = node->saved;
    wb_tensor *x = node->in[0], *y = node->out[0];
    if (!x->requires_grad) return WB_OK;
    const float *dy = wb_grad_of(c, y);
    float *dx = dy ? wb_grad_begin(c, x) : NULL;
    if (!dx) return c->err;
    c->s->backend->pointwise->unary_backward(sv->kind, sv->p, sv->q, x->data, y->data, dy, dx, x->numel);
    wb_grad_end(c, x, dx);
    return WB_OK;
}

static wb_tensor *unary(wb_ctx *ctx, const char *op, wb_unary_kind kind, float p, float q, wb_tensor *x) {
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, op, &x, 1)) return NULL;
    wb_tensor *y = wb_ctx_tensor_uninit(c, x->ndim, x->shape);
    if (!y) return NULL;
    c->s->backend->pointwise->unary_forward(kind, p, q, x->data, y->data, x->numel);
    if (wb_tape_needed(c, &x, 1)) {
        unsigned keep = (wb_unary_reads_input(kind) ? WB_KEEP_IN(0) : 0) |
                        (wb_unary_reads_output(kind) ? WB_KEEP_OUT(0) : 0);
        wb_tape_node *node = wb_tape_record(c, op, unary_backward, &x, 1, &y, 1, sizeof(unary_saved), keep);
        if (!node) return NULL;
        *(unary_saved *)node->saved = (unary_saved){kind, p, q};
    }
    return y;
}

wb_tensor *wb_op_neg(wb_ctx *ctx, wb_tensor *x) { return unary(ctx, "neg", WB_UNARY_NEG, 0, 0, x); }
wb_tensor *wb_op_exp(wb_ctx *ctx, wb_tensor *x) { return unary(ctx, "exp", WB_UNARY_EXP, 0, 0, x); }
wb_tensor *wb_op_log(wb_ctx *ctx, wb_tensor *x) { return unary(ctx, "log", WB_UNARY_LOG, 0, 0, x); }
wb_tensor *wb_op_abs(wb_ctx *ctx, wb_tensor *x) { return unary(ctx, "abs", WB_UNARY_ABS, 0, 0, x); }

wb_tensor *wb_op_pow(wb_ctx *ctx, wb_tensor *x, float exponent) {
    if (isnan(exponent)) {
        wb_ctx_fail(wb_ctx_impl(ctx), WB_ERR_INVALID, "pow: the exponent is NaN; pass a number");
        return NULL;
    }
    return unary(ctx, "pow", WB_UNARY_POW, exponent, 0, x);
}

wb_tensor *wb_op_add_scalar(wb_ctx *ctx, wb_tensor *x, float s) {
    return unary(ctx, "add_scalar", WB_UNARY_ADD_SCALAR, s, 0, x);
}

/* A NaN bound means "no bound on that side" (C has no optional float);
 * infinities work as themselves. */
wb_tensor *wb_op_clamp(wb_ctx *ctx, wb_tensor *x, float lo, float hi) {
    return unary(ctx, "clamp", WB_UNARY_CLAMP, isnan(lo) ? -INFINITY : lo, isnan(hi) ? INFINITY : hi, x);
}

typedef struct where_saved {
    wb_bcast3 g;
} where_saved;

static wb_status where_backward(wb_context *c, wb_tape_node *node) {
    const where_saved *sv = node->saved;
    wb_tensor *y = node->out[0];
    const float *dy = wb_grad_of(c, y);
    if (!dy) return c->err;
    /* One operand at a time, so where(m, x, x) gets both contributions. */
    for (int i = 1; i <= 2; i++) {
        wb_tensor *t = node->in[i];
        if (!t->requires_grad) continue;
        float *g = wb_grad_begin(c, t);
        if (!g) return c->err;
        if (y->numel == 0)
            c->s->backend->zero(g, (size_t)t->numel * sizeof(float));
        else
            c->s->backend->pointwise->where_backward(&sv->g, node->in[0]->data, dy, i == 1 ? g : NULL,
                                                     i == 2 ? g : NULL);
        wb_grad_end(c, t, g);
    }
    return WB_OK;
}

wb_tensor *wb_op_where(wb_ctx *ctx, wb_tensor *cond, wb_tensor *a, wb_tensor *b) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[3] = {cond, a, b};
    if (!wb_ctx_check_inputs(c, "where", in, 3)) return NULL;
    wb_bcast3 g;
    int nd;
    int64_t shape[WB_MAX_DIMS];
    if (!wb_broadcast3(c, "where", cond, a, b, &g, &nd, shape)) return NULL;
    wb_tensor *y = wb_ctx_tensor_uninit(c, nd, shape);
    if (!y) return NULL;
    if (y->numel > 0) c->s->backend->pointwise->where_forward(&g, cond->data, a->data, b->data, y->data);
    /* The condition gets no gradient: only a and b decide whether to record. */
    if (wb_tape_needed(c, in + 1, 2)) {
        wb_tape_node *node = wb_tape_record(c, "where", where_backward, in, 3, &y, 1, sizeof(where_saved),
                                            WB_KEEP_IN(0));
        if (!node) return NULL;
        ((where_saved *)node->saved)->g = g;
    }
    return y;
}

/* A view of x's data that no gradient flows through (torch's detach). */
wb_tensor *wb_op_detach(wb_ctx *ctx, wb_tensor *x) {
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, "detach", &x, 1)) return NULL;
    return wb_ctx_tensor_view(c, x, x->ndim, x->shape);
}
