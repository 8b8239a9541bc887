/* OpenMP pooling: planes (n, c) are independent, one plane per thread at a
 * time, so the backward scatters into its own plane without races. Window
 * rules come from pool_window.h, shared with the reference, and the loops
 * are the reference's: windows are a few elements wide, and short SIMD
 * loops or branch-free selects measured no faster on them. */
#include <math.h>
#include <string.h>
#include "../pool_window.h"
#include "dense_cpu.h"

static int parallel(const wb_pool_args *a) {
    return a->planes * (a->ih * a->iw + a->oh * a->ow) > WB_DENSE_PAR_MIN;
}

void wb_cpu_max_pool_forward(const float *x, const wb_pool_args *a, float *y, int32_t *argmax) {
#pragma omp parallel for schedule(static) if (parallel(a))
    for (int64_t p = 0; p < a->planes; p++) {
        const float *xp = x + p * a->ih * a->iw;
        float *yp = y + p * a->oh * a->ow;
        int32_t *ap = argmax + p * a->oh * a->ow;
        for (int64_t oy = 0; oy < a->oh; oy++) {
            for (int64_t ox = 0; ox < a->ow; ox++) {
                wb_pool_window w = wb_pool_window_at(a, oy, ox);
                int64_t best_at = w.y0 * a->iw + w.x0;
                float best = xp[best_at];
                for (int64_t iy = w.y0; iy < w.y1; iy++) {
                    const float *row = xp + iy * a->iw;
                    for (int64_t ix = w.x0; ix < w.x1; ix++) {
                        /* torch's rule: the first maximum, or the last NaN. */
                        if (row[ix] > best || isnan(row[ix])) {
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
