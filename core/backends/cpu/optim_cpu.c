/* OpenMP optimizer kernels: the same arithmetic as the reference, element
 * by element, so results are bit-identical whatever the thread count. */
#include <math.h>
#include "../families.h"
#include "../kernels_optim.h"

#define PAR_MIN 32768

static void sgd_cpu(float *p, const float *g, float *buf, int64_t n, const wb_sgd_args *a) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        float d = g[i] + a->weight_decay * p[i];
        if (a->momentum != 0.0f) {
            buf[i] = a->first_step ? d : a->momentum * buf[i] + (1.0f - a->dampening) * d;
            d = a->nesterov ? d + a->momentum * buf[i] : buf[i];
        }
        p[i] -= a->lr * d;
    }
}

static void adamw_cpu(float *p, const float *g, float *m, float *v, int64_t n, const wb_adamw_args *a) {
    float step_size = (float)(a->lr / (1.0 - pow(a->beta1, (double)a->step)));
    float bc2_sqrt = (float)sqrt(1.0 - pow(a->beta2, (double)a->step));
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        p[i] *= 1.0f - a->lr * a->weight_decay;
        m[i] = a->beta1 * m[i] + (1.0f - a->beta1) * g[i];
        v[i] = a->beta2 * v[i] + (1.0f - a->beta2) * g[i] * g[i];
        p[i] -= step_size * m[i] / (sqrtf(v[i]) / bc2_sqrt + a->eps);
    }
}

/* Serial on purpose: the global norm must not depend on the thread count
 * (resumed runs are bit-identical), and the pass is memory-bound anyway. */
static double sum_squares_cpu(const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return s;
}

static void scale_cpu(float *x, int64_t n, float s) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) x[i] *= s;
}

static void ema_cpu(float *avg, const float *x, int64_t n, float momentum) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) avg[i] = (1.0f - momentum) * avg[i] + momentum * x[i];
}

static const wb_optim_kernels g_cpu_optim = {sgd_cpu, adamw_cpu, sum_squares_cpu, scale_cpu, ema_cpu};

const wb_optim_kernels *wb_cpu_optim_kernels(void) { return &g_cpu_optim; }
