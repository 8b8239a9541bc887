/* OpenMP pooling: planes (n, c) are independent, one plane per thread at a
 * time, so the backward scatters into its own plane without races. Window
 * rules come from pool_window.h, shared with the reference. The max pool
 * forward works row maxima first (see max_plane_separable); the other loops
 * are the reference's: windows are a few elements wide, and short SIMD
 * loops or branch-free selects measured no faster on them. */
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

void wb_cpu_max_pool_forward(const float *x, const wb_pool_args *a, float *y, int32_t *argmax) {
#pragma omp parallel if (parallel(a))
    {
        /* Each thread's row maxima; without them it runs the direct loop. */
        size_t cells = (size_t)(a->ih * a->ow);
        float *rv = malloc(cells * sizeof *rv);
        int32_t *rc = malloc(cells * sizeof *rc);
#pragma omp for schedule(static)
        for (int64_t p = 0; p < a->planes; p++) {
            const float *xp = x + p * a->ih * a->iw;
            float *yp = y + p * a->oh * a->ow;
            int32_t *ap = argmax + p * a->oh * a->ow;
            if (rv && rc) max_plane_separable(xp, a, yp, ap, rv, rc);
            else max_plane_direct(xp, a, yp, ap);
        }
        free(rv), free(rc);
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
