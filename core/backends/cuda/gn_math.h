/* Group norm's per-group and per-element math in the CUDA kernels, the
 * reference's expressions (ref/group_norm_ref.c) in the same precision:
 * statistics from double sums (segment_reduce.h), y and dx computed in
 * double and rounded once. Plain C (WB_HD) so test_cuda_math_norm runs it on
 * the host. */
#ifndef WB_CORE_CUDA_GN_MATH_H
#define WB_CORE_CUDA_GN_MATH_H

#include <math.h>
#include "../hd.h"
#include "../kernels_norm.h"
#include "segment_reduce.h"

WB_HD static inline int64_t wb_gn_channels_per_group(const wb_gn_args *a) { return a->c / a->groups; }

/* Forward statistics: (sample, group) s is the contiguous run of
 * C / groups * HW elements starting at s * len. */
WB_HD static inline wb_segments wb_gn_group_segments(const wb_gn_args *a) {
    int64_t len = wb_gn_channels_per_group(a) * a->hw;
    wb_segments g = {a->n * a->groups, len, len, 0, 1};
    return g;
}

/* Backward sums per (sample, channel) s = n * C + ch, over its HW elements;
 * its group's statistics are entry s / (C / groups) = n * groups + group. */
WB_HD static inline wb_segments wb_gn_channel_segments(const wb_gn_args *a) {
    wb_segments g = {a->n * a->c, a->hw, a->hw, 0, wb_gn_channels_per_group(a)};
    return g;
}

/* (sample, group) of element k of x [N, C, HW], and its channel. */
WB_HD static inline int64_t wb_gn_channel(const wb_gn_args *a, int64_t k) { return (k / a->hw) % a->c; }
WB_HD static inline int64_t wb_gn_group_of(const wb_gn_args *a, int64_t k) {
    return (k / a->hw) / wb_gn_channels_per_group(a);
}

WB_HD static inline double wb_gn_rstd(const wb_gn_args *a, double sq_dev, int64_t len) {
    return 1.0 / sqrt(sq_dev / (double)len + (double)a->eps);
}

WB_HD static inline float wb_gn_normalize(float x, double mean, double rstd, double gamma, double beta) {
    return (float)((x - mean) * rstd * gamma + beta);
}

/* A group's sums of dy * gamma and dy * gamma * xhat from its channels'
 * sums of dy (sum_dy) and dy * xhat (sum_dy_xhat), laid out [N * C]. */
WB_HD static inline void wb_gn_group_sums(const wb_gn_args *a, const float *gamma, const double *sum_dy,
                                          const double *sum_dy_xhat, int64_t n, int64_t g, double *sum_d,
                                          double *sum_dx) {
    int64_t cg = wb_gn_channels_per_group(a);
    double d = 0.0, dx = 0.0;
    for (int64_t ch = g * cg; ch < (g + 1) * cg; ch++) {
        double gm = gamma ? gamma[ch] : 1.0;
        d += sum_dy[n * a->c + ch] * gm;
        dx += sum_dy_xhat[n * a->c + ch] * gm;
    }
    *sum_d = d;
    *sum_dx = dx;
}

WB_HD static inline float wb_gn_dx(float dy, float x, double mean, double rstd, double gamma, double sum_d,
                                   double sum_dx, int64_t len) {
    double xhat = (x - mean) * rstd;
    return (float)(rstd * (dy * gamma - sum_d / (double)len - xhat * sum_dx / (double)len));
}

/* dgamma or dbeta of channel ch: its per-sample sums rounded to float and
 * added over the batch in order, as the reference accumulates them. */
WB_HD static inline float wb_gn_param_grad(const wb_gn_args *a, const double *per_sample, int64_t ch) {
    float acc = 0.0f;
    for (int64_t n = 0; n < a->n; n++) acc += (float)per_sample[n * a->c + ch];
    return acc;
}

#endif
