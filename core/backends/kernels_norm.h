/* Normalization kernels over groups of channels: group norm (torch's
 * F.group_norm). x is [N, C, HW] contiguous (HW = 1 for [N, C] inputs);
 * statistics are per (sample, group) of C / groups channels. */
#ifndef WB_CORE_KERNELS_NORM_H
#define WB_CORE_KERNELS_NORM_H

#include <stdint.h>
#include <workbench/types.h>

typedef struct wb_gn_args {
    int64_t n, c, hw;
    int64_t groups;
    float eps;
} wb_gn_args;

struct wb_norm_kernels {
    /* gamma/beta NULL mean 1/0. mean/rstd [N * groups] keep the statistics
     * (biased variance, rstd = 1/sqrt(var + eps)) for the backward. */
    void (*group_norm_forward)(const float *x, const float *gamma, const float *beta,
                               const wb_gn_args *a, float *y, float *mean, float *rstd);
    /* dx, dgamma, dbeta: NULL when not needed. gamma NULL means 1. */
    void (*group_norm_backward)(const float *dy, const float *x, const float *gamma,
                                const float *mean, const float *rstd, const wb_gn_args *a,
                                float *dx, float *dgamma, float *dbeta);
    /* The same gradients from the forward's output y instead of x: xhat = (y - beta) / gamma per channel
     * (gamma/beta NULL mean 1/0; every |gamma| > 0), rstd as the forward gave it. Optional (NULL: the op
     * keeps x): it lets the tape free x, the convolution output before a group norm. */
    void (*group_norm_backward_from_output)(const float *dy, const float *y, const float *gamma,
                                            const float *beta, const float *rstd, const wb_gn_args *a,
                                            float *dx, float *dgamma, float *dbeta);
    /* relu(group norm) in one pass: z = relu(y), and y itself too unless it is NULL (inference keeps no y).
     * Optional, as the next one (NULL: the op runs group norm, then relu). */
    void (*group_norm_relu_forward)(const float *x, const float *gamma, const float *beta, const wb_gn_args *a,
                                    float *y, float *z, float *mean, float *rstd);
    /* group_norm_backward_from_output's gradients for dz, the gradient of z = relu(y): dy = y > 0 ? dz : 0 is
     * taken element by element inside its passes instead of a pass of its own. */
    void (*group_norm_relu_backward_from_output)(const float *dz, const float *y, const float *gamma,
                                                 const float *beta, const float *rstd, const wb_gn_args *a,
                                                 float *dx, float *dgamma, float *dbeta);
};

#endif
