/* Reference pooling: every output window scanned directly. */
#include <math.h>
#include <string.h>
#include "../pool_window.h"
#include "dense_ref.h"

void wb_ref_max_pool_forward(const float *x, const wb_pool_args *a, float *y, int32_t *argmax) {
    for (int64_t p = 0; p < a->planes; p++) {
        const float *xp = x + p * a->ih * a->iw;
        for (int64_t oy = 0; oy < a->oh; oy++) {
            for (int64_t ox = 0; ox < a->ow; ox++) {
                wb_pool_window w = wb_pool_window_at(a, oy, ox);
                float best = -INFINITY;
                int64_t best_at = -1;
                for (int64_t iy = w.y0; iy < w.y1; iy++) {
                    for (int64_t ix = w.x0; ix < w.x1; ix++) {
                        float v = xp[iy * a->iw + ix];
                        /* torch's rule: the first maximum wins, a NaN beats everything. */
                        if (best_at < 0 || v > best || isnan(v)) {
                            best = v;
                            best_at = iy * a->iw + ix;
                        }
                    }
                }
                int64_t o = (p * a->oh + oy) * a->ow + ox;
                y[o] = best;
                argmax[o] = (int32_t)best_at;
            }
        }
    }
}

void wb_ref_max_pool_backward(const float *dy, const int32_t *argmax, const wb_pool_args *a,
                              float *dx) {
    int64_t in_plane = a->ih * a->iw, out_plane = a->oh * a->ow;
    memset(dx, 0, (size_t)(a->planes * in_plane) * sizeof(float));
    for (int64_t p = 0; p < a->planes; p++)
        for (int64_t o = 0; o < out_plane; o++)
            dx[p * in_plane + argmax[p * out_plane + o]] += dy[p * out_plane + o];
}

void wb_ref_avg_pool_forward(const float *x, const wb_pool_args *a, float *y) {
    for (int64_t p = 0; p < a->planes; p++) {
        const float *xp = x + p * a->ih * a->iw;
        for (int64_t oy = 0; oy < a->oh; oy++) {
            for (int64_t ox = 0; ox < a->ow; ox++) {
                wb_pool_window w = wb_pool_window_at(a, oy, ox);
                double sum = 0.0;
                for (int64_t iy = w.y0; iy < w.y1; iy++)
                    for (int64_t ix = w.x0; ix < w.x1; ix++) sum += xp[iy * a->iw + ix];
                y[(p * a->oh + oy) * a->ow + ox] = (float)(sum / (double)w.divisor);
            }
        }
    }
}

void wb_ref_avg_pool_backward(const float *dy, const wb_pool_args *a, float *dx) {
    memset(dx, 0, (size_t)(a->planes * a->ih * a->iw) * sizeof(float));
    for (int64_t p = 0; p < a->planes; p++) {
        float *dxp = dx + p * a->ih * a->iw;
        for (int64_t oy = 0; oy < a->oh; oy++) {
            for (int64_t ox = 0; ox < a->ow; ox++) {
                wb_pool_window w = wb_pool_window_at(a, oy, ox);
                float g = dy[(p * a->oh + oy) * a->ow + ox] / (float)w.divisor;
                for (int64_t iy = w.y0; iy < w.y1; iy++)
                    for (int64_t ix = w.x0; ix < w.x1; ix++) dxp[iy * a->iw + ix] += g;
            }
        }
    }
}
