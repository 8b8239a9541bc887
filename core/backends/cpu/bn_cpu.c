/* OpenMP batch norm. Channels are independent, so statistics are reduced one
 * channel per thread over contiguous HW runs (sums in double: a channel of a
 * detection feature map holds ~1e5 values). In training each thread runs
 * all passes of a channel back to back (statistics, then the output; sums,
 * then dx), so the later passes read the channel's rows from its own cache
 * rather than from memory: at 80x80, batch 4, a channel's rows are 100 KiB
 * an operand. Where no statistics are reduced (eval), the elementwise pass
 * runs over (n, channel) rows. */
#include <math.h>
#include <stdint.h>
#include "dense_cpu.h"

/* gcc vectorises for 256-bit registers even where -march=native has 512;
 * these loops (exp polynomial, float to double sums) gain from the wider
 * ones: yolov5s training at 640, batch 4, 2 threads, ~2.5% less CPU time
 * per iteration (four alternating runs each). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("prefer-vector-width=512")
#endif

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

/* The batch mean and 1/sqrt(biased var + eps) per channel, and the running
 * statistics' update. */
static void channel_stats(const float *x, float *running_mean, float *running_var, const wb_bn_args *a,
                          int64_t ch, float *save_mean, float *save_invstd) {
    int64_t m = a->n * a->hw;
    double mean = channel_sum(x, a, ch) / (double)m;
    double sq = channel_sq_dev(x, a, ch, mean);
    save_mean[ch] = (float)mean;
    save_invstd[ch] = (float)(1.0 / sqrt(sq / (double)m + a->eps));
    if (running_mean) running_mean[ch] = (1.0f - a->momentum) * running_mean[ch] + a->momentum * (float)mean;
    if (running_var)
        running_var[ch] = (1.0f - a->momentum) * running_var[ch] + a->momentum * (float)(sq / (double)(m - 1));
}

static inline float channel_scale(const float *gamma, const float *invstd, int64_t ch) {
    return (gamma ? gamma[ch] : 1.0f) * invstd[ch];
}

static inline float channel_shift(const float *beta, const float *mean, float scale, int64_t ch) {
    return (beta ? beta[ch] : 0.0f) - mean[ch] * scale;
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

/* dx from dy (or what stands for it: may be dx itself) and the channel sums
 * dbeta = sum(dy), dgamma = sum(dy * xhat). Training: dx = g*invstd*(dy -
 * mean(dy) - xhat*mean(dy*xhat)), written as dx = dy*k + x*kx + k0 per
 * channel so the inner loop is one FMA pair; eval: dy*k. */
typedef struct dx_coeffs {
    float k, kx, k0;
} dx_coeffs;

static dx_coeffs dx_coeffs_of(const float *gamma, const float *save_mean, const float *save_invstd, float dgamma,
                              float dbeta, const wb_bn_args *a, int training, int64_t ch) {
    double m = (double)(a->n * a->hw);
    float invstd = save_invstd[ch];
    dx_coeffs c = {.k = (gamma ? gamma[ch] : 1.0f) * invstd};
    if (training) {
        c.kx = -c.k * invstd * (float)(dgamma / m);
        c.k0 = -c.k * (float)(dbeta / m) - c.kx * save_mean[ch];
    }
    return c;
}

/* dx's rows of channel ch from dy's (or g's, which may be dx's own). */
static void channel_dx(const float *dy, const float *x, dx_coeffs c, const wb_bn_args *a, int64_t ch, float *dx) {
    for (int64_t n = 0; n < a->n; n++) {
        int64_t row = (n * a->c + ch) * a->hw;
        const float *dyr = dy + row, *xr = x + row;
        float *dxr = dx + row;
#pragma omp simd
        for (int64_t p = 0; p < a->hw; p++) dxr[p] = dyr[p] * c.k + xr[p] * c.kx + c.k0;
    }
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
        if (dx)
            channel_dx(dy, x, dx_coeffs_of(gamma, save_mean, save_invstd, dgamma[ch], dbeta[ch], a, training, ch), a,
                       ch, dx);
    }
}

/* ---- batch norm + activation ---- */

/* e^x, Cephes' expf polynomial (about 1 ulp on [-87, 88], where the input
 * is clamped: the SiLU below needs no more range) in plain arithmetic, so
 * the loops around it vectorise; libm's expf is a call per element. */
static inline float exp_clamped(float x) {
    x = x > -87.0f ? x : -87.0f; /* NaN lands here too; z keeps it (z * sigmoid) */
    x = x < 88.0f ? x : 88.0f;
    /* n = x / ln 2 rounded to nearest by adding and taking away 1.5 * 2^23
     * (floorf is a libm call that stops vectorisation without -ffast-math) */
    float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f; /* ln 2 in two parts (Cody-Waite) */
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    union { int32_t i; float f; } two_n = {.i = ((int32_t)n + 127) << 23};
    return p * two_n.f;
}

/* act(z) and its derivative at z. */
static inline float act_at(wb_act_kind act, float z) {
    return act == WB_ACT_SILU ? z / (1.0f + exp_clamped(-z)) : (z > 0.0f ? z : 0.0f);
}

static inline float act_slope(wb_act_kind act, float z) {
    if (act != WB_ACT_SILU) return z > 0.0f ? 1.0f : 0.0f;
    float sg = 1.0f / (1.0f + exp_clamped(-z));
    return sg * (1.0f + z * (1.0f - sg));
}

/* The loops below take act as a constant (always_inline with a literal
 * kind), so each kind gets its own vectorised loop. */
#define WB_ACT_LOOP static inline __attribute__((always_inline))

WB_ACT_LOOP void affine_row(const float *xr, float scale, float shift, int64_t hw, float *yr) {
#pragma omp simd
    for (int64_t p = 0; p < hw; p++) yr[p] = xr[p] * scale + shift;
}

WB_ACT_LOOP void act_row(wb_act_kind act, const float *xr, float scale, float shift, int64_t hw, float *yr) {
#pragma omp simd
    for (int64_t p = 0; p < hw; p++) yr[p] = act_at(act, xr[p] * scale + shift);
}

/* Adds sum(g) and sum(g * (x - mean)) of one row, g = dy * act'(x * scale
 * + shift), and stores g in gr unless NULL. */
WB_ACT_LOOP void act_grad_sums(wb_act_kind act, const float *dyr, const float *xr, float scale, float shift,
                               float mean, int64_t hw, float *gr, double *sg_out, double *sg_xc_out) {
    double sg = 0.0, sg_xc = 0.0;
    if (gr) {
#pragma omp simd reduction(+ : sg, sg_xc)
        for (int64_t p = 0; p < hw; p++) {
            float g = dyr[p] * act_slope(act, xr[p] * scale + shift);
            gr[p] = g;
            sg += (double)g;
            sg_xc += (double)g * (double)(xr[p] - mean);
        }
    } else {
#pragma omp simd reduction(+ : sg, sg_xc)
        for (int64_t p = 0; p < hw; p++) {
            float g = dyr[p] * act_slope(act, xr[p] * scale + shift);
            sg += (double)g;
            sg_xc += (double)g * (double)(xr[p] - mean);
        }
    }
    *sg_out += sg, *sg_xc_out += sg_xc;
}

/* act: a wb_act_kind, or -1 for batch norm alone. */
static void train_forward(const float *x, const float *gamma, const float *beta, float *running_mean,
                          float *running_var, const wb_bn_args *a, int act, float *y, float *save_mean,
                          float *save_invstd) {
#pragma omp parallel for schedule(static) if (parallel(a))
    for (int64_t ch = 0; ch < a->c; ch++) {
        channel_stats(x, running_mean, running_var, a, ch, save_mean, save_invstd);
        float scale = channel_scale(gamma, save_invstd, ch), shift = channel_shift(beta, save_mean, scale, ch);
        for (int64_t n = 0; n < a->n; n++) {
            const float *xr = x + (n * a->c + ch) * a->hw;
            float *yr = y + (n * a->c + ch) * a->hw;
            if (act == WB_ACT_SILU) act_row(WB_ACT_SILU, xr, scale, shift, a->hw, yr);
            else if (act == WB_ACT_RELU) act_row(WB_ACT_RELU, xr, scale, shift, a->hw, yr);
            else affine_row(xr, scale, shift, a->hw, yr);
        }
    }
}

void wb_cpu_bn_train_forward(const float *x, const float *gamma, const float *beta,
                             float *running_mean, float *running_var, const wb_bn_args *a,
                             float *y, float *save_mean, float *save_invstd) {
    train_forward(x, gamma, beta, running_mean, running_var, a, -1, y, save_mean, save_invstd);
}

void wb_cpu_bn_act_train_forward(const float *x, const float *gamma, const float *beta, float *running_mean,
                                 float *running_var, const wb_bn_args *a, wb_act_kind act, float *y,
                                 float *save_mean, float *save_invstd) {
    train_forward(x, gamma, beta, running_mean, running_var, a, (int)act, y, save_mean, save_invstd);
}

/* The batch norm backward of g = dy * act'(z), z = x * scale + shift
 * recomputed from x: the channel sums of g and g * (x - mean), with g
 * parked in dx, then the channel's dx from g in place. */
void wb_cpu_bn_act_backward(const float *dy, const float *x, const float *gamma, const float *beta,
                            const float *save_mean, const float *save_invstd, const wb_bn_args *a, wb_act_kind act,
                            float *dx, float *dgamma, float *dbeta) {
#pragma omp parallel for schedule(static) if (parallel(a))
    for (int64_t ch = 0; ch < a->c; ch++) {
        float mean = save_mean[ch];
        float scale = channel_scale(gamma, save_invstd, ch), shift = channel_shift(beta, save_mean, scale, ch);
        double sg = 0.0, sg_xc = 0.0;
        for (int64_t n = 0; n < a->n; n++) {
            int64_t row = (n * a->c + ch) * a->hw;
            float *gr = dx ? dx + row : NULL;
            if (act == WB_ACT_SILU)
                act_grad_sums(WB_ACT_SILU, dy + row, x + row, scale, shift, mean, a->hw, gr, &sg, &sg_xc);
            else
                act_grad_sums(WB_ACT_RELU, dy + row, x + row, scale, shift, mean, a->hw, gr, &sg, &sg_xc);
        }
        dbeta[ch] = (float)sg;
        dgamma[ch] = (float)(sg_xc * save_invstd[ch]);
        if (dx) /* g parked in dx */
            channel_dx(dx, x, dx_coeffs_of(gamma, save_mean, save_invstd, dgamma[ch], dbeta[ch], a, 1, ch), a, ch, dx);
    }
}
