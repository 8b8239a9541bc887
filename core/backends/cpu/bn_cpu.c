/* OpenMP batch norm. Channels are independent, so statistics are reduced one
 * channel per thread over contiguous HW runs (sums in double: a channel of a
 * detection feature map holds ~1e5 values); the elementwise passes apply a
 * per-channel scale and shift over (n, channel) rows. */
#include <math.h>
#include "dense_cpu.h"

static int parallel(const wb_bn_args *a) { return a->n * a->c * a->hw > WB_DENSE_PAR_MIN; }

static double channel_sum(const float *x, const wb_bn_args *a, int64_t ch) {
    double s = 0.0;
    for (int64_t n = 0; n < a->n; n++) {
        const float *row = x + (n * a->c + ch) * a->hw;
#pragma omp simd reduction(+ : s)
        for (int64_t p = 0; p < a->hw; p++) s += (double)row[p];
    }
    return s;
}

static double channel_sq_dev(const float *x, const wb_bn_args *a, int64_t ch, double mean) {
    double s = 0.0;
    for (int64_t n = 0; n < a->n; n++) {
        const float *row = x + (n * a->c + ch) * a->hw;
#pragma omp simd reduction(+ : s)
        for (int64_t p = 0; p < a->hw; p++) {
            double d = (double)row[p] - mean;
            s += d * d;
        }
    }
    return s;
}

/* y = x * scale[c] + shift[c] with scale = gamma*invstd, shift = beta - mean*scale. */
static void affine(const float *x, const float *gamma, const float *beta, const wb_bn_args *a,
                   const float *mean, const float *invstd, float *y) {
#pragma omp parallel for schedule(static) if (parallel(a))
    for (int64_t r = 0; r < a->n * a->c; r++) {
        int64_t ch = r % a->c;
        float scale = (gamma ? gamma[ch] : 1.0f) * invstd[ch];
        float shift = (beta ? beta[ch] : 0.0f) - mean[ch] * scale;
        const float *xr = x + r * a->hw;
        float *yr = y + r * a->hw;
#pragma omp simd
        for (int64_t p = 0; p < a->hw; p++) yr[p] = xr[p] * scale + shift;
    }
}

void wb_cpu_bn_train_forward(const float *x, const float *gamma, const float *beta,
                             float *running_mean, float *running_var, const wb_bn_args *a,
                             float *y, float *save_mean, float *save_invstd) {
    int64_t m = a->n * a->hw;
#pragma omp parallel for schedule(static) if (parallel(a))
    for (int64_t ch = 0; ch < a->c; ch++) {
        double mean = channel_sum(x, a, ch) / (double)m;
        double sq = channel_sq_dev(x, a, ch, mean);
        save_mean[ch] = (float)mean;
        save_invstd[ch] = (float)(1.0 / sqrt(sq / (double)m + a->eps));
        if (running_mean)
            running_mean[ch] = (1.0f - a->momentum) * running_mean[ch] + a->momentum * (float)mean;
        if (running_var)
            running_var[ch] = (1.0f - a->momentum) * running_var[ch] +
                              a->momentum * (float)(sq / (double)(m - 1));
    }
    affine(x, gamma, beta, a, save_mean, save_invstd, y);
}

void wb_cpu_bn_eval_forward(const float *x, const float *gamma, const float *beta,
                            const float *running_mean, const float *running_var,
                            const wb_bn_args *a, float *y, float *save_mean, float *save_invstd) {
    for (int64_t ch = 0; ch < a->c; ch++) {
        save_mean[ch] = running_mean[ch];
        save_invstd[ch] = (float)(1.0 / sqrt((double)running_var[ch] + a->eps));
    }
    affine(x, gamma, beta, a, save_mean, save_invstd, y);
}

void wb_cpu_bn_backward(const float *dy, const float *x, const float *gamma,
                        const float *save_mean, const float *save_invstd, const wb_bn_args *a,
                        int training, float *dx, float *dgamma, float *dbeta) {
#pragma omp parallel for schedule(static) if (parallel(a))
    for (int64_t ch = 0; ch < a->c; ch++) {
        float mean = save_mean[ch];
        double sdy = 0.0, sdy_xc = 0.0;
        for (int64_t n = 0; n < a->n; n++) {
            const float *dyr = dy + (n * a->c + ch) * a->hw;
            const float *xr = x + (n * a->c + ch) * a->hw;
#pragma omp simd reduction(+ : sdy, sdy_xc)
            for (int64_t p = 0; p < a->hw; p++) {
                sdy += (double)dyr[p];
                sdy_xc += (double)dyr[p] * (double)(xr[p] - mean);
            }
        }
        dbeta[ch] = (float)sdy;
        dgamma[ch] = (float)(sdy_xc * save_invstd[ch]);
    }
    if (!dx) return;
    double m = (double)(a->n * a->hw);
    /* Training: dx = g*invstd*(dy - mean(dy) - xhat*mean(dy*xhat)), written
     * as dx = dy*k + x*kx + k0 per channel so the inner loop is one FMA pair. */
#pragma omp parallel for schedule(static) if (parallel(a))
    for (int64_t r = 0; r < a->n * a->c; r++) {
        int64_t ch = r % a->c;
        float invstd = save_invstd[ch];
        float k = (gamma ? gamma[ch] : 1.0f) * invstd;
        float kx = 0.0f, k0 = 0.0f;
        if (training) {
            kx = -k * invstd * (float)(dgamma[ch] / m);
            k0 = -k * (float)(dbeta[ch] / m) - kx * save_mean[ch];
        }
        const float *dyr = dy + r * a->hw, *xr = x + r * a->hw;
        float *dxr = dx + r * a->hw;
#pragma omp simd
        for (int64_t p = 0; p < a->hw; p++) dxr[p] = dyr[p] * k + xr[p] * kx + k0;
    }
}
