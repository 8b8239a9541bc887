/* Pooling per output element (forwards) and per input element (backwards)
 * in the CUDA kernels. The forwards are the reference's window scans
 * (ref/pool_ref.c, windows from pool_window.h). The backwards gather instead
 * of scattering, so no two threads write one element: input (iy, ix) adds
 * the outputs whose window holds it in increasing output order, the order
 * the reference's scatter adds them in, so the sums are the same. Plain C
 * (WB_HD) so test_cuda_math_dense runs it on the host. */
#ifndef WB_CORE_CUDA_POOL_MATH_H
#define WB_CORE_CUDA_POOL_MATH_H

#include <math.h>
#include "../hd.h"
#include "../pool_window.h"

/* Max pool output (oy, ox) of the plane xp; *argmax gets its index in the
 * plane: torch's first maximum, or the last NaN. */
WB_HD static inline float wb_max_pool_at(const float *xp, const wb_pool_args *a, int64_t oy, int64_t ox,
                                         int32_t *argmax) {
    wb_pool_window w = wb_pool_window_at(a, oy, ox);
    float best = -INFINITY;
    int64_t best_at = -1;
    for (int64_t iy = w.y0; iy < w.y1; iy++) {
        for (int64_t ix = w.x0; ix < w.x1; ix++) {
            float v = xp[iy * a->iw + ix];
            if (best_at < 0 || v > best || v != v) {
                best = v;
                best_at = iy * a->iw + ix;
            }
        }
    }
    *argmax = (int32_t)best_at;
    return best;
}

WB_HD static inline float wb_avg_pool_at(const float *xp, const wb_pool_args *a, int64_t oy, int64_t ox) {
    wb_pool_window w = wb_pool_window_at(a, oy, ox);
    double sum = 0.0;
    for (int64_t iy = w.y0; iy < w.y1; iy++)
        for (int64_t ix = w.x0; ix < w.x1; ix++) sum += xp[iy * a->iw + ix];
    return (float)(sum / (double)w.divisor);
}

/* The outputs [*lo, *hi) along one axis whose window (kernel k, stride s,
 * padding p) holds input index i: o * s - p <= i < o * s - p + k. Clipping a
 * window to the padded input never drops an input cell, so this is exact. */
WB_HD static inline void wb_pool_outputs_over(int64_t i, int k, int s, int p, int64_t out, int64_t *lo,
                                              int64_t *hi) {
    int64_t first = i + p - k + 1; /* o * s >= first */
    int64_t l = first <= 0 ? 0 : (first + s - 1) / s;
    int64_t h = (i + p) / s + 1;   /* o * s <= i + p */
    *lo = l;
    *hi = h < out ? h : out;
}

/* dx at input (iy, ix): the dy of every output whose argmax is this cell. */
WB_HD static inline float wb_max_pool_dx_at(const float *dyp, const int32_t *ap, const wb_pool_args *a, int64_t iy,
                                            int64_t ix) {
    int64_t y0, y1, x0, x1, self = iy * a->iw + ix;
    wb_pool_outputs_over(iy, a->kh, a->sh, a->ph, a->oh, &y0, &y1);
    wb_pool_outputs_over(ix, a->kw, a->sw, a->pw, a->ow, &x0, &x1);
    float g = 0.0f;
    for (int64_t oy = y0; oy < y1; oy++)
        for (int64_t ox = x0; ox < x1; ox++)
            if (ap[oy * a->ow + ox] == self) g += dyp[oy * a->ow + ox];
    return g;
}

/* dx at input (iy, ix): dy / divisor of every output whose window holds it. */
WB_HD static inline float wb_avg_pool_dx_at(const float *dyp, const wb_pool_args *a, int64_t iy, int64_t ix) {
    int64_t y0, y1, x0, x1;
    wb_pool_outputs_over(iy, a->kh, a->sh, a->ph, a->oh, &y0, &y1);
    wb_pool_outputs_over(ix, a->kw, a->sw, a->pw, a->ow, &x0, &x1);
    float g = 0.0f;
    for (int64_t oy = y0; oy < y1; oy++)
        for (int64_t ox = x0; ox < x1; ox++)
            g += dyp[oy * a->ow + ox] / (float)wb_pool_window_at(a, oy, ox).divisor;
    return g;
}

#endif
