/* index_select front-end: torch.index_select with the index given as a
 * 1-D float tensor of integral values. Repeats are allowed; the backward
 * scatter-adds, so a row picked twice gets both gradients. */
#include <math.h>
#include <stdlib.h>
#include "ops.h"
#include "../backends/kernels_gather.h"
#include "../runtime/context.h"

typedef struct index_saved {
    int64_t outer, len, inner, n_index;
    const int64_t *index; /* device memory, checked in range */
} index_saved;

static wb_status index_select_backward(wb_context *c, wb_tape_node *node) {
    const index_saved *s = node->saved;
    wb_tensor *x = node->in[0];
    const float *dy = wb_grad_of(c, node->out[0]);
    float *dx = dy ? wb_grad_begin(c, x) : NULL;
    if (!dx) return c->err;
    c->s->backend->gather->index_select_backward(dy, s->outer, s->len, s->inner, s->index, s->n_index, dx);
    wb_grad_end(c, x, dx);
    return WB_OK;
}

/* The index values as device int64, each checked to be a row of the axis. */
static int64_t *read_index(wb_context *c, const wb_tensor *index, int64_t len, int axis, const wb_tensor *x) {
    static const char op[] = "index_select";
    int64_t n = index->numel;
    float *host = malloc((size_t)n * sizeof *host + 1);
    int64_t *rows = malloc((size_t)n * sizeof *rows + 1), *dev = NULL;
    bool ok = host && rows;
    if (!ok) wb_ctx_fail(c, WB_ERR_NOMEM, "%s: out of memory for %lld indices", op, (long long)n);
    if (ok) c->s->backend->download(host, index->data, (size_t)n * sizeof *host);
    for (int64_t j = 0; ok && j < n; j++) {
        ok = host[j] >= 0.0f && host[j] < (float)len && host[j] == floorf(host[j]);
        if (ok) {
            rows[j] = (int64_t)host[j];
            continue;
        }
        char xs[96];
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "%s: index[%lld] = %g is not a row of axis %d of %s: indices must be integers in [0, %lld)",
                    op, (long long)j, (double)host[j], axis, wb_shape_str(x, xs, sizeof xs), (long long)len);
    }
    if (ok) dev = wb_ctx_kernel_scratch(c, (size_t)n * sizeof *rows + 1);
    if (dev) c->s->backend->upload(dev, rows, (size_t)n * sizeof *rows);
    free(host);
    free(rows);
    return dev;
}

wb_tensor *wb_op_index_select(wb_ctx *ctx, wb_tensor *x, int axis, wb_tensor *index) {
    static const char op[] = "index_select";
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[2] = {x, index};
    if (!wb_ctx_check_inputs(c, op, in, 2)) return NULL;
    char xs[96], is[96];
    int a = axis < 0 ? axis + x->ndim : axis;
    if (a < 0 || a >= x->ndim) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: axis %d is out of range for a %d-D tensor %s", op, axis, x->ndim,
                    wb_shape_str(x, xs, sizeof xs));
        return NULL;
    }
    if (index->ndim != 1) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: index %s must be 1-D (a list of row numbers stored as floats)", op,
                    wb_shape_str(index, is, sizeof is));
        return NULL;
    }
    int64_t len = x->shape[a], n_index = index->shape[0];
    const int64_t *rows = read_index(c, index, len, a, x);
    if (!rows) return NULL;
    int64_t shape[WB_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = d == a ? n_index : x->shape[d];
    wb_tensor *y = wb_ctx_tensor_uninit(c, x->ndim, shape);
    if (!y) return NULL;
    int64_t outer = wb_shape_numel(a, x->shape), inner = wb_shape_numel(x->ndim - a - 1, x->shape + a + 1);
    c->s->backend->gather->index_select_forward(x->data, outer, len, inner, rows, n_index, y->data);
    if (wb_tape_needed(c, &x, 1)) {
        wb_tape_node *node = wb_tape_record(c, op, index_select_backward, &x, 1, &y, 1, sizeof(index_saved),
                                            WB_KEEP_NONE);
        if (!node) return NULL;
        *(index_saved *)node->saved = (index_saved){outer, len, inner, n_index, rows};
    }
    return y;
}
