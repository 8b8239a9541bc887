/* Kernels on nChw16c activations (kernels_layout.h). Each pixel is one
 * 16-float vector, so the loops run over pixels and the compiler keeps a
 * pixel in one 512-bit register. */
#include "../families.h"
#include "../kernels_layout.h"
#include "../pool_window.h"
#include "gather_cpu.h"
#include "pointwise_cpu.h"

#pragma GCC target("prefer-vector-width=512")

enum { B = WB_LAYOUT_BLOCK };

/* 16 x 16 tiles (16 pixels of one block to 16 rows of 16 pixels), so both
 * sides are read and written in whole cache lines. */
static void to_plain(const float *x, int64_t n, int64_t c, int64_t hw, float *plain) {
    int64_t blocks = c / B;
#pragma omp parallel for collapse(2) schedule(static) if (n * c * hw > WB_CPU_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++)
        for (int64_t cb = 0; cb < blocks; cb++) {
            const float *src = x + (i * blocks + cb) * hw * B;
            float *dst = plain + (i * c + cb * B) * hw;
            int64_t p0 = 0;
            for (; p0 + B <= hw; p0 += B)
                for (int j = 0; j < B; j++)
                    for (int k = 0; k < B; k++) dst[j * hw + p0 + k] = src[(p0 + k) * B + j];
            for (int64_t p = p0; p < hw; p++)
                for (int j = 0; j < B; j++) dst[j * hw + p] = src[p * B + j];
        }
}

static void nearest_forward(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h, int out_w) {
#pragma omp parallel for collapse(2) schedule(static) if (planes * out_h * out_w * B > WB_CPU_PARALLEL_MIN)
    for (int64_t p = 0; p < planes; p++)
        for (int oy = 0; oy < out_h; oy++) {
            const float *src = x + (p * in_h + wb_nearest_src(oy, in_h, out_h)) * in_w * B;
            float *dst = y + (p * out_h + oy) * out_w * B;
            for (int ox = 0; ox < out_w; ox++) {
                const float *s = src + wb_nearest_src(ox, in_w, out_w) * B;
#pragma omp simd
                for (int k = 0; k < B; k++) dst[ox * B + k] = s[k];
            }
        }
}

/* The window in row-major order, each lane as the plain kernel's rule: the
 * first maximum (so a +0 after a -0 does not replace it), and a NaN wins. */
static void max_pool_forward(const float *x, const wb_pool_args *a, float *y) {
#pragma omp parallel for collapse(2) schedule(static) if (a->planes * a->oh * a->ow * B > WB_CPU_PARALLEL_MIN)
    for (int64_t p = 0; p < a->planes; p++)
        for (int64_t oy = 0; oy < a->oh; oy++) {
            const float *xp = x + p * a->ih * a->iw * B;
            float *yr = y + (p * a->oh + oy) * a->ow * B;
            for (int64_t ox = 0; ox < a->ow; ox++) {
                wb_pool_window w = wb_pool_window_at(a, oy, ox);
                float best[B];
                const float *first = xp + (w.y0 * a->iw + w.x0) * B;
                for (int k = 0; k < B; k++) best[k] = first[k];
                for (int64_t iy = w.y0; iy < w.y1; iy++)
                    for (int64_t ix = w.x0; ix < w.x1; ix++) {
                        const float *v = xp + (iy * a->iw + ix) * B;
#pragma omp simd
                        for (int k = 0; k < B; k++) best[k] = v[k] > best[k] || v[k] != v[k] ? v[k] : best[k];
                    }
                for (int k = 0; k < B; k++) yr[ox * B + k] = best[k];
            }
        }
}

static const wb_layout_kernels g_layout = {to_plain, nearest_forward, max_pool_forward,
                                           wb_cpu_roi_align_forward_blocked};

const wb_layout_kernels *wb_cpu_layout_kernels(void) { return &g_layout; }
