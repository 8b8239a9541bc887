/* OpenMP broadcast add/mul. Forward walks the output in row pieces (the
 * innermost dim, where each operand's stride is 0 or 1) so the inner loop
 * vectorizes. Backward gathers: each element of an operand's gradient sums
 * its own slice of dy (in double), so threads never write the same element. */
#include <string.h>
#include "pointwise_cpu.h"

/* Row pieces long enough to amortize the index arithmetic, short enough to
 * share a single long row between threads. */
#define PIECE 4096

static void row_op(wb_binary_kind kind, const float *restrict a, int64_t sa, const float *restrict b,
                   int64_t sb, float *restrict y, int64_t n) {
    if (kind == WB_BINARY_ADD) {
        if (sa && sb)
            for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[i];
        else if (sa)
            for (int64_t i = 0; i < n; i++) y[i] = a[i] + b[0];
        else if (sb)
            for (int64_t i = 0; i < n; i++) y[i] = a[0] + b[i];
        else
            for (int64_t i = 0; i < n; i++) y[i] = a[0] + b[0];
    } else {
        if (sa && sb)
            for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[i];
        else if (sa)
            for (int64_t i = 0; i < n; i++) y[i] = a[i] * b[0];
        else if (sb)
            for (int64_t i = 0; i < n; i++) y[i] = a[0] * b[i];
        else
            for (int64_t i = 0; i < n; i++) y[i] = a[0] * b[0];
    }
}

void wb_cpu_binary_forward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                           float *y) {
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
        int64_t sa = g->a_stride[last], sb = g->b_stride[last];
        row_op(kind, a + oa + begin * sa, sa, b + ob + begin * sb, sb, y + r * len + begin, n);
    }
}

/* d(target) = sum over target's broadcast dims of dy (add) or dy * other (mul). */
static void reduce_into(const wb_bcast *g, const int64_t *t_stride, const float *other,
                        const int64_t *o_stride, const float *dy, float *dt) {
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
    int64_t inner_len = g->shape[inner], iy = y_stride[inner], io = other ? o_stride[inner] : 0;
    int64_t outer_combos = 1;
    for (int r = 0; r < nr - 1; r++) outer_combos *= g->shape[red[r]];
#pragma omp parallel for schedule(static) if (n > WB_CPU_PARALLEL_MIN)
    for (int64_t j = 0; j < numel_t; j++) {
        int64_t ybase = 0, obase = 0, rest = j;
        for (int k = nk - 1; k >= 0; k--) {
            int d = kept[k];
            int64_t idx = rest % g->shape[d];
            rest /= g->shape[d];
            ybase += idx * y_stride[d];
            if (other) obase += idx * o_stride[d];
        }
        double acc = 0.0;
        for (int64_t combo = 0; combo < outer_combos; combo++) {
            int64_t yo = ybase, oo = obase, c = combo;
            for (int r = nr - 2; r >= 0; r--) {
                int d = red[r];
                int64_t idx = c % g->shape[d];
                c /= g->shape[d];
                yo += idx * y_stride[d];
                if (other) oo += idx * o_stride[d];
            }
            if (other)
                for (int64_t i = 0; i < inner_len; i++) acc += (double)dy[yo + i * iy] * other[oo + i * io];
            else
                for (int64_t i = 0; i < inner_len; i++) acc += dy[yo + i * iy];
        }
        dt[j] = (float)acc;
    }
}

static void grad_of_operand(wb_binary_kind kind, const wb_bcast *g, const int64_t *t_stride,
                            const float *other, const int64_t *o_stride, const float *dy, float *dt) {
    int broadcast_dims = 0;
    int64_t n = 1;
    for (int d = 0; d < g->ndim; d++) {
        broadcast_dims += t_stride[d] == 0;
        n *= g->shape[d];
    }
    if (broadcast_dims) {
        reduce_into(g, t_stride, kind == WB_BINARY_MUL ? other : NULL, o_stride, dy, dt);
    } else if (kind == WB_BINARY_ADD) {
        memcpy(dt, dy, (size_t)n * sizeof *dt);
    } else {
        /* Same shape as dy: dt = dy * other, which is a broadcast forward. */
        wb_bcast h = *g;
        memcpy(h.a_stride, t_stride, sizeof h.a_stride);
        memcpy(h.b_stride, o_stride, sizeof h.b_stride);
        wb_cpu_binary_forward(WB_BINARY_MUL, &h, dy, other, dt);
    }
}

void wb_cpu_binary_backward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                            const float *dy, float *da, float *db) {
    if (da) grad_of_operand(kind, g, g->a_stride, b, g->b_stride, dy, da);
    if (db) grad_of_operand(kind, g, g->b_stride, a, g->a_stride, dy, db);
}

void wb_cpu_scale(const float *restrict x, float s, float *restrict y, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) y[i] = s * x[i];
}
