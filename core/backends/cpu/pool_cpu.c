/* OpenMP pooling: planes (n, c) are independent, one plane per thread at a
 * time, so the backward scatters into its own plane without races. Window
 * rules come from pool_window.h, shared with the reference. The max pool
 * forward works column maxima first, vectorised along the rows (see
 * max_plane_columns), and planes holding a NaN row maxima first (see
 * max_plane_separable); the other loops are the reference's: windows are a
 * few elements wide, and short SIMD loops or branch-free selects measured no
 * faster on them. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "../pool_window.h"
#include "dense_cpu.h"

static int parallel(const wb_pool_args *a) {
    return a->planes * (a->ih * a->iw + a->oh * a->ow) > WB_DENSE_PAR_MIN;
}

/* torch's rule: the first maximum, or the last NaN. */
static inline bool max_takes(float v, float best) { return v > best || isnan(v); }

/* One plane, window by window: kh * kw reads per output. */
static void max_plane_direct(const float *xp, const wb_pool_args *a, float *yp, int32_t *ap) {
    for (int64_t oy = 0; oy < a->oh; oy++) {
        for (int64_t ox = 0; ox < a->ow; ox++) {
            wb_pool_window w = wb_pool_window_at(a, oy, ox);
            int64_t best_at = w.y0 * a->iw + w.x0;
            float best = xp[best_at];
            for (int64_t iy = w.y0; iy < w.y1; iy++) {
                const float *row = xp + iy * a->iw;
                for (int64_t ix = w.x0; ix < w.x1; ix++) {
                    if (max_takes(row[ix], best)) {
                        best = row[ix];
                        best_at = iy * a->iw + ix;
                    }
                }
            }
            yp[oy * a->ow + ox] = best;
            ap[oy * a->ow + ox] = (int32_t)best_at;
        }
    }
}

/* One plane in two passes, kh + kw reads per output instead of kh * kw
 * (yolov5's SPPF 5x5 windows: 2.5x fewer): each input row's maxima over
 * the output columns' ranges (rv: value, rc: column), then the maxima of
 * those over the output rows' ranges. A window's first maximum in row-major
 * order is the first row's first maximum among the row maxima, and its last
 * NaN the last row's last NaN, so the argmax is the direct loop's. */
static void max_plane_separable(const float *xp, const wb_pool_args *a, float *yp, int32_t *ap, float *rv,
                                int32_t *rc) {
    for (int64_t iy = 0; iy < a->ih; iy++) {
        const float *row = xp + iy * a->iw;
        for (int64_t ox = 0; ox < a->ow; ox++) {
            wb_pool_window w = wb_pool_window_at(a, 0, ox);
            int64_t best_at = w.x0;
            for (int64_t ix = w.x0; ix < w.x1; ix++)
                if (max_takes(row[ix], row[best_at])) best_at = ix;
            rv[iy * a->ow + ox] = row[best_at];
            rc[iy * a->ow + ox] = (int32_t)best_at;
        }
    }
    for (int64_t oy = 0; oy < a->oh; oy++) {
        wb_pool_window w = wb_pool_window_at(a, oy, 0);
        float *yr = yp + oy * a->ow;
        int32_t *ar = ap + oy * a->ow;
        for (int64_t ox = 0; ox < a->ow; ox++) yr[ox] = rv[w.y0 * a->ow + ox], ar[ox] = (int32_t)w.y0;
        for (int64_t iy = w.y0 + 1; iy < w.y1; iy++) {
            const float *v = rv + iy * a->ow;
            for (int64_t ox = 0; ox < a->ow; ox++)
                if (max_takes(v[ox], yr[ox])) yr[ox] = v[ox], ar[ox] = (int32_t)iy;
        }
        for (int64_t ox = 0; ox < a->ow; ox++) ar[ox] = (int32_t)(ar[ox] * a->iw + rc[ar[ox] * a->ow + ox]);
    }
}

/* The input index of the maximum of one output's columns [x0, x1) of the
 * column maxima (cm, first rows cr): the smallest row-major one. */
static void max_of_columns(const float *cm, const int32_t *cr, int32_t iw, int32_t x0, int32_t x1, int32_t *at) {
    float best = cm[x0];
    *at = cr[x0] * iw + x0;
    for (int32_t ix = x0 + 1; ix < x1; ix++) {
        int32_t k = cr[ix] * iw + ix;
        if (cm[ix] > best || (cm[ix] == best && k < *at)) best = cm[ix], *at = k;
    }
}

/* One NaN-free plane, output row by output row: the maxima of each input
 * column over the window's rows (cm: value, cr: the first row holding it),
 * contiguous and branch-free, so they vectorise; then each output takes the
 * maximum of its columns' maxima, the outputs whose windows need no clipping
 * ([lo, hi)) column by column as selects across outputs, which vectorise too.
 * Among equal values the smallest row-major index wins (the first maximum),
 * and y is read back at it, so the sign of a zero is the direct loop's too.
 * false, with the plane unfinished, where a window row holds a NaN: torch's
 * last-NaN rule is the separable loop's job. */
static bool max_plane_columns(const float *xp, const wb_pool_args *a, const int32_t *x0, const int32_t *x1,
                              float *yp, int32_t *ap, float *cm, int32_t *cr) {
    const int32_t iw = (int32_t)a->iw;
    int64_t lo = (a->pw + a->sw - 1) / a->sw, last = a->iw - a->kw + a->pw;
    int64_t hi = last < 0 ? 0 : last / a->sw + 1;
    if (hi > a->ow) hi = a->ow;
    if (hi < lo) hi = lo;
    for (int64_t oy = 0; oy < a->oh; oy++) {
        wb_pool_window w = wb_pool_window_at(a, oy, 0);
        const float *first = xp + w.y0 * iw;
        int nan = 0;
#pragma omp simd reduction(| : nan)
        for (int32_t ix = 0; ix < iw; ix++) {
            cm[ix] = first[ix], cr[ix] = (int32_t)w.y0;
            nan |= first[ix] != first[ix];
        }
        for (int64_t iy = w.y0 + 1; iy < w.y1; iy++) {
            const float *row = xp + iy * iw;
#pragma omp simd reduction(| : nan)
            for (int32_t ix = 0; ix < iw; ix++) {
                float v = row[ix];
                int gt = v > cm[ix];
                cm[ix] = gt ? v : cm[ix];
                cr[ix] = gt ? (int32_t)iy : cr[ix];
                nan |= v != v;
            }
        }
        if (nan) return false;
        float *yr = yp + oy * a->ow;
        int32_t *ar = ap + oy * a->ow;
        const int64_t edges[2][2] = {{0, lo}, {hi, a->ow}};
        for (int e = 0; e < 2; e++) {
            for (int64_t ox = edges[e][0]; ox < edges[e][1]; ox++) {
                max_of_columns(cm, cr, iw, x0[ox], x1[ox], &ar[ox]);
                yr[ox] = xp[ar[ox]];
            }
        }
        for (int64_t j = 0; j < a->kw; j++) {
            const int64_t off = j - a->pw;
#pragma omp simd
            for (int64_t ox = lo; ox < hi; ox++) {
                int32_t ix = (int32_t)(ox * a->sw + off), k = cr[ix] * iw + ix;
                float v = cm[ix];
                int take = j == 0 || v > yr[ox] || (v == yr[ox] && k < ar[ox]);
                yr[ox] = take ? v : yr[ox];
                ar[ox] = take ? k : ar[ox];
            }
        }
        for (int64_t ox = lo; ox < hi; ox++) yr[ox] = xp[ar[ox]];
    }
    return true;
}

void wb_cpu_max_pool_forward(const float *x, const wb_pool_args *a, float *y, int32_t *argmax) {
#pragma omp parallel if (parallel(a))
    {
        /* Each thread's scratch: row maxima (ih x ow), column maxima (iw) and
         * the output columns' input ranges; without it, the direct loop. */
        size_t cells = (size_t)(a->ih * a->ow);
        float *rv = malloc(cells * sizeof *rv), *cm = malloc((size_t)a->iw * sizeof *cm);
        int32_t *rc = malloc(cells * sizeof *rc), *cr = malloc((size_t)a->iw * sizeof *cr);
        int32_t *x0 = malloc((size_t)a->ow * sizeof *x0), *x1 = malloc((size_t)a->ow * sizeof *x1);
        bool scratch = rv && cm && rc && cr && x0 && x1;
        for (int64_t ox = 0; scratch && ox < a->ow; ox++) {
            wb_pool_window w = wb_pool_window_at(a, 0, ox);
            x0[ox] = (int32_t)w.x0, x1[ox] = (int32_t)w.x1;
        }
#pragma omp for schedule(static)
        for (int64_t p = 0; p < a->planes; p++) {
            const float *xp = x + p * a->ih * a->iw;
            float *yp = y + p * a->oh * a->ow;
            int32_t *ap = argmax + p * a->oh * a->ow;
            if (!scratch) max_plane_direct(xp, a, yp, ap);
            else if (!max_plane_columns(xp, a, x0, x1, yp, ap, cm, cr)) max_plane_separable(xp, a, yp, ap, rv, rc);
        }
        free(rv), free(cm), free(rc), free(cr), free(x0), free(x1);
    }
}

void wb_cpu_max_pool_backward(const float *dy, const int32_t *argmax, const wb_pool_args *a,
                              float *dx) {
    int64_t in_plane = a->ih * a->iw, out_plane = a->oh * a->ow;
#pragma omp parallel for schedule(static) if (parallel(a))
    for (int64_t p = 0; p < a->planes; p++) {
        float *dxp = dx + p * in_plane;
        const float *dyp = dy + p * out_plane;
        const int32_t *ap = argmax + p * out_plane;
        memset(dxp, 0, (size_t)in_plane * sizeof(float));
        for (int64_t o = 0; o < out_plane; o++) dxp[ap[o]] += dyp[o];
    }
}

void wb_cpu_avg_pool_forward(const float *x, const wb_pool_args *a, float *y) {
#pragma omp parallel for schedule(static) if (parallel(a))
    for (int64_t p = 0; p < a->planes; p++) {
        const float *xp = x + p * a->ih * a->iw;
        float *yp = y + p * a->oh * a->ow;
        for (int64_t oy = 0; oy < a->oh; oy++) {
            for (int64_t ox = 0; ox < a->ow; ox++) {
                wb_pool_window w = wb_pool_window_at(a, oy, ox);
                double sum = 0.0;
                for (int64_t iy = w.y0; iy < w.y1; iy++)
                    for (int64_t ix = w.x0; ix < w.x1; ix++) sum += xp[iy * a->iw + ix];
                yp[oy * a->ow + ox] = (float)(sum / (double)w.divisor);
            }
        }
    }
}

void wb_cpu_avg_pool_backward(const float *dy, const wb_pool_args *a, float *dx) {
#pragma omp parallel for schedule(static) if (parallel(a))
    for (int64_t p = 0; p < a->planes; p++) {
        float *dxp = dx + p * a->ih * a->iw;
        const float *dyp = dy + p * a->oh * a->ow;
        memset(dxp, 0, (size_t)(a->ih * a->iw) * sizeof(float));
        for (int64_t oy = 0; oy < a->oh; oy++) {
            for (int64_t ox = 0; ox < a->ow; ox++) {
                wb_pool_window w = wb_pool_window_at(a, oy, ox);
                float g = dyp[oy * a->ow + ox] / (float)w.divisor;
                for (int64_t iy = w.y0; iy < w.y1; iy++) {
                    float *row = dxp + iy * a->iw;
#pragma omp simd
                    for (int64_t ix = w.x0; ix < w.x1; ix++) row[ix] += g;
                }
            }
        }
    }
}
