/* OpenMP group norm and the CPU norm family table. In the forward each
 * (sample, group) is one task: its statistics in double as the reference,
 * then one fused pass y = x * scale[c] + shift[c] with the affine map folded
 * per channel (and z = relu(y) in the same pass for group_norm_act). The
 * backward folds dx into a * dy + b * x + c per channel, from x or from the
 * output y; after a ReLU, dy is relu's gradient of dz, taken in its passes. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "../families.h"
#include "../kernels_norm.h"
#include "../pointwise_math.h"

/* As bn_cpu.c: gcc vectorises for 256-bit registers even where -march=native has 512; the float to double
 * sums and the fused passes gain from the wider ones (an FCOS P3 map, [2, 256, 64, 64], 1 thread: fused
 * forward 2.6-3.0 -> 2.2-2.3 ms, backward 2.1 -> 1.8-1.9 ms). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC target("prefer-vector-width=512")
#endif

/* Below this many elements one thread does it in well under a millisecond,
 * less than waking a second one costs on a busy machine. */
#define PAR_MIN (1 << 19)

/* y = group_norm(x) unless y is NULL; z = relu(y) unless z is NULL. */
static void gn_forward_into(const float *x, const float *gamma, const float *beta, const wb_gn_args *a, float *y,
                            float *z, float *mean, float *rstd) {
    int64_t cg = a->c / a->groups, len = cg * a->hw;
#pragma omp parallel for schedule(static) if (a->n * a->c * a->hw > PAR_MIN)
    for (int64_t task = 0; task < a->n * a->groups; task++) {
        int64_t n = task / a->groups, g = task % a->groups;
        const float *xg = x + (n * a->c + g * cg) * a->hw;
        /* simd reductions: summed in vector lanes, not one long dependency chain. */
        double s = 0.0, ss = 0.0;
#pragma omp simd reduction(+ : s)
        for (int64_t i = 0; i < len; i++) s += xg[i];
        double m = s / (double)len;
#pragma omp simd reduction(+ : ss)
        for (int64_t i = 0; i < len; i++) ss += (xg[i] - m) * (xg[i] - m);
        double r = 1.0 / sqrt(ss / (double)len + (double)a->eps);
        mean[task] = (float)m;
        rstd[task] = (float)r;
        for (int64_t cc = 0; cc < cg; cc++) {
            int64_t ch = g * cg + cc;
            double gm = gamma ? gamma[ch] : 1.0;
            float scale = (float)(r * gm), shift = (float)((beta ? beta[ch] : 0.0) - m * r * gm);
            const float *xc = xg + cc * a->hw;
            int64_t off = (n * a->c + ch) * a->hw;
            if (!z) {
#pragma omp simd
                for (int64_t i = 0; i < a->hw; i++) y[off + i] = xc[i] * scale + shift;
            } else if (!y) {
#pragma omp simd
                for (int64_t i = 0; i < a->hw; i++) z[off + i] = wb_act_value(WB_ACT_RELU, 0.0f, xc[i] * scale + shift);
            } else {
#pragma omp simd
                for (int64_t i = 0; i < a->hw; i++) {
                    float v = xc[i] * scale + shift;
                    y[off + i] = v;
                    z[off + i] = wb_act_value(WB_ACT_RELU, 0.0f, v);
                }
            }
        }
    }
}

static void gn_forward(const float *x, const float *gamma, const float *beta, const wb_gn_args *a, float *y,
                       float *mean, float *rstd) {
    gn_forward_into(x, gamma, beta, a, y, NULL, mean, rstd);
}

static void gn_relu_forward(const float *x, const float *gamma, const float *beta, const wb_gn_args *a, float *y,
                            float *z, float *mean, float *rstd) {
    gn_forward_into(x, gamma, beta, a, y, z, mean, rstd);
}

/* sum(dy * v) and sum(dy) over one channel, in double; the _relu one with
 * dy replaced by relu's gradient of it at v (v = y, the ReLU's input).
 * Separate loops: a select inside one loop stopped it vectorising. */
static void channel_sums(const float *dy, const float *v, int64_t n, double *sv, double *s) {
    double a = 0.0, b = 0.0;
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = 0; i < n; i++) {
        a += (double)dy[i] * v[i];
        b += dy[i];
    }
    *sv = a, *s = b;
}

/* wb_act_grad's ReLU (y > 0 ? g : +0) as a bit mask: gcc does not turn the select into vector code inside a
 * double reduction (branches, mispredicted on half the elements). */
static inline float relu_grad(float y, float g) {
    uint32_t bits;
    memcpy(&bits, &g, sizeof bits);
    bits &= -(uint32_t)(y > 0.0f);
    memcpy(&g, &bits, sizeof g);
    return g;
}

static void channel_sums_relu(const float *dy, const float *v, int64_t n, double *sv, double *s) {
    double a = 0.0, b = 0.0;
#pragma omp simd reduction(+ : a, b)
    for (int64_t i = 0; i < n; i++) {
        float d = relu_grad(v[i], dy[i]);
        a += (double)d * v[i];
        b += d;
    }
    *sv = a, *s = b;
}

/* One task per group, over every sample in order: a task owns its
 * channels' dgamma/dbeta, which sum over the batch as the reference does.
 * v is x (xhat = (x - mean) * rstd) or, with from_output, the forward's y
 * (xhat = (y - beta) / gamma): per channel xhat = (v - shift) * inv. With
 * relu (from_output only), dy is the gradient of relu(y) and each pass reads
 * relu's gradient of it. */
static void gn_backward_of(const float *dy, const float *v, const float *gamma, const float *beta, const float *mean,
                           const float *rstd, const wb_gn_args *a, bool from_output, bool relu, float *dx,
                           float *dgamma, float *dbeta) {
    int64_t cg = a->c / a->groups, len = cg * a->hw;
#pragma omp parallel for schedule(static) if (a->n * a->c * a->hw > PAR_MIN)
    for (int64_t g = 0; g < a->groups; g++) {
        for (int64_t ch = g * cg; ch < (g + 1) * cg; ch++) {
            if (dgamma) dgamma[ch] = 0.0f;
            if (dbeta) dbeta[ch] = 0.0f;
        }
        for (int64_t n = 0; n < a->n; n++) {
            int64_t task = n * a->groups + g;
            double r = rstd[task], sum_d = 0.0, sum_dx = 0.0;
            for (int64_t cc = 0; cc < cg; cc++) {
                int64_t ch = g * cg + cc, off = (n * a->c + ch) * a->hw;
                double sv, s;
                if (relu) channel_sums_relu(dy + off, v + off, a->hw, &sv, &s);
                else channel_sums(dy + off, v + off, a->hw, &sv, &s);
                double gm = gamma ? gamma[ch] : 1.0;
                double shift = from_output ? (beta ? beta[ch] : 0.0) : mean[task], inv = from_output ? 1.0 / gm : r;
                double dg = (sv - shift * s) * inv; /* sum(dy * xhat) */
                if (dgamma) dgamma[ch] += (float)dg;
                if (dbeta) dbeta[ch] += (float)s;
                sum_d += s * gm;
                sum_dx += dg * gm;
            }
            if (!dx) continue;
            /* dx = r * (dy * gamma - sum_d / len - xhat * sum_dx / len), as a * dy + b * v + c per channel. */
            for (int64_t cc = 0; cc < cg; cc++) {
                int64_t ch = g * cg + cc, off = (n * a->c + ch) * a->hw;
                double gm = gamma ? gamma[ch] : 1.0;
                double shift = from_output ? (beta ? beta[ch] : 0.0) : mean[task], inv = from_output ? 1.0 / gm : r;
                double bx = -r * inv * sum_dx / (double)len, c0 = -r * sum_d / (double)len - bx * shift;
                float av = (float)(r * gm), bv = (float)bx, cv = (float)c0;
                if (relu) {
#pragma omp simd
                    for (int64_t i = 0; i < a->hw; i++)
                        dx[off + i] = av * wb_act_grad(WB_ACT_RELU, 0.0f, v[off + i], v[off + i], dy[off + i]) +
                                      bv * v[off + i] + cv;
                } else {
#pragma omp simd
                    for (int64_t i = 0; i < a->hw; i++) dx[off + i] = av * dy[off + i] + bv * v[off + i] + cv;
                }
            }
        }
    }
}

static void gn_backward(const float *dy, const float *x, const float *gamma, const float *mean, const float *rstd,
                        const wb_gn_args *a, float *dx, float *dgamma, float *dbeta) {
    gn_backward_of(dy, x, gamma, NULL, mean, rstd, a, false, false, dx, dgamma, dbeta);
}

static void gn_backward_from_output(const float *dy, const float *y, const float *gamma, const float *beta,
                                    const float *rstd, const wb_gn_args *a, float *dx, float *dgamma,
                                    float *dbeta) {
    gn_backward_of(dy, y, gamma, beta, NULL, rstd, a, true, false, dx, dgamma, dbeta);
}

static void gn_relu_backward_from_output(const float *dz, const float *y, const float *gamma, const float *beta,
                                         const float *rstd, const wb_gn_args *a, float *dx, float *dgamma,
                                         float *dbeta) {
    gn_backward_of(dz, y, gamma, beta, NULL, rstd, a, true, true, dx, dgamma, dbeta);
}

static const wb_norm_kernels g_cpu_norm = {
    .group_norm_forward = gn_forward,
    .group_norm_backward = gn_backward,
    .group_norm_backward_from_output = gn_backward_from_output,
    .group_norm_relu_forward = gn_relu_forward,
    .group_norm_relu_backward_from_output = gn_relu_backward_from_output,
};

const wb_norm_kernels *wb_cpu_norm_kernels(void) { return &g_cpu_norm; }
