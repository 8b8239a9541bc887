/* OpenMP elementwise math and where. Each unary kind gets its own loop,
 * specialized from the shared formulas (pointwise_math.h), so the cheap
 * ones compile to vector bodies. where's backward is a parallel mask for an
 * operand of the output's shape; a broadcast operand gathers instead: each
 * of its elements sums its own slice of dy (in double), so threads never
 * write the same element. */
#include "../pointwise_math.h"
#include "pointwise_cpu.h"

#define INLINE static inline __attribute__((always_inline))

/* Transcendental kinds cost more per element: the team pays off earlier. */
static int64_t parallel_min(wb_unary_kind k) {
    return k == WB_UNARY_EXP || k == WB_UNARY_LOG || k == WB_UNARY_POW ? WB_CPU_PARALLEL_MIN / 8
                                                                      : WB_CPU_PARALLEL_MIN;
}

INLINE void forward_kind(wb_unary_kind k, float p, float q, const float *restrict x, float *restrict y,
                         int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > parallel_min(k))
    for (int64_t i = 0; i < n; i++) y[i] = wb_unary_value(k, p, q, x[i]);
}

/* x or y is not read (and may be freed) for some kinds: reads_x / reads_y are constants. */
INLINE void backward_kind(wb_unary_kind k, float p, float q, const float *restrict x,
                          const float *restrict y, const float *restrict dy, float *restrict dx,
                          int64_t n) {
    const bool rx = wb_unary_reads_input(k), ry = wb_unary_reads_output(k);
#pragma omp parallel for simd schedule(static) if (n > parallel_min(k))
    for (int64_t i = 0; i < n; i++)
        dx[i] = wb_unary_grad(k, p, q, rx ? x[i] : 0.0f, ry ? y[i] : 0.0f, dy[i]);
}

#define EACH_UNARY(X)                                                                             \
    X(WB_UNARY_NEG) X(WB_UNARY_EXP) X(WB_UNARY_LOG) X(WB_UNARY_POW) X(WB_UNARY_ABS)             \
    X(WB_UNARY_CLAMP) X(WB_UNARY_ADD_SCALAR)

void wb_cpu_unary_forward(wb_unary_kind kind, float p, float q, const float *x, float *y, int64_t n) {
    switch (kind) {
#define F(K) case K: forward_kind(K, p, q, x, y, n); break;
        EACH_UNARY(F)
#undef F
    }
}

void wb_cpu_unary_backward(wb_unary_kind kind, float p, float q, const float *x, const float *y,
                           const float *dy, float *dx, int64_t n) {
    switch (kind) {
#define B(K) case K: backward_kind(K, p, q, x, y, dy, dx, n); break;
        EACH_UNARY(B)
#undef B
    }
}

static bool is_whole(const wb_bcast3 *g, int k) {
    for (int d = 0; d < g->ndim; d++)
        if (g->stride[k][d] == 0) return false;
    return true;
}

/* One row of the innermost dim, where each stride is 0 or 1. */
INLINE float at(const float *p, int64_t s, int64_t i) { return p[s * i]; }

void wb_cpu_where_forward(const wb_bcast3 *g, const float *cond, const float *a, const float *b,
                          float *y) {
    int last = g->ndim - 1;
    int64_t len = g->shape[last], rows = 1;
    for (int d = 0; d < last; d++) rows *= g->shape[d];
    int64_t sc = g->stride[0][last], sa = g->stride[1][last], sb = g->stride[2][last];
#pragma omp parallel for schedule(static) if (rows * len > WB_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t off[3] = {0, 0, 0}, rest = r;
        for (int d = last - 1; d >= 0; d--) {
            int64_t idx = rest % g->shape[d];
            rest /= g->shape[d];
            for (int k = 0; k < 3; k++) off[k] += idx * g->stride[k][d];
        }
        const float *c = cond + off[0], *pa = a + off[1], *pb = b + off[2];
        float *out = y + r * len;
        for (int64_t i = 0; i < len; i++) out[i] = at(c, sc, i) != 0.0f ? at(pa, sa, i) : at(pb, sb, i);
    }
}

/* d = dy where cond (or !cond) holds, for an operand of dy's shape. */
static void masked(const wb_bcast3 *g, const float *cond, const float *dy, float *d, bool when) {
    int last = g->ndim - 1;
    int64_t len = g->shape[last], rows = 1;
    for (int d0 = 0; d0 < last; d0++) rows *= g->shape[d0];
    int64_t sc = g->stride[0][last];
#pragma omp parallel for schedule(static) if (rows * len > WB_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t oc = 0, rest = r;
        for (int k = last - 1; k >= 0; k--) {
            int64_t idx = rest % g->shape[k];
            rest /= g->shape[k];
            oc += idx * g->stride[0][k];
        }
        const float *c = cond + oc, *src = dy + r * len;
        float *dst = d + r * len;
        for (int64_t i = 0; i < len; i++) dst[i] = (at(c, sc, i) != 0.0f) == when ? src[i] : 0.0f;
    }
}

/* d[j] = sum of dy over operand k's broadcast dims where (cond != 0) == when. */
static void masked_sum(const wb_bcast3 *g, int k, const float *cond, const float *dy, float *d, bool when) {
    const int64_t *ts = g->stride[k], *cs = g->stride[0];
    int64_t y_stride[WB_MAX_DIMS] = {0}, n = 1;
    for (int i = g->ndim - 1; i >= 0; i--) {
        y_stride[i] = n;
        n *= g->shape[i];
    }
    int kept[WB_MAX_DIMS] = {0}, red[WB_MAX_DIMS] = {0}, nk = 0, nr = 0;
    int64_t numel = 1;
    for (int i = 0; i < g->ndim; i++) {
        if (ts[i]) {
            kept[nk++] = i;
            numel *= g->shape[i];
        } else {
            red[nr++] = i;
        }
    }
    /* The innermost reduced dim is the tight loop; the others form an odometer. */
    int inner = red[nr - 1];
    int64_t inner_len = g->shape[inner], iy = y_stride[inner], ic = cs[inner], combos = 1;
    for (int r = 0; r < nr - 1; r++) combos *= g->shape[red[r]];
#pragma omp parallel for schedule(static) if (n > WB_CPU_PARALLEL_MIN)
    for (int64_t j = 0; j < numel; j++) {
        int64_t ybase = 0, cbase = 0, rest = j;
        for (int q = nk - 1; q >= 0; q--) {
            int i = kept[q];
            int64_t idx = rest % g->shape[i];
            rest /= g->shape[i];
            ybase += idx * y_stride[i];
            cbase += idx * cs[i];
        }
        double acc = 0.0;
        for (int64_t combo = 0; combo < combos; combo++) {
            int64_t yo = ybase, co = cbase, c = combo;
            for (int r = nr - 2; r >= 0; r--) {
                int i = red[r];
                int64_t idx = c % g->shape[i];
                c /= g->shape[i];
                yo += idx * y_stride[i];
                co += idx * cs[i];
            }
            for (int64_t t = 0; t < inner_len; t++)
                if ((cond[co + t * ic] != 0.0f) == when) acc += dy[yo + t * iy];
        }
        d[j] = (float)acc;
    }
}

void wb_cpu_where_backward(const wb_bcast3 *g, const float *cond, const float *dy, float *da, float *db) {
    if (da) {
        if (is_whole(g, 1)) masked(g, cond, dy, da, true);
        else masked_sum(g, 1, cond, dy, da, true);
    }
    if (db) {
        if (is_whole(g, 2)) masked(g, cond, dy, db, false);
        else masked_sum(g, 2, cond, dy, db, false);
    }
}
