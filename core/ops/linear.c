/* matmul (2-D, optional transposes) and linear (x w^T + b) front-ends. Both
 * are C = op(A) op(B) for the gemm kernel; their backward is
 * d op(A) = dC op(B)^T and d op(B) = op(A)^T dC, written into the stored
 * (possibly transposed) layouts directly. */
#include <workbench/ops.h>
#include "ops.h"
#include "../backends/kernels_dense.h"
#include "../runtime/context.h"

typedef struct mm_saved {
    int trans_a, trans_b;
    int64_t m, n, k; /* op(A) is [m, k], op(B) is [k, n] */
} mm_saved;

/* Gradients of A and B (each only when it requires one) from dC [m, n]. */
static wb_status mm_grads(wb_context *c, wb_tensor *a, wb_tensor *b, const mm_saved *s, const float *dc) {
    const wb_dense_kernels *kd = c->s->backend->dense;
    int64_t m = s->m, n = s->n, k = s->k, lda = a->shape[1], ldb = b->shape[1];
    if (a->requires_grad) {
        float *da = wb_grad_begin(c, a);
        if (!da) return c->err;
        if (s->trans_a) /* A is [k, m]: dA = op(B) dC^T */
            kd->gemm(s->trans_b, 1, k, m, n, 1.0f, b->data, ldb, dc, n, 0.0f, da, lda);
        else            /* A is [m, k]: dA = dC op(B)^T */
            kd->gemm(0, !s->trans_b, m, k, n, 1.0f, dc, n, b->data, ldb, 0.0f, da, lda);
        wb_grad_end(c, a, da);
    }
    if (b->requires_grad) {
        float *db = wb_grad_begin(c, b);
        if (!db) return c->err;
        if (s->trans_b) /* B is [n, k]: dB = dC^T op(A) */
            kd->gemm(1, s->trans_a, n, k, m, 1.0f, dc, n, a->data, lda, 0.0f, db, ldb);
        else            /* B is [k, n]: dB = op(A)^T dC */
            kd->gemm(!s->trans_a, 0, k, n, m, 1.0f, a->data, lda, dc, n, 0.0f, db, ldb);
        wb_grad_end(c, b, db);
    }
    return WB_OK;
}

static wb_status matmul_backward(wb_context *c, wb_tape_node *node) {
    const float *dc = wb_grad_of(c, node->out[0]);
    if (!dc) return c->err;
    return mm_grads(c, node->in[0], node->in[1], node->saved, dc);
}

static wb_status linear_backward(wb_context *c, wb_tape_node *node) {
    const mm_saved *s = node->saved;
    const float *dy = wb_grad_of(c, node->out[0]);
    if (!dy || mm_grads(c, node->in[0], node->in[1], s, dy) != WB_OK) return c->err;
    wb_tensor *bias = node->n_in > 2 ? node->in[2] : NULL;
    if (bias && bias->requires_grad) {
        float *db = wb_grad_begin(c, bias);
        if (!db) return c->err;
        c->s->backend->dense->sum_rows(dy, s->m, s->n, db);
        wb_grad_end(c, bias, db);
    }
    return WB_OK;
}

/* Runs C = op(A) op(B) into a new [m, n] tensor. */
static wb_tensor *mm_forward(wb_context *c, wb_tensor *a, wb_tensor *b, const mm_saved *s) {
    int64_t shape[2] = {s->m, s->n};
    wb_tensor *y = wb_ctx_tensor_uninit(c, 2, shape);
    if (y)
        c->s->backend->dense->gemm(s->trans_a, s->trans_b, s->m, s->n, s->k, 1.0f, a->data, a->shape[1],
                                   b->data, b->shape[1], 0.0f, y->data, s->n);
    return y;
}

static bool record(wb_context *c, const char *op, wb_tape_backward_fn fn, wb_tensor *const *in, int n_in,
                   wb_tensor *y, const mm_saved *s) {
    if (!wb_tape_needed(c, in, n_in)) return true;
    wb_tape_node *node = wb_tape_record(c, op, fn, in, n_in, &y, 1, sizeof *s, WB_KEEP_IN(0) | WB_KEEP_IN(1));
    if (!node) return false;
    *(mm_saved *)node->saved = *s;
    return true;
}

wb_tensor *wb_op_matmul(wb_ctx *ctx, wb_tensor *a, wb_tensor *b, int trans_a, int trans_b) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[2] = {a, b};
    if (!wb_ctx_check_inputs(c, "matmul", in, 2)) return NULL;
    char as[96], bs[96];
    if (a->ndim != 2 || b->ndim != 2) {
        wb_ctx_fail(c, WB_ERR_INVALID, "matmul: a %s and b %s must both be 2-D", wb_shape_str(a, as, sizeof as),
                    wb_shape_str(b, bs, sizeof bs));
        return NULL;
    }
    mm_saved s = {trans_a != 0, trans_b != 0, a->shape[trans_a ? 1 : 0], b->shape[trans_b ? 0 : 1],
                  a->shape[trans_a ? 0 : 1]};
    int64_t kb = b->shape[trans_b ? 1 : 0];
    if (s.k != kb) {
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "matmul: inner dimensions differ: a %s%s has %lld columns, b %s%s has %lld rows",
                    wb_shape_str(a, as, sizeof as), s.trans_a ? " transposed" : "", (long long)s.k,
                    wb_shape_str(b, bs, sizeof bs), s.trans_b ? " transposed" : "", (long long)kb);
        return NULL;
    }
    wb_tensor *y = mm_forward(c, a, b, &s);
    if (!y || !record(c, "matmul", matmul_backward, in, 2, y, &s)) return NULL;
    return y;
}

wb_tensor *wb_op_linear(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[3] = {x, w, b};
    if (!wb_ctx_check_inputs(c, "linear", in, 2)) return NULL;
    char xs[96], ws[96];
    if (x->ndim != 2 || w->ndim != 2 || x->shape[1] != w->shape[1]) {
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "linear: input %s must be [N, in_features] and weight %s [out_features, in_features] "
                    "with the same in_features",
                    wb_shape_str(x, xs, sizeof xs), wb_shape_str(w, ws, sizeof ws));
        return NULL;
    }
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0])) {
        wb_ctx_fail(c, WB_ERR_INVALID, "linear: bias %s must be [%lld] (one value per output feature)",
                    wb_shape_str(b, xs, sizeof xs), (long long)w->shape[0]);
        return NULL;
    }
    mm_saved s = {0, 1, x->shape[0], w->shape[0], x->shape[1]};
    wb_tensor *y = mm_forward(c, x, w, &s);
    if (!y) return NULL;
    if (b) c->s->backend->dense->add_row_bias(y->data, b->data, s.m, s.n);
    if (!record(c, "linear", linear_backward, in, b ? 3 : 2, y, &s)) return NULL;
    return y;
}
