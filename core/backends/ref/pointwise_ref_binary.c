/* Reference broadcast binary ops: every output element finds its operands by
 * decomposing its index; backward scatters into the operands' gradients. */
#include <string.h>
#include "../pointwise_math.h"
#include "pointwise_ref.h"

static int64_t bcast_numel(const wb_bcast *g) {
    int64_t n = 1;
    for (int d = 0; d < g->ndim; d++) n *= g->shape[d];
    return n;
}

/* Offsets into a and b of output element i. */
static void operand_offsets(const wb_bcast *g, int64_t i, int64_t *oa, int64_t *ob) {
    *oa = 0;
    *ob = 0;
    for (int d = g->ndim - 1; d >= 0; d--) {
        int64_t idx = i % g->shape[d];
        i /= g->shape[d];
        *oa += idx * g->a_stride[d];
        *ob += idx * g->b_stride[d];
    }
}

static int64_t operand_numel(const wb_bcast *g, const int64_t *stride) {
    int64_t n = 1;
    for (int d = 0; d < g->ndim; d++)
        if (stride[d] != 0) n *= g->shape[d];
    return n;
}

void wb_ref_binary_forward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                           float *y) {
    int64_t n = bcast_numel(g);
    for (int64_t i = 0; i < n; i++) {
        int64_t oa, ob;
        operand_offsets(g, i, &oa, &ob);
        y[i] = wb_binary_value(kind, a[oa], b[ob]);
    }
}

void wb_ref_binary_backward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                            const float *dy, float *da, float *db) {
    if (da) memset(da, 0, (size_t)operand_numel(g, g->a_stride) * sizeof *da);
    if (db) memset(db, 0, (size_t)operand_numel(g, g->b_stride) * sizeof *db);
    bool reads = wb_binary_backward_reads_operands(kind);
    int64_t n = bcast_numel(g);
    for (int64_t i = 0; i < n; i++) {
        int64_t oa, ob;
        operand_offsets(g, i, &oa, &ob);
        float av = reads ? a[oa] : 0.0f, bv = reads ? b[ob] : 0.0f;
        if (da) da[oa] += wb_binary_grad_a(kind, av, bv, dy[i]);
        if (db) db[ob] += wb_binary_grad_b(kind, av, bv, dy[i]);
    }
}

void wb_ref_scale(const float *x, float s, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = s * x[i];
}
