/* OpenMP nearest and bilinear resize. Forward splits over (plane, row);
 * backward splits over planes only, because within a plane several output
 * pixels add into the same input pixel. */
#include <string.h>
#include "pointwise_cpu.h"

void wb_cpu_nearest_forward(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h,
                            int out_w) {
#pragma omp parallel for collapse(2) schedule(static) if (planes * out_h * out_w > WB_CPU_PARALLEL_MIN)
    for (int64_t p = 0; p < planes; p++)
        for (int oy = 0; oy < out_h; oy++) {
            const float *src = x + (p * in_h + wb_nearest_src(oy, in_h, out_h)) * in_w;
            float *dst = y + (p * out_h + oy) * out_w;
            for (int ox = 0; ox < out_w; ox++) dst[ox] = src[wb_nearest_src(ox, in_w, out_w)];
        }
}

void wb_cpu_nearest_backward(const float *dy, int64_t planes, int in_h, int in_w, int out_h,
                             int out_w, float *dx) {
#pragma omp parallel for schedule(static) if (planes * out_h * out_w > WB_CPU_PARALLEL_MIN)
    for (int64_t p = 0; p < planes; p++) {
        float *dp = dx + p * in_h * in_w;
        memset(dp, 0, (size_t)in_h * in_w * sizeof *dp);
        for (int oy = 0; oy < out_h; oy++) {
            float *drow = dp + wb_nearest_src(oy, in_h, out_h) * in_w;
            const float *grow = dy + (p * out_h + oy) * out_w;
            for (int ox = 0; ox < out_w; ox++) drow[wb_nearest_src(ox, in_w, out_w)] += grow[ox];
        }
    }
}

void wb_cpu_bilinear_forward(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h,
                             int out_w, int align_corners) {
#pragma omp parallel for collapse(2) schedule(static) if (planes * out_h * out_w > WB_CPU_PARALLEL_MIN)
    for (int64_t p = 0; p < planes; p++)
        for (int oy = 0; oy < out_h; oy++) {
            wb_lerp ly = wb_bilinear_src(oy, in_h, out_h, align_corners);
            const float *r0 = x + (p * in_h + ly.i0) * in_w, *r1 = x + (p * in_h + ly.i1) * in_w;
            float *dst = y + (p * out_h + oy) * out_w;
            for (int ox = 0; ox < out_w; ox++) {
                wb_lerp lx = wb_bilinear_src(ox, in_w, out_w, align_corners);
                dst[ox] = ly.w0 * (lx.w0 * r0[lx.i0] + lx.w1 * r0[lx.i1]) +
                          ly.w1 * (lx.w0 * r1[lx.i0] + lx.w1 * r1[lx.i1]);
            }
        }
}

void wb_cpu_bilinear_backward(const float *dy, int64_t planes, int in_h, int in_w, int out_h,
                              int out_w, int align_corners, float *dx) {
#pragma omp parallel for schedule(static) if (planes * out_h * out_w > WB_CPU_PARALLEL_MIN)
    for (int64_t p = 0; p < planes; p++) {
        float *dp = dx + p * in_h * in_w;
        memset(dp, 0, (size_t)in_h * in_w * sizeof *dp);
        for (int oy = 0; oy < out_h; oy++) {
            wb_lerp ly = wb_bilinear_src(oy, in_h, out_h, align_corners);
            float *r0 = dp + ly.i0 * in_w, *r1 = dp + ly.i1 * in_w;
            const float *grow = dy + (p * out_h + oy) * out_w;
            for (int ox = 0; ox < out_w; ox++) {
                wb_lerp lx = wb_bilinear_src(ox, in_w, out_w, align_corners);
                float g0 = ly.w0 * grow[ox], g1 = ly.w1 * grow[ox];
                r0[lx.i0] += lx.w0 * g0;
                r0[lx.i1] += lx.w1 * g0;
                r1[lx.i0] += lx.w0 * g1;
                r1[lx.i1] += lx.w1 * g1;
            }
        }
    }
}
