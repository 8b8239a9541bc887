/* Broadcast binary ops (numpy rules): add, sub, mul, div, minimum, maximum
 * and the comparisons (0/1 results, never recorded), and scaling by a
 * constant. The broadcast geometry is worked out once here and handed to
 * the kernels. */
#include "ops.h"

#include "../backends/pointwise_math.h"
#include "broadcast.h"

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
    if (!wb_ctx_check_inputs_any_layout(c, op, in, 2)) return NULL;
    /* A comparison's result is piecewise constant: no gradient flows through it. */
    bool record = !wb_binary_is_comparison(kind) && wb_tape_needed(c, in, 2);
    /* Two blocked operands of one shape pair up element by element in any layout. */
    bool blocked = a->blocked && b->blocked && wb_shape_equal(a, b) && !record;
    if (!blocked && !wb_ctx_make_all_plain(c, in, 2)) return NULL;
    wb_bcast g;
    int nd;
    int64_t shape[WB_MAX_DIMS];
    if (!wb_broadcast2(c, op, a, b, &g, &nd, shape)) return NULL;
    wb_tensor *y = wb_ctx_tensor_uninit(c, nd, shape);
    if (!y) return NULL;
    if (y->numel > 0) c->s->backend->pointwise->binary_forward(kind, &g, a->data, b->data, y->data);
    y->blocked = blocked;
    if (record) {
        unsigned keep = wb_binary_backward_reads_operands(kind) ? WB_KEEP_IN(0) | WB_KEEP_IN(1) : WB_KEEP_NONE;
        wb_tape_node *node = wb_tape_record(c, op, binary_backward, in, 2, &y, 1, sizeof(binary_saved), keep);
        if (!node) return NULL;
        *(binary_saved *)node->saved = (binary_saved){kind, g};
    }
    return y;
}

wb_tensor *wb_op_add(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "add", WB_BINARY_ADD, a, b); }

wb_tensor *wb_op_mul(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "mul", WB_BINARY_MUL, a, b); }

wb_tensor *wb_op_sub(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "sub", WB_BINARY_SUB, a, b); }

wb_tensor *wb_op_div(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "div", WB_BINARY_DIV, a, b); }

wb_tensor *wb_op_minimum(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) {
    return binary(ctx, "minimum", WB_BINARY_MIN, a, b);
}

wb_tensor *wb_op_maximum(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) {
    return binary(ctx, "maximum", WB_BINARY_MAX, a, b);
}

wb_tensor *wb_op_gt(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "gt", WB_BINARY_GT, a, b); }
wb_tensor *wb_op_ge(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "ge", WB_BINARY_GE, a, b); }
wb_tensor *wb_op_lt(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "lt", WB_BINARY_LT, a, b); }
wb_tensor *wb_op_le(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "le", WB_BINARY_LE, a, b); }
wb_tensor *wb_op_eq(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "eq", WB_BINARY_EQ, a, b); }
wb_tensor *wb_op_ne(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) { return binary(ctx, "ne", WB_BINARY_NE, a, b); }

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
