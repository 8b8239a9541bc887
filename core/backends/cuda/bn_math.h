/* Batch norm's per-channel and per-element math in the CUDA kernels, the
 * reference's expressions (ref/bn_ref.c) in the same precision: statistics
 * from double sums (segment_reduce.h), outputs in float as the reference
 * rounds them. Plain C (WB_HD) so test_cuda_math_dense runs it on the host. */
#ifndef WB_CORE_CUDA_BN_MATH_H
#define WB_CORE_CUDA_BN_MATH_H

#include <math.h>
#include "../hd.h"
#include "../kernels_dense.h"
#include "segment_reduce.h"

/* Channel ch of x [N, C, HW] as a segment of N * HW elements. */
WB_HD static inline wb_segments wb_bn_segments(const wb_bn_args *a) {
    wb_segments g = {a->c, a->n * a->hw, a->hw, a->c * a->hw, 1};
    return g;
}

/* The channel of element k of x. */
WB_HD static inline int64_t wb_bn_channel(const wb_bn_args *a, int64_t k) { return (k / a->hw) % a->c; }

/* Training statistics of one channel from its sum and its sum of squared
 * deviations: the saved mean and 1/sqrt(biased var + eps), and the running
 * statistics (unbiased variance, as torch) when given. */
WB_HD static inline void wb_bn_finalize(const wb_bn_args *a, int64_t ch, double mean, double sq, float *save_mean,
                                        float *save_invstd, float *running_mean, float *running_var) {
    int64_t m = a->n * a->hw;
    save_mean[ch] = (float)mean;
    save_invstd[ch] = (float)(1.0 / sqrt(sq / (double)m + a->eps));
    if (running_mean) running_mean[ch] = (1.0f - a->momentum) * running_mean[ch] + a->momentum * (float)mean;
    if (running_var) {
        double unbiased = sq / (double)(m - 1);
        running_var[ch] = (1.0f - a->momentum) * running_var[ch] + a->momentum * (float)unbiased;
    }
}

WB_HD static inline float wb_bn_eval_invstd(const wb_bn_args *a, float running_var) {
    return (float)(1.0 / sqrt((double)running_var + a->eps));
}

WB_HD static inline float wb_bn_normalize(float x, float mean, float invstd, float gamma, float beta) {
    return (x - mean) * invstd * gamma + beta;
}

/* dx of one element given the channel's sums of dy (sdy) and dy * xhat
 * (sdy_xhat); in training the batch mean and variance depend on x too. */
WB_HD static inline float wb_bn_dx(const wb_bn_args *a, float dy, float x, float mean, float invstd, float gamma,
                                   double sdy, double sdy_xhat, int training) {
    double d = dy, mu = mean, is = invstd;
    if (training) d -= (sdy + (x - mu) * is * sdy_xhat) / (double)(a->n * a->hw);
    return (float)((double)gamma * is * d);
}

#endif
