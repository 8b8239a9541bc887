/* Reference nearest and bilinear resize; backward scatters each output
 * gradient to the source pixels it was read from. */
#include <string.h>
#include "pointwise_ref.h"

void wb_ref_nearest_forward(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h,
                            int out_w) {
    for (int64_t p = 0; p < planes; p++)
        for (int oy = 0; oy < out_h; oy++)
            for (int ox = 0; ox < out_w; ox++) {
                int64_t sy = wb_nearest_src(oy, in_h, out_h), sx = wb_nearest_src(ox, in_w, out_w);
                y[(p * out_h + oy) * out_w + ox] = x[(p * in_h + sy) * in_w + sx];
            }
}

void wb_ref_nearest_backward(const float *dy, int64_t planes, int in_h, int in_w, int out_h,
                             int out_w, float *dx) {
    memset(dx, 0, (size_t)(planes * in_h * in_w) * sizeof *dx);
    for (int64_t p = 0; p < planes; p++)
        for (int oy = 0; oy < out_h; oy++)
            for (int ox = 0; ox < out_w; ox++) {
                int64_t sy = wb_nearest_src(oy, in_h, out_h), sx = wb_nearest_src(ox, in_w, out_w);
                dx[(p * in_h + sy) * in_w + sx] += dy[(p * out_h + oy) * out_w + ox];
            }
}

void wb_ref_bilinear_forward(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h,
                             int out_w, int align_corners) {
    for (int64_t p = 0; p < planes; p++) {
        const float *xp = x + p * in_h * in_w;
        for (int oy = 0; oy < out_h; oy++) {
            wb_lerp ly = wb_bilinear_src(oy, in_h, out_h, align_corners);
            for (int ox = 0; ox < out_w; ox++) {
                wb_lerp lx = wb_bilinear_src(ox, in_w, out_w, align_corners);
                y[(p * out_h + oy) * out_w + ox] =
                    ly.w0 * (lx.w0 * xp[ly.i0 * in_w + lx.i0] + lx.w1 * xp[ly.i0 * in_w + lx.i1]) +
                    ly.w1 * (lx.w0 * xp[ly.i1 * in_w + lx.i0] + lx.w1 * xp[ly.i1 * in_w + lx.i1]);
            }
        }
    }
}

void wb_ref_bilinear_backward(const float *dy, int64_t planes, int in_h, int in_w, int out_h,
                              int out_w, int align_corners, float *dx) {
    memset(dx, 0, (size_t)(planes * in_h * in_w) * sizeof *dx);
    for (int64_t p = 0; p < planes; p++) {
        float *dp = dx + p * in_h * in_w;
        for (int oy = 0; oy < out_h; oy++) {
            wb_lerp ly = wb_bilinear_src(oy, in_h, out_h, align_corners);
            for (int ox = 0; ox < out_w; ox++) {
                wb_lerp lx = wb_bilinear_src(ox, in_w, out_w, align_corners);
                float g = dy[(p * out_h + oy) * out_w + ox];
                dp[ly.i0 * in_w + lx.i0] += ly.w0 * lx.w0 * g;
                dp[ly.i0 * in_w + lx.i1] += ly.w0 * lx.w1 * g;
                dp[ly.i1 * in_w + lx.i0] += ly.w1 * lx.w0 * g;
                dp[ly.i1 * in_w + lx.i1] += ly.w1 * lx.w1 * g;
            }
        }
    }
}
