/* Batch norm, pooling and matrix product kernels. Tensors are contiguous;
 * batch norm sees x as [N, C, HW] (HW = 1 for [N, C] inputs), pooling as
 * [N*C planes of H x W]. Backward kernels overwrite their outputs. */
#ifndef WB_CORE_KERNELS_DENSE_H
#define WB_CORE_KERNELS_DENSE_H

#include <stdint.h>
#include <workbench/types.h>
#include "kernels_pointwise.h"

typedef struct wb_bn_args {
    int64_t n, c, hw;
    float eps;
    float momentum;  /* training: running = (1-momentum)*running + momentum*batch */
} wb_bn_args;

typedef struct wb_pool_args {
    int64_t planes;      /* N * C */
    int64_t ih, iw, oh, ow;
    int kh, kw, sh, sw, ph, pw;
    int count_include_pad; /* avg pool: padding cells count in the divisor */
} wb_pool_args;

struct wb_dense_kernels {
    /* Training forward with batch statistics. gamma/beta NULL mean 1/0;
     * running_mean/running_var NULL are not updated (running_var gets the
     * unbiased batch variance, as torch). save_mean/save_invstd [C] keep the
     * batch mean and 1/sqrt(biased var + eps) for the backward. */
    void (*bn_train_forward)(const float *x, const float *gamma, const float *beta,
                             float *running_mean, float *running_var, const wb_bn_args *a,
                             float *y, float *save_mean, float *save_invstd);
    /* Eval forward with the running statistics; also fills save_mean/save_invstd. */
    void (*bn_eval_forward)(const float *x, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var,
                            const wb_bn_args *a, float *y, float *save_mean, float *save_invstd);
    /* dgamma = sum(dy * xhat), dbeta = sum(dy) per channel (always written);
     * dx (NULL = not needed) through the batch statistics when training,
     * else through the fixed affine map. gamma NULL means 1. */
    void (*bn_backward)(const float *dy, const float *x, const float *gamma,
                        const float *save_mean, const float *save_invstd, const wb_bn_args *a,
                        int training, float *dx, float *dgamma, float *dbeta);

    /* Max pool; padding counts as -inf. argmax[i] is the index inside its
     * input plane of the element output i took: as torch, the first maximum,
     * or the last NaN when the window holds any. */
    void (*max_pool_forward)(const float *x, const wb_pool_args *a, float *y, int32_t *argmax);
    void (*max_pool_backward)(const float *dy, const int32_t *argmax, const wb_pool_args *a,
                              float *dx);
    /* Average pool with torch's divisor rules (windows clipped at input + padding). */
    void (*avg_pool_forward)(const float *x, const wb_pool_args *a, float *y);
    void (*avg_pool_backward)(const float *dy, const wb_pool_args *a, float *dx);

    /* Row-major C[m,n] = alpha * op(A) op(B) + beta * C, op = transpose when
     * trans_*; lda/ldb/ldc are row strides of the stored matrices. beta 0
     * ignores C's old contents. */
    void (*gemm)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                 float *c, int64_t ldc);
    /* y[r, j] += bias[j] over rows x cols; its backward db[j] = sum_r dy[r, j]. */
    void (*add_row_bias)(float *y, const float *bias, int64_t rows, int64_t cols);
    void (*sum_rows)(const float *dy, int64_t rows, int64_t cols, float *db);

    /* Optional pair (NULL: the core runs batch norm and the activation
     * apart): y = act(bn_train_forward's output), act WB_ACT_RELU or
     * WB_ACT_SILU, in one pass after the statistics; and its backward from
     * x (its normalised value is recomputed, nothing else is kept):
     * dgamma, dbeta (always written) and dx (NULL = not needed) given dy. */
    void (*bn_act_train_forward)(const float *x, const float *gamma, const float *beta, float *running_mean,
                                 float *running_var, const wb_bn_args *a, wb_act_kind act, float *y,
                                 float *save_mean, float *save_invstd);
    void (*bn_act_backward)(const float *dy, const float *x, const float *gamma, const float *beta,
                            const float *save_mean, const float *save_invstd, const wb_bn_args *a, wb_act_kind act,
                            float *dx, float *dgamma, float *dbeta);
};

#endif
