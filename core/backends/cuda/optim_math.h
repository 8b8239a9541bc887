/* Per-element optimizer updates of the CUDA backend, the reference kernels'
 * expressions (ref/optim_ref.c, torch.optim semantics) as WB_HD functions,
 * so tests/unit/test_cuda_math_optim.c replays them on the CPU over several
 * steps against the reference. Bias corrections are computed once per call
 * on the host, in double, as the reference does. */
#ifndef WB_CORE_CUDA_OPTIM_MATH_H
#define WB_CORE_CUDA_OPTIM_MATH_H

#include <math.h>
#include "../hd.h"
#include "../kernels_optim.h"

static inline WB_HD void wb_sgd_elem(float *p, float g, float *buf, wb_sgd_args a) {
    float d = g + a.weight_decay * *p;
    if (a.momentum != 0.0f) {
        *buf = a.first_step ? d : a.momentum * *buf + (1.0f - a.dampening) * d;
        d = a.nesterov ? d + a.momentum * *buf : *buf;
    }
    *p -= a.lr * d;
}

typedef struct wb_adamw_step {
    wb_adamw_args a;
    float step_size, bc2_sqrt; /* lr / (1 - beta1^t), sqrt(1 - beta2^t) */
} wb_adamw_step;

static inline wb_adamw_step wb_adamw_step_of(const wb_adamw_args *a) {
    wb_adamw_step s;
    s.a = *a;
    s.step_size = (float)(a->lr / (1.0 - pow(a->beta1, (double)a->step)));
    s.bc2_sqrt = (float)sqrt(1.0 - pow(a->beta2, (double)a->step));
    return s;
}

static inline WB_HD void wb_adamw_elem(float *p, float g, float *m, float *v, const wb_adamw_step *s) {
    const wb_adamw_args *a = &s->a;
    *p *= 1.0f - a->lr * a->weight_decay;
    *m = a->beta1 * *m + (1.0f - a->beta1) * g;
    *v = a->beta2 * *v + (1.0f - a->beta2) * g * g;
    *p -= s->step_size * *m / (sqrtf(*v) / s->bc2_sqrt + a->eps);
}

static inline WB_HD float wb_ema_elem(float avg, float x, float momentum) {
    return (1.0f - momentum) * avg + momentum * x;
}

#endif
