/* OpenMP RoIPool: the forward over RoIs in parallel; the backward gives
 * each thread its own channels, so RoIs that share a maximum never race
 * on it. */
#include <float.h>
#include <omp.h>
#include <string.h>
#include "../roi_geometry.h"
#include "gather_cpu.h"

/* A bin's rows depend on ph only and its columns on pw only: each RoI's
 * bounds are computed once per axis, not per channel and bin (with windows
 * of a cell or two, the bounds cost more than the maximum). */
#define SPANS_MAX 1024

typedef struct span {
    int64_t lo, hi;
} span;

static bool spans_of(const float *roi, const wb_roi_args *a, span *hs, span *ws) {
    if (a->out_h > SPANS_MAX || a->out_w > SPANS_MAX) return false;
    for (int ph = 0; ph < a->out_h; ph++) {
        wb_roi_pool_bin b = wb_roi_pool_bin_at(roi, a, ph, 0);
        hs[ph] = (span){b.h0, b.h1};
    }
    for (int pw = 0; pw < a->out_w; pw++) {
        wb_roi_pool_bin b = wb_roi_pool_bin_at(roi, a, 0, pw);
        ws[pw] = (span){b.w0, b.w1};
    }
    return true;
}

void wb_cpu_roi_pool_forward(const float *feat, const float *rois, const wb_roi_args *a, float *y,
                             int32_t *argmax) {
    int64_t plane = a->h * a->w, bins = (int64_t)a->out_h * a->out_w;
#pragma omp parallel if (a->k * a->c * bins > 4096)
    {
        span hs[SPANS_MAX], ws[SPANS_MAX];
#pragma omp for schedule(dynamic, 1)
        for (int64_t k = 0; k < a->k; k++) {
            const float *roi = rois + 5 * k;
            bool tabled = spans_of(roi, a, hs, ws);
            int64_t batch = (int64_t)roi[0];
            for (int64_t ch = 0; ch < a->c; ch++) {
                const float *src = feat + (batch * a->c + ch) * plane;
                for (int ph = 0; ph < a->out_h; ph++) {
                    for (int pw = 0; pw < a->out_w; pw++) {
                        wb_roi_pool_bin b = tabled
                                                ? (wb_roi_pool_bin){batch, hs[ph].lo, hs[ph].hi, ws[pw].lo, ws[pw].hi}
                                                : wb_roi_pool_bin_at(roi, a, ph, pw);
                        bool empty = b.h1 <= b.h0 || b.w1 <= b.w0;
                        float best = empty ? 0.0f : -FLT_MAX;
                        int64_t best_at = -1;
                        for (int64_t h = b.h0; h < b.h1; h++)
                            for (int64_t w = b.w0; w < b.w1; w++)
                                if (src[h * a->w + w] > best) {
                                    best = src[h * a->w + w];
                                    best_at = h * a->w + w;
                                }
                        int64_t o = (k * a->c + ch) * bins + ph * a->out_w + pw;
                        y[o] = best;
                        argmax[o] = (int32_t)best_at;
                    }
                }
            }
        }
    }
}

void wb_cpu_roi_pool_backward(const float *dy, const float *rois, const int32_t *argmax,
                              const wb_roi_args *a, float *dfeat) {
    int64_t plane = a->h * a->w, bins = (int64_t)a->out_h * a->out_w;
#pragma omp parallel if (a->k * a->c * bins > 4096)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        int64_t c0 = a->c * t / nt, c1 = a->c * (t + 1) / nt;
        for (int64_t n = 0; n < a->n; n++)
            memset(dfeat + (n * a->c + c0) * plane, 0, (size_t)((c1 - c0) * plane) * sizeof(float));
        for (int64_t k = 0; k < a->k; k++) {
            int64_t batch = (int64_t)rois[5 * k];
            for (int64_t ch = c0; ch < c1; ch++) {
                float *dst = dfeat + (batch * a->c + ch) * plane;
                const int32_t *am = argmax + (k * a->c + ch) * bins;
                const float *g = dy + (k * a->c + ch) * bins;
                for (int64_t o = 0; o < bins; o++)
                    if (am[o] >= 0) dst[am[o]] += g[o];
            }
        }
    }
}
