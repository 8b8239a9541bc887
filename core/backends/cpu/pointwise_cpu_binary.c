/* OpenMP broadcast binary ops. Forward (and the gradient of an operand that
 * is not broadcast) walks the output in row pieces (the innermost dim, where
 * each operand's stride is 0 or 1) so the inner loop vectorizes; every kind
 * gets its own loops, specialized from the shared formulas in
 * pointwise_math.h. The gradient of a broadcast operand gathers: each of its
 * elements sums its own slice (in double), so threads never write the same
 * element. */
#include <string.h>
#include "../pointwise_math.h"
#include "pointwise_cpu.h"

/* Row pieces long enough to amortize the index arithmetic, short enough to
 * share a single long row between threads. */
#define PIECE 4096
#define INLINE static inline __attribute__((always_inline))

/* What a row loop writes: the op's value, or the gradient of a or of b. */
typedef enum row_what { ROW_VALUE, ROW_GRAD_A, ROW_GRAD_B } row_what;

INLINE float elem(row_what w, wb_binary_kind k, float a, float b, float dy) {
    if (w == ROW_VALUE) return wb_binary_value(k, a, b);
    return w == ROW_GRAD_A ? wb_binary_grad_a(k, a, b, dy) : wb_binary_grad_b(k, a, b, dy);
}

/* w and k are constants at every call, so each instance is a plain loop. */
INLINE void row_kind(row_what w, wb_binary_kind k, const float *restrict a, int64_t sa,
                     const float *restrict b, int64_t sb, const float *restrict dy, float *restrict y,
                     int64_t n) {
#define DY(i) (w == ROW_VALUE ? 0.0f : dy[i])
    if (sa && sb) {
        for (int64_t i = 0; i < n; i++) y[i] = elem(w, k, a[i], b[i], DY(i));
    } else if (sa) {
        const float bv = b[0];
        for (int64_t i = 0; i < n; i++) y[i] = elem(w, k, a[i], bv, DY(i));
    } else if (sb) {
        const float av = a[0];
        for (int64_t i = 0; i < n; i++) y[i] = elem(w, k, av, b[i], DY(i));
    } else {
        const float av = a[0], bv = b[0];
        for (int64_t i = 0; i < n; i++) y[i] = elem(w, k, av, bv, DY(i));
    }
#undef DY
}

static void row_op(row_what w, wb_binary_kind k, const float *a, int64_t sa, const float *b, int64_t sb,
                   const float *dy, float *y, int64_t n) {
#define KIND(K)                                                                                   \
    case K:                                                                                       \
        if (w == ROW_VALUE) row_kind(ROW_VALUE, K, a, sa, b, sb, dy, y, n);                       \
        else if (w == ROW_GRAD_A) row_kind(ROW_GRAD_A, K, a, sa, b, sb, dy, y, n);                \
        else row_kind(ROW_GRAD_B, K, a, sa, b, sb, dy, y, n);                                     \
        break;
    switch (k) {
        KIND(WB_BINARY_ADD) KIND(WB_BINARY_MUL) KIND(WB_BINARY_SUB) KIND(WB_BINARY_DIV)
        KIND(WB_BINARY_MIN) KIND(WB_BINARY_MAX) KIND(WB_BINARY_GT) KIND(WB_BINARY_GE)
        KIND(WB_BINARY_LT) KIND(WB_BINARY_LE) KIND(WB_BINARY_EQ) KIND(WB_BINARY_NE)
    }
#undef KIND
}

/* Every output element, in row pieces: y = value, or dy's shape-sized gradient. */
static void walk(row_what w, wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                 const float *dy, float *y) {
    int last = g->ndim - 1;
    int64_t len = g->shape[last], rows = 1;
    for (int d = 0; d < last; d++) rows *= g->shape[d];
    int64_t pieces_per_row = (len + PIECE - 1) / PIECE, tasks = rows * pieces_per_row;
#pragma omp parallel for schedule(static) if (rows * len > WB_CPU_PARALLEL_MIN)
    for (int64_t t = 0; t < tasks; t++) {
        int64_t r = t / pieces_per_row, begin = (t % pieces_per_row) * PIECE;
        int64_t n = len - begin < PIECE ? len - begin : PIECE;
        int64_t oa = 0, ob = 0, rest = r;
        for (int d = last - 1; d >= 0; d--) {
            int64_t idx = rest % g->shape[d];
            rest /= g->shape[d];
            oa += idx * g->a_stride[d];
            ob += idx * g->b_stride[d];
        }
        int64_t sa = g->a_stride[last], sb = g->b_stride[last], o = r * len + begin;
        row_op(w, kind, a + oa + begin * sa, sa, b + ob + begin * sb, sb, dy ? dy + o : NULL, y + o, n);
    }
}

void wb_cpu_binary_forward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                           float *y) {
    walk(ROW_VALUE, kind, g, a, b, NULL, y);
}

/* The gradient of a broadcast operand t: each of its elements sums the
 * local gradients over t's broadcast dims. Add and sub read only dy. */
static void reduce_into(wb_binary_kind kind, bool for_a, const wb_bcast *g, const float *a,
                        const float *b, const float *dy, float *dt) {
    const int64_t *t_stride = for_a ? g->a_stride : g->b_stride;
    bool reads = wb_binary_backward_reads_operands(kind);
    float sign = kind == WB_BINARY_SUB && !for_a ? -1.0f : 1.0f;
    int64_t y_stride[WB_MAX_DIMS], n = 1;
    for (int d = g->ndim - 1; d >= 0; d--) {
        y_stride[d] = n;
        n *= g->shape[d];
    }
    int kept[WB_MAX_DIMS], red[WB_MAX_DIMS], nk = 0, nr = 0;
    int64_t numel_t = 1;
    for (int d = 0; d < g->ndim; d++) {
        if (t_stride[d]) {
            kept[nk++] = d;
            numel_t *= g->shape[d];
        } else {
            red[nr++] = d;
        }
    }
    /* The innermost reduced dim is the tight loop; the others form an odometer. */
    int inner = red[nr - 1];
    int64_t inner_len = g->shape[inner], iy = y_stride[inner];
    int64_t ia = g->a_stride[inner], ib = g->b_stride[inner];
    int64_t outer_combos = 1;
    for (int r = 0; r < nr - 1; r++) outer_combos *= g->shape[red[r]];
#pragma omp parallel for schedule(static) if (n > WB_CPU_PARALLEL_MIN)
    for (int64_t j = 0; j < numel_t; j++) {
        int64_t ybase = 0, abase = 0, bbase = 0, rest = j;
        for (int k = nk - 1; k >= 0; k--) {
            int d = kept[k];
            int64_t idx = rest % g->shape[d];
            rest /= g->shape[d];
            ybase += idx * y_stride[d];
            abase += idx * g->a_stride[d];
            bbase += idx * g->b_stride[d];
        }
        double acc = 0.0;
        for (int64_t combo = 0; combo < outer_combos; combo++) {
            int64_t yo = ybase, ao = abase, bo = bbase, c = combo;
            for (int r = nr - 2; r >= 0; r--) {
                int d = red[r];
                int64_t idx = c % g->shape[d];
                c /= g->shape[d];
                yo += idx * y_stride[d];
                ao += idx * g->a_stride[d];
                bo += idx * g->b_stride[d];
            }
            if (!reads)
                for (int64_t i = 0; i < inner_len; i++) acc += dy[yo + i * iy];
            else if (kind == WB_BINARY_MUL)
                for (int64_t i = 0; i < inner_len; i++)
                    acc += (double)dy[yo + i * iy] * (for_a ? b[bo + i * ib] : a[ao + i * ia]);
            else
                for (int64_t i = 0; i < inner_len; i++) {
                    float av = a[ao + i * ia], bv = b[bo + i * ib], d = dy[yo + i * iy];
                    acc += for_a ? wb_binary_grad_a(kind, av, bv, d) : wb_binary_grad_b(kind, av, bv, d);
                }
        }
        dt[j] = sign * (float)acc;
    }
}

static void grad_of_operand(wb_binary_kind kind, bool for_a, const wb_bcast *g, const float *a,
                            const float *b, const float *dy, float *dt) {
    const int64_t *t_stride = for_a ? g->a_stride : g->b_stride;
    int broadcast_dims = 0;
    int64_t n = 1;
    for (int d = 0; d < g->ndim; d++) {
        broadcast_dims += t_stride[d] == 0;
        n *= g->shape[d];
    }
    if (broadcast_dims) {
        reduce_into(kind, for_a, g, a, b, dy, dt);
    } else if (kind == WB_BINARY_ADD || (kind == WB_BINARY_SUB && for_a)) {
        memcpy(dt, dy, (size_t)n * sizeof *dt);
    } else if (kind == WB_BINARY_SUB) {
        wb_cpu_scale(dy, -1.0f, dt, n);
    } else {
        /* Same shape as dy: one local gradient per output element. */
        walk(for_a ? ROW_GRAD_A : ROW_GRAD_B, kind, g, a, b, dy, dt);
    }
}

void wb_cpu_binary_backward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                            const float *dy, float *da, float *db) {
    if (da) grad_of_operand(kind, true, g, a, b, dy, da);
    if (db) grad_of_operand(kind, false, g, a, b, dy, db);
}

void wb_cpu_scale(const float *restrict x, float s, float *restrict y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) y[i] = s * x[i];
}
