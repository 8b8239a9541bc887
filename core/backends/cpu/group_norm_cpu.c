/* OpenMP group norm and the CPU norm family table. In the forward each
 * (sample, group) is one task: its statistics in double as the reference,
 * then one fused pass y = x * scale[c] + shift[c] with the affine map folded
 * per channel. The backward folds dx into a * dy + b * x + c per channel, from
 * x or from the output y. */
#include <math.h>
#include <stdbool.h>
#include "../families.h"
#include "../kernels_norm.h"

/* Below this many elements one thread does it in well under a millisecond,
 * less than waking a second one costs on a busy machine. */
#define PAR_MIN (1 << 19)

static void gn_forward(const float *x, const float *gamma, const float *beta, const wb_gn_args *a, float *y,
                       float *mean, float *rstd) {
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
            float *yc = y + (n * a->c + ch) * a->hw;
#pragma omp simd
            for (int64_t i = 0; i < a->hw; i++) yc[i] = xc[i] * scale + shift;
        }
    }
}

/* One task per group, over every sample in order: a task owns its
 * channels' dgamma/dbeta, which sum over the batch as the reference does.
 * v is x (xhat = (x - mean) * rstd) or, with from_output, the forward's y
 * (xhat = (y - beta) / gamma): per channel xhat = (v - shift) * inv. */
static void gn_backward_of(const float *dy, const float *v, const float *gamma, const float *beta, const float *mean,
                           const float *rstd, const wb_gn_args *a, bool from_output, float *dx, float *dgamma,
                           float *dbeta) {
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
                double sv = 0.0, s = 0.0;
#pragma omp simd reduction(+ : sv, s)
                for (int64_t i = 0; i < a->hw; i++) {
                    sv += (double)dy[off + i] * v[off + i];
                    s += dy[off + i];
                }
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
#pragma omp simd
                for (int64_t i = 0; i < a->hw; i++) dx[off + i] = av * dy[off + i] + bv * v[off + i] + cv;
            }
        }
    }
}

static void gn_backward(const float *dy, const float *x, const float *gamma, const float *mean, const float *rstd,
                        const wb_gn_args *a, float *dx, float *dgamma, float *dbeta) {
    gn_backward_of(dy, x, gamma, NULL, mean, rstd, a, false, dx, dgamma, dbeta);
}

static void gn_backward_from_output(const float *dy, const float *y, const float *gamma, const float *beta,
                                    const float *rstd, const wb_gn_args *a, float *dx, float *dgamma,
                                    float *dbeta) {
    gn_backward_of(dy, y, gamma, beta, NULL, rstd, a, true, dx, dgamma, dbeta);
}

static const wb_norm_kernels g_cpu_norm = {
    .group_norm_forward = gn_forward,
    .group_norm_backward = gn_backward,
    .group_norm_backward_from_output = gn_backward_from_output,
};

const wb_norm_kernels *wb_cpu_norm_kernels(void) { return &g_cpu_norm; }
