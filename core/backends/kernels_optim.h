/* Optimizer step kernels. They run on the backend so parameters, gradients
 * and optimizer state never leave the device. Semantics follow torch.optim. */
#ifndef WB_CORE_KERNELS_OPTIM_H
#define WB_CORE_KERNELS_OPTIM_H

#include <stdint.h>
#include <workbench/types.h>

typedef struct wb_sgd_args {
    float lr, momentum, dampening, weight_decay;
    int nesterov;
    int first_step;   /* torch initialises the momentum buffer with the first gradient */
} wb_sgd_args;

typedef struct wb_adamw_args {
    float lr, beta1, beta2, eps, weight_decay;
    int64_t step;     /* 1-based, for bias correction */
} wb_adamw_args;

struct wb_optim_kernels {
    /* param -= lr * update; momentum buffer updated in place. */
    void (*sgd)(float *param, const float *grad, float *momentum_buf, int64_t n, const wb_sgd_args *a);
    void (*adamw)(float *param, const float *grad, float *m, float *v, int64_t n, const wb_adamw_args *a);
    /* sum of squares of grad (for gradient clipping by global norm). */
    double (*sum_squares)(const float *x, int64_t n);
    void (*scale)(float *x, int64_t n, float s);
    /* avg = (1 - momentum) * avg + momentum * x (EMA of weights). */
    void (*ema)(float *avg, const float *x, int64_t n, float momentum);
};

#endif
