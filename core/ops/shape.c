/* Shape ops: concat, split, slice (block copies along one axis), reshape (a
 * view sharing the input's data) and permute (a copy). Viewed along an axis,
 * a contiguous tensor is a matrix of `outer` rows, and each piece along the
 * axis is a column block of it: that is all concat, split and slice need. */
#include "ops.h"

#include <string.h>
#include "../backends/kernels_pointwise.h"
#include "../runtime/context.h"

/* Python-style axis (negative counts from the end) checked against ndim. */
static bool norm_axis(wb_context *c, const char *op, const wb_tensor *x, int axis, int *out) {
    int a = axis < 0 ? axis + x->ndim : axis;
    if (a < 0 || a >= x->ndim) {
        char s[96];
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: axis %d is out of range for a %d-D tensor %s", op, axis, x->ndim,
                    wb_shape_str(x, s, sizeof s));
        return false;
    }
    *out = a;
    return true;
}

static int64_t outer_of(const wb_tensor *x, int axis) { return wb_shape_numel(axis, x->shape); }

/* Elements per unit step along axis. */
static int64_t inner_of(const wb_tensor *x, int axis) {
    return wb_shape_numel(x->ndim - axis - 1, x->shape + axis + 1);
}

/* ---- concat ---- */

static wb_status concat_backward(wb_context *c, wb_tape_node *node) {
    int axis = *(const int *)node->saved;
    wb_tensor *y = node->out[0];
    const float *dy = wb_grad_of(c, y);
    if (!dy) return c->err;
    int64_t outer = outer_of(y, axis), inner = inner_of(y, axis), y_cols = y->shape[axis] * inner, off = 0;
    for (int i = 0; i < node->n_in; i++) {
        wb_tensor *x = node->in[i];
        int64_t cols = x->shape[axis] * inner;
        if (x->requires_grad) {
            float *dx = wb_grad_begin(c, x);
            if (!dx) return c->err;
            c->s->backend->pointwise->copy_block(dx, cols, dy + off, y_cols, outer, cols);
            wb_grad_end(c, x, dx);
        }
        off += cols;
    }
    return WB_OK;
}

wb_tensor *wb_op_concat(wb_ctx *ctx, wb_tensor *const *ts, int n, int axis) {
    const char *op = "concat";
    wb_context *c = wb_ctx_impl(ctx);
    if (c->err != WB_OK) return NULL;
    if (!ts || n < 1) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: needs at least one tensor (got %d)", op, n);
        return NULL;
    }
    if (!wb_ctx_check_inputs_any_layout(c, op, ts, n)) return NULL;
    int a;
    if (!norm_axis(c, op, ts[0], axis, &a)) return NULL;
    /* Along the channels of 4-D tensors each image's part is one run of c * h * w floats in the blocked
     * layout as in NCHW (its channels fill whole blocks), so the copies below serve both. */
    bool record = wb_tape_needed(c, ts, n), blocked = !record && a == 1 && ts[0]->ndim == 4;
    for (int i = 0; i < n; i++) blocked = blocked && ts[i]->blocked;
    if (!blocked && !wb_ctx_make_all_plain(c, ts, n)) return NULL;
    int64_t shape[WB_MAX_DIMS];
    memcpy(shape, ts[0]->shape, sizeof shape);
    for (int i = 1; i < n; i++) {
        bool same = ts[i]->ndim == ts[0]->ndim;
        for (int d = 0; same && d < ts[0]->ndim; d++) same = d == a || ts[i]->shape[d] == ts[0]->shape[d];
        if (!same) {
            char s0[96], si[96];
            wb_ctx_fail(c, WB_ERR_INVALID, "%s: tensor %d has shape %s but tensor 0 has %s; they may differ "
                        "only along axis %d", op, i, wb_shape_str(ts[i], si, sizeof si),
                        wb_shape_str(ts[0], s0, sizeof s0), a);
            return NULL;
        }
        shape[a] += ts[i]->shape[a];
    }
    wb_tensor *y = wb_ctx_tensor_uninit(c, ts[0]->ndim, shape);
    if (!y) return NULL;
    int64_t outer = outer_of(y, a), inner = inner_of(y, a), y_cols = shape[a] * inner, off = 0;
    for (int i = 0; i < n; i++) {
        int64_t cols = ts[i]->shape[a] * inner;
        c->s->backend->pointwise->copy_block(y->data + off, y_cols, ts[i]->data, cols, outer, cols);
        off += cols;
    }
    y->blocked = blocked;
    if (record) {
        wb_tape_node *node = wb_tape_record(c, op, concat_backward, ts, n, &y, 1, sizeof(int), WB_KEEP_NONE);
        if (!node) return NULL;
        *(int *)node->saved = a;
    }
    return y;
}

/* ---- split ---- */

static wb_status split_backward(wb_context *c, wb_tape_node *node) {
    int axis = *(const int *)node->saved;
    wb_tensor *x = node->in[0];
    if (!x->requires_grad) return WB_OK;
    float *dx = wb_grad_begin(c, x);
    if (!dx) return c->err;
    int64_t outer = outer_of(x, axis), inner = inner_of(x, axis), x_cols = x->shape[axis] * inner, off = 0;
    for (int i = 0; i < node->n_out; i++) {
        wb_tensor *y = node->out[i];
        int64_t cols = y->shape[axis] * inner;
        const float *dy = wb_grad_of(c, y); /* zeros for a piece nobody used */
        if (!dy) return c->err;
        c->s->backend->pointwise->copy_block(dx + off, x_cols, dy, cols, outer, cols);
        off += cols;
    }
    wb_grad_end(c, x, dx);
    return WB_OK;
}

wb_status wb_op_split(wb_ctx *ctx, wb_tensor *x, int axis, const int64_t *sizes, int n, wb_tensor **out) {
    const char *op = "split";
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, op, &x, 1)) return c->err;
    if (!sizes || !out || n < 1)
        return wb_ctx_fail(c, WB_ERR_INVALID, "%s: needs n >= 1 sizes and outputs (got n = %d)", op, n);
    int a;
    if (!norm_axis(c, op, x, axis, &a)) return c->err;
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        if (sizes[i] < 0)
            return wb_ctx_fail(c, WB_ERR_INVALID, "%s: size %d is negative (%lld)", op, i, (long long)sizes[i]);
        total += sizes[i];
    }
    if (total != x->shape[a]) {
        char s[96];
        return wb_ctx_fail(c, WB_ERR_INVALID, "%s: sizes add up to %lld but axis %d of %s has %lld", op,
                           (long long)total, a, wb_shape_str(x, s, sizeof s), (long long)x->shape[a]);
    }
    int64_t outer = outer_of(x, a), inner = inner_of(x, a), x_cols = x->shape[a] * inner, off = 0;
    int64_t shape[WB_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    for (int i = 0; i < n; i++) {
        shape[a] = sizes[i];
        out[i] = wb_ctx_tensor_uninit(c, x->ndim, shape);
        if (!out[i]) return c->err;
        int64_t cols = sizes[i] * inner;
        c->s->backend->pointwise->copy_block(out[i]->data, cols, x->data + off, x_cols, outer, cols);
        off += cols;
    }
    if (wb_tape_needed(c, &x, 1)) {
        wb_tape_node *node = wb_tape_record(c, op, split_backward, &x, 1, out, n, sizeof(int), WB_KEEP_NONE);
        if (!node) return c->err;
        *(int *)node->saved = a;
    }
    return WB_OK;
}

/* ---- slice ---- */

typedef struct slice_saved {
    int axis;
    int64_t start;
} slice_saved;

static wb_status slice_backward(wb_context *c, wb_tape_node *node) {
    const slice_saved *sv = node->saved;
    wb_tensor *x = node->in[0], *y = node->out[0];
    if (!x->requires_grad) return WB_OK;
    const float *dy = wb_grad_of(c, y);
    float *dx = dy ? wb_grad_begin(c, x) : NULL;
    if (!dx) return c->err;
    int64_t outer = outer_of(x, sv->axis), inner = inner_of(x, sv->axis);
    int64_t x_cols = x->shape[sv->axis] * inner, cols = y->shape[sv->axis] * inner;
    c->s->backend->zero(dx, (size_t)x->numel * sizeof(float));
    c->s->backend->pointwise->copy_block(dx + sv->start * inner, x_cols, dy, cols, outer, cols);
    wb_grad_end(c, x, dx);
    return WB_OK;
}

/* Python slicing bound: negative counts from the end, then clamped. */
static int64_t clamp_index(int64_t i, int64_t dim) {
    if (i < 0) i += dim;
    return i < 0 ? 0 : (i > dim ? dim : i);
}

wb_tensor *wb_op_slice(wb_ctx *ctx, wb_tensor *x, int axis, int64_t start, int64_t end) {
    const char *op = "slice";
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, op, &x, 1)) return NULL;
    int a;
    if (!norm_axis(c, op, x, axis, &a)) return NULL;
    int64_t s = clamp_index(start, x->shape[a]), e = clamp_index(end, x->shape[a]);
    if (e < s) e = s; /* an empty slice, as in python */
    int64_t shape[WB_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[a] = e - s;
    wb_tensor *y = wb_ctx_tensor_uninit(c, x->ndim, shape);
    if (!y) return NULL;
    int64_t outer = outer_of(x, a), inner = inner_of(x, a), cols = shape[a] * inner;
    c->s->backend->pointwise->copy_block(y->data, cols, x->data + s * inner, x->shape[a] * inner, outer, cols);
    if (wb_tape_needed(c, &x, 1)) {
        wb_tape_node *node = wb_tape_record(c, op, slice_backward, &x, 1, &y, 1, sizeof(slice_saved), WB_KEEP_NONE);
        if (!node) return NULL;
        *(slice_saved *)node->saved = (slice_saved){a, s};
    }
    return y;
}

/* ---- reshape ---- */

static wb_status reshape_backward(wb_context *c, wb_tape_node *node) {
    wb_tensor *x = node->in[0], *y = node->out[0];
    if (!x->requires_grad) return WB_OK;
    const float *dy = wb_grad_of(c, y);
    float *dx = dy ? wb_grad_begin(c, x) : NULL;
    if (!dx) return c->err;
    c->s->backend->copy(dx, dy, (size_t)x->numel * sizeof(float));
    wb_grad_end(c, x, dx);
    return WB_OK;
}

wb_tensor *wb_op_reshape(wb_ctx *ctx, wb_tensor *x, int ndim, const int64_t *shape) {
    const char *op = "reshape";
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, op, &x, 1)) return NULL;
    char s[96];
    if (ndim < 0 || ndim > WB_MAX_DIMS || (ndim > 0 && !shape)) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: rank %d is outside 0..%d", op, ndim, WB_MAX_DIMS);
        return NULL;
    }
    int64_t dims[WB_MAX_DIMS], known = 1;
    int infer = -1;
    for (int d = 0; d < ndim; d++) {
        dims[d] = shape[d];
        if (shape[d] == -1 && infer < 0) {
            infer = d;
        } else if (shape[d] < 0) {
            wb_ctx_fail(c, WB_ERR_INVALID, "%s: dim %d is %lld; sizes must be >= 0 with at most one -1", op, d,
                        (long long)shape[d]);
            return NULL;
        } else {
            known *= shape[d];
        }
    }
    if (infer >= 0) {
        if (known == 0 || x->numel % known != 0) {
            wb_ctx_fail(c, WB_ERR_INVALID, "%s: cannot infer dim %d: %lld elements of %s are not a multiple "
                        "of %lld", op, infer, (long long)x->numel, wb_shape_str(x, s, sizeof s), (long long)known);
            return NULL;
        }
        dims[infer] = x->numel / known;
        known *= dims[infer];
    }
    if (known != x->numel) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: %s has %lld elements, the new shape %lld", op,
                    wb_shape_str(x, s, sizeof s), (long long)x->numel, (long long)known);
        return NULL;
    }
    /* A view: same data, its own shape and gradient. */
    wb_tensor *y = wb_ctx_tensor_view(c, x, ndim, dims);
    if (!y) return NULL;
    if (wb_tape_needed(c, &x, 1) && !wb_tape_record(c, op, reshape_backward, &x, 1, &y, 1, 0, WB_KEEP_NONE)) return NULL;
    return y;
}

/* ---- permute ---- */

static wb_status permute_backward(wb_context *c, wb_tape_node *node) {
    const int *perm = node->saved;
    wb_tensor *x = node->in[0], *y = node->out[0];
    if (!x->requires_grad) return WB_OK;
    const float *dy = wb_grad_of(c, y);
    float *dx = dy ? wb_grad_begin(c, x) : NULL;
    if (!dx) return c->err;
    int inverse[WB_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) inverse[perm[d]] = d;
    c->s->backend->pointwise->permute(dy, y->ndim, y->shape, inverse, dx);
    wb_grad_end(c, x, dx);
    return WB_OK;
}

wb_tensor *wb_op_permute(wb_ctx *ctx, wb_tensor *x, const int *perm) {
    const char *op = "permute";
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, op, &x, 1)) return NULL;
    bool seen[WB_MAX_DIMS] = {false};
    int64_t shape[WB_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) {
        if (!perm || perm[d] < 0 || perm[d] >= x->ndim || seen[perm[d]]) {
            char s[96];
            wb_ctx_fail(c, WB_ERR_INVALID, "%s: perm must hold each of 0..%d exactly once for %s (entry %d is %d)",
                        op, x->ndim - 1, wb_shape_str(x, s, sizeof s), d, perm ? perm[d] : -1);
            return NULL;
        }
        seen[perm[d]] = true;
        shape[d] = x->shape[perm[d]];
    }
    wb_tensor *y = wb_ctx_tensor_uninit(c, x->ndim, shape);
    if (!y) return NULL;
    c->s->backend->pointwise->permute(x->data, x->ndim, x->shape, perm, y->data);
    if (wb_tape_needed(c, &x, 1)) {
        wb_tape_node *node = wb_tape_record(c, op, permute_backward, &x, 1, &y, 1, sizeof(int) * WB_MAX_DIMS, WB_KEEP_NONE);
        if (!node) return NULL;
        memcpy(node->saved, perm, (size_t)x->ndim * sizeof *perm);
    }
    return y;
}
