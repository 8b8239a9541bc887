/* Reference batch norm: one channel at a time, sums in double. */
#include <math.h>
#include "dense_ref.h"

/* Element i of channel ch in x viewed as [N, C, HW]. */
static int64_t at(const wb_bn_args *a, int64_t ch, int64_t i) {
    int64_t n = i / a->hw, p = i % a->hw;
    return (n * a->c + ch) * a->hw + p;
}

static void normalize(const float *x, const float *gamma, const float *beta, const wb_bn_args *a,
                      const float *mean, const float *invstd, float *y) {
    int64_t m = a->n * a->hw;
    for (int64_t ch = 0; ch < a->c; ch++) {
        float g = gamma ? gamma[ch] : 1.0f, b = beta ? beta[ch] : 0.0f;
        for (int64_t i = 0; i < m; i++) {
            int64_t k = at(a, ch, i);
            y[k] = (x[k] - mean[ch]) * invstd[ch] * g + b;
        }
    }
}

void wb_ref_bn_train_forward(const float *x, const float *gamma, const float *beta,
                             float *running_mean, float *running_var, const wb_bn_args *a,
                             float *y, float *save_mean, float *save_invstd) {
    int64_t m = a->n * a->hw;
    for (int64_t ch = 0; ch < a->c; ch++) {
        double sum = 0.0, sq = 0.0;
        for (int64_t i = 0; i < m; i++) sum += x[at(a, ch, i)];
        double mean = sum / (double)m;
        for (int64_t i = 0; i < m; i++) {
            double d = x[at(a, ch, i)] - mean;
            sq += d * d;
        }
        save_mean[ch] = (float)mean;
        save_invstd[ch] = (float)(1.0 / sqrt(sq / (double)m + a->eps));
        if (running_mean)
            running_mean[ch] = (1.0f - a->momentum) * running_mean[ch] + a->momentum * (float)mean;
        if (running_var) {
            double unbiased = sq / (double)(m - 1);
            running_var[ch] = (1.0f - a->momentum) * running_var[ch] + a->momentum * (float)unbiased;
        }
    }
    normalize(x, gamma, beta, a, save_mean, save_invstd, y);
}

void wb_ref_bn_eval_forward(const float *x, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var,
                            const wb_bn_args *a, float *y, float *save_mean, float *save_invstd) {
    for (int64_t ch = 0; ch < a->c; ch++) {
        save_mean[ch] = running_mean[ch];
        save_invstd[ch] = (float)(1.0 / sqrt((double)running_var[ch] + a->eps));
    }
    normalize(x, gamma, beta, a, save_mean, save_invstd, y);
}

void wb_ref_bn_backward(const float *dy, const float *x, const float *gamma,
                        const float *save_mean, const float *save_invstd, const wb_bn_args *a,
                        int training, float *dx, float *dgamma, float *dbeta) {
    int64_t m = a->n * a->hw;
    for (int64_t ch = 0; ch < a->c; ch++) {
        double mean = save_mean[ch], invstd = save_invstd[ch];
        double sdy = 0.0, sdy_xhat = 0.0;
        for (int64_t i = 0; i < m; i++) {
            int64_t k = at(a, ch, i);
            sdy += dy[k];
            sdy_xhat += dy[k] * (x[k] - mean) * invstd;
        }
        dgamma[ch] = (float)sdy_xhat;
        dbeta[ch] = (float)sdy;
        if (!dx) continue;
        double g = gamma ? gamma[ch] : 1.0;
        for (int64_t i = 0; i < m; i++) {
            int64_t k = at(a, ch, i);
            double d = dy[k];
            /* Training: the batch mean and variance depend on x too. */
            if (training) d -= (sdy + (x[k] - mean) * invstd * sdy_xhat) / (double)m;
            dx[k] = (float)(g * invstd * d);
        }
    }
}
