/* Deterministic two-level sums of the CUDA backend's statistics: batch norm
 * per channel, group norm per (sample, group) and per (sample, channel).
 * Each sum runs over one "segment" of a tensor, summed in double as the
 * reference backend does, in an order that is fixed by the shape alone (no
 * atomics), so a run repeats bit for bit:
 *   level 1: segment s is cut into chunks of WB_RED_CHUNK elements, one
 *     block each; thread t adds elements t, t + WB_RED_THREADS, ... of its
 *     chunk in that order, then the block halves a shared array of the
 *     threads' sums (v[t] += v[t + w] for w = THREADS/2, ..., 1);
 *   level 2: one thread per segment adds the chunks' partials in order.
 * Plain C (WB_HD): test_cuda_math_dense/_norm replay this order on the host. */
#ifndef WB_CORE_CUDA_SEGMENT_REDUCE_H
#define WB_CORE_CUDA_SEGMENT_REDUCE_H

#include <stdint.h>
#include "../hd.h"

#define WB_RED_THREADS 256
#define WB_RED_PER_THREAD 16
#define WB_RED_CHUNK (WB_RED_THREADS * WB_RED_PER_THREAD)

/* count segments of len elements; element i of segment s is at
 * (i / inner) * outer_stride + s * inner + i % inner (batch norm's channel
 * ch of [N, C, HW]: inner = HW, outer_stride = C * HW). Its statistics (mean,
 * invstd) are entry s / stat_div of the stats arrays. */
typedef struct wb_segments {
    int64_t count, len, inner, outer_stride, stat_div;
} wb_segments;

/* What one element adds to the two sums. */
typedef enum wb_red_kind {
    WB_RED_SUM = 0,     /* x */
    WB_RED_SQDEV = 1,   /* (x - mean)^2 */
    WB_RED_DY_XHAT = 2  /* dy, and dy * (x - mean) * invstd */
} wb_red_kind;

WB_HD static inline int64_t wb_segment_at(const wb_segments *g, int64_t s, int64_t i) {
    return (i / g->inner) * g->outer_stride + s * g->inner + i % g->inner;
}

/* Chunks per segment; at least one, so an empty segment sums to 0. */
WB_HD static inline int64_t wb_segment_chunks(const wb_segments *g) {
    int64_t c = (g->len + WB_RED_CHUNK - 1) / WB_RED_CHUNK;
    return c > 0 ? c : 1;
}

WB_HD static inline void wb_red_terms(wb_red_kind k, float x, float dy, double mean, double invstd, double *t0,
                                      double *t1) {
    switch (k) {
    case WB_RED_SUM: *t0 += x; break;
    case WB_RED_SQDEV: {
        double d = x - mean;
        *t0 += d * d;
        break;
    }
    case WB_RED_DY_XHAT:
        *t0 += dy;
        *t1 += dy * ((x - mean) * invstd);
        break;
    }
}

/* Level 1, one thread's share: thread t of chunk c of segment s. */
WB_HD static inline void wb_red_thread_sums(const wb_segments *g, wb_red_kind k, const float *x, const float *dy,
                                            double mean, double invstd, int64_t s, int64_t c, int t, double *t0,
                                            double *t1) {
    for (int j = 0; j < WB_RED_PER_THREAD; j++) {
        int64_t i = c * WB_RED_CHUNK + (int64_t)j * WB_RED_THREADS + t;
        if (i >= g->len) break;
        int64_t at = wb_segment_at(g, s, i);
        wb_red_terms(k, x[at], dy ? dy[at] : 0.0f, mean, invstd, t0, t1);
    }
}

/* Level 2: the total of sum `which` (0 or 1) of segment s from its chunks'
 * partials, laid out [segment][chunk][2]. */
WB_HD static inline double wb_red_total(const double *partials, int64_t s, int64_t chunks, int which) {
    double t = 0.0;
    for (int64_t c = 0; c < chunks; c++) t += partials[(s * chunks + c) * 2 + which];
    return t;
}

#endif
