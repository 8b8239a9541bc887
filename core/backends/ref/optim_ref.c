/* Reference optimizer kernels (torch.optim.SGD / AdamW semantics). */
#include <math.h>
#include "../families.h"
#include "../kernels_optim.h"

static void sgd_ref(float *p, const float *g, float *buf, int64_t n, const wb_sgd_args *a) {
    for (int64_t i = 0; i < n; i++) {
        float d = g[i] + a->weight_decay * p[i];
        if (a->momentum != 0.0f) {
            buf[i] = a->first_step ? d : a->momentum * buf[i] + (1.0f - a->dampening) * d;
            d = a->nesterov ? d + a->momentum * buf[i] : buf[i];
        }
        p[i] -= a->lr * d;
    }
}

static void adamw_ref(float *p, const float *g, float *m, float *v, int64_t n, const wb_adamw_args *a) {
    double bc1 = 1.0 - pow(a->beta1, (double)a->step);
    double bc2 = 1.0 - pow(a->beta2, (double)a->step);
    float step_size = (float)(a->lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    for (int64_t i = 0; i < n; i++) {
        p[i] *= 1.0f - a->lr * a->weight_decay;
        m[i] = a->beta1 * m[i] + (1.0f - a->beta1) * g[i];
        v[i] = a->beta2 * v[i] + (1.0f - a->beta2) * g[i] * g[i];
        p[i] -= step_size * m[i] / (sqrtf(v[i]) / bc2_sqrt + a->eps);
    }
}

static double sum_squares_ref(const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return s;
}

static void scale_ref(float *x, int64_t n, float s) {
    for (int64_t i = 0; i < n; i++) x[i] *= s;
}

static void ema_ref(float *avg, const float *x, int64_t n, float momentum) {
    for (int64_t i = 0; i < n; i++) avg[i] = (1.0f - momentum) * avg[i] + momentum * x[i];
}

static const wb_optim_kernels g_ref_optim = {sgd_ref, adamw_ref, sum_squares_ref, scale_ref, ema_ref};

const wb_optim_kernels *wb_ref_optim_kernels(void) { return &g_ref_optim; }
