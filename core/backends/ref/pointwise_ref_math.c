/* Reference elementwise math (neg, exp, log, pow, abs, clamp, add_scalar)
 * and where(cond, a, b), one element at a time with the shared formulas. */
#include <string.h>
#include "../pointwise_math.h"
#include "pointwise_ref.h"

void wb_ref_unary_forward(wb_unary_kind kind, float p, float q, const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = wb_unary_value(kind, p, q, x[i]);
}

void wb_ref_unary_backward(wb_unary_kind kind, float p, float q, const float *x, const float *y,
                           const float *dy, float *dx, int64_t n) {
    /* Only what the kind reads is still alive (see kernels_pointwise.h). */
    bool rx = wb_unary_reads_input(kind), ry = wb_unary_reads_output(kind);
    for (int64_t i = 0; i < n; i++)
        dx[i] = wb_unary_grad(kind, p, q, rx ? x[i] : 0.0f, ry ? y[i] : 0.0f, dy[i]);
}

static int64_t numel3(const wb_bcast3 *g) {
    int64_t n = 1;
    for (int d = 0; d < g->ndim; d++) n *= g->shape[d];
    return n;
}

/* Offsets into cond, a and b of output element i. */
static void offsets3(const wb_bcast3 *g, int64_t i, int64_t off[3]) {
    off[0] = off[1] = off[2] = 0;
    for (int d = g->ndim - 1; d >= 0; d--) {
        int64_t idx = i % g->shape[d];
        i /= g->shape[d];
        for (int k = 0; k < 3; k++) off[k] += idx * g->stride[k][d];
    }
}

static int64_t operand_numel3(const wb_bcast3 *g, int k) {
    int64_t n = 1;
    for (int d = 0; d < g->ndim; d++)
        if (g->stride[k][d] != 0) n *= g->shape[d];
    return n;
}

void wb_ref_where_forward(const wb_bcast3 *g, const float *cond, const float *a, const float *b,
                          float *y) {
    int64_t n = numel3(g);
    for (int64_t i = 0; i < n; i++) {
        int64_t off[3];
        offsets3(g, i, off);
        y[i] = cond[off[0]] != 0.0f ? a[off[1]] : b[off[2]];
    }
}

void wb_ref_where_backward(const wb_bcast3 *g, const float *cond, const float *dy, float *da, float *db) {
    if (da) memset(da, 0, (size_t)operand_numel3(g, 1) * sizeof *da);
    if (db) memset(db, 0, (size_t)operand_numel3(g, 2) * sizeof *db);
    int64_t n = numel3(g);
    for (int64_t i = 0; i < n; i++) {
        int64_t off[3];
        offsets3(g, i, off);
        bool pick_a = cond[off[0]] != 0.0f;
        if (da && pick_a) da[off[1]] += dy[i];
        if (db && !pick_a) db[off[2]] += dy[i];
    }
}
