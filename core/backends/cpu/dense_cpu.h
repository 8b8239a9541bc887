/* Optimized CPU dense kernels, gathered into the family table by dense_cpu.c. */
#ifndef WB_CORE_DENSE_CPU_H
#define WB_CORE_DENSE_CPU_H

#include "../kernels_dense.h"

/* Below this many elements a kernel runs on one thread: fork/join costs more. */
#define WB_DENSE_PAR_MIN 16384

void wb_cpu_bn_train_forward(const float *x, const float *gamma, const float *beta,
                             float *running_mean, float *running_var, const wb_bn_args *a,
                             float *y, float *save_mean, float *save_invstd);
void wb_cpu_bn_eval_forward(const float *x, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var,
                            const wb_bn_args *a, float *y, float *save_mean, float *save_invstd);
void wb_cpu_bn_backward(const float *dy, const float *x, const float *gamma,
                        const float *save_mean, const float *save_invstd, const wb_bn_args *a,
                        int training, float *dx, float *dgamma, float *dbeta);
void wb_cpu_bn_act_train_forward(const float *x, const float *gamma, const float *beta, float *running_mean,
                                 float *running_var, const wb_bn_args *a, wb_act_kind act, float *y,
                                 float *save_mean, float *save_invstd);
void wb_cpu_bn_act_backward(const float *dy, const float *x, const float *gamma, const float *beta,
                            const float *save_mean, const float *save_invstd, const wb_bn_args *a, wb_act_kind act,
                            float *dx, float *dgamma, float *dbeta);

void wb_cpu_max_pool_forward(const float *x, const wb_pool_args *a, float *y, int32_t *argmax);
void wb_cpu_max_pool_backward(const float *dy, const int32_t *argmax, const wb_pool_args *a,
                              float *dx);
void wb_cpu_avg_pool_forward(const float *x, const wb_pool_args *a, float *y);
void wb_cpu_avg_pool_backward(const float *dy, const wb_pool_args *a, float *dx);

void wb_cpu_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                 float *c, int64_t ldc);
void wb_cpu_add_row_bias(float *y, const float *bias, int64_t rows, int64_t cols);
void wb_cpu_sum_rows(const float *dy, int64_t rows, int64_t cols, float *db);

#endif
