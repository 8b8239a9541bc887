/* Reference group norm and the norm family table: per (sample, group)
 * statistics and sums in double, the textbook backward through the batch
 * statistics of each group. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include "../families.h"
#include "../kernels_norm.h"

static void gn_forward(const float *x, const float *gamma, const float *beta, const wb_gn_args *a,
                       float *y, float *mean, float *rstd) {
    int64_t cg = a->c / a->groups, len = cg * a->hw;
    for (int64_t n = 0; n < a->n; n++) {
        for (int64_t g = 0; g < a->groups; g++) {
            const float *xg = x + (n * a->c + g * cg) * a->hw;
            double s = 0.0, ss = 0.0;
            for (int64_t i = 0; i < len; i++) s += xg[i];
            double m = s / (double)len;
            for (int64_t i = 0; i < len; i++) ss += (xg[i] - m) * (xg[i] - m);
            double r = 1.0 / sqrt(ss / (double)len + (double)a->eps);
            mean[n * a->groups + g] = (float)m;
            rstd[n * a->groups + g] = (float)r;
            for (int64_t cc = 0; cc < cg; cc++) {
                int64_t ch = g * cg + cc;
                double gm = gamma ? gamma[ch] : 1.0, bt = beta ? beta[ch] : 0.0;
                const float *xc = xg + cc * a->hw;
                float *yc = y + (n * a->c + ch) * a->hw;
                for (int64_t i = 0; i < a->hw; i++) yc[i] = (float)((xc[i] - m) * r * gm + bt);
            }
        }
    }
}

/* v is x (xhat = (x - mean) * rstd) or, with from_output, the forward's y (xhat = (y - beta) / gamma). */
static double xhat_of(float v, double mean, double rstd, double gamma, double beta, bool from_output) {
    return from_output ? (v - beta) / gamma : (v - mean) * rstd;
}

static void gn_backward_of(const float *dy, const float *v, const float *gamma, const float *beta,
                           const float *mean, const float *rstd, const wb_gn_args *a, bool from_output, float *dx,
                           float *dgamma, float *dbeta) {
    int64_t cg = a->c / a->groups, len = cg * a->hw;
    for (int64_t ch = 0; ch < a->c; ch++) {
        if (dgamma) dgamma[ch] = 0.0f;
        if (dbeta) dbeta[ch] = 0.0f;
    }
    for (int64_t n = 0; n < a->n; n++) {
        for (int64_t g = 0; g < a->groups; g++) {
            double m = from_output ? 0.0 : mean[n * a->groups + g], r = rstd[n * a->groups + g];
            /* Sums over the group of dxhat = dy * gamma and dxhat * xhat. */
            double sum_d = 0.0, sum_dx = 0.0;
            for (int64_t cc = 0; cc < cg; cc++) {
                int64_t ch = g * cg + cc, off = (n * a->c + ch) * a->hw;
                double gm = gamma ? gamma[ch] : 1.0, bt = beta ? beta[ch] : 0.0, dg = 0.0, db = 0.0;
                for (int64_t i = 0; i < a->hw; i++) {
                    double xhat = xhat_of(v[off + i], m, r, gm, bt, from_output);
                    sum_d += dy[off + i] * gm;
                    sum_dx += dy[off + i] * gm * xhat;
                    dg += dy[off + i] * xhat;
                    db += dy[off + i];
                }
                if (dgamma) dgamma[ch] += (float)dg;
                if (dbeta) dbeta[ch] += (float)db;
            }
            if (!dx) continue;
            for (int64_t cc = 0; cc < cg; cc++) {
                int64_t ch = g * cg + cc, off = (n * a->c + ch) * a->hw;
                double gm = gamma ? gamma[ch] : 1.0, bt = beta ? beta[ch] : 0.0;
                for (int64_t i = 0; i < a->hw; i++) {
                    double xhat = xhat_of(v[off + i], m, r, gm, bt, from_output);
                    dx[off + i] = (float)(r * (dy[off + i] * gm - sum_d / (double)len - xhat * sum_dx / (double)len));
                }
            }
        }
    }
}

static void gn_backward(const float *dy, const float *x, const float *gamma, const float *mean,
                        const float *rstd, const wb_gn_args *a, float *dx, float *dgamma, float *dbeta) {
    gn_backward_of(dy, x, gamma, NULL, mean, rstd, a, false, dx, dgamma, dbeta);
}

static void gn_backward_from_output(const float *dy, const float *y, const float *gamma, const float *beta,
                                    const float *rstd, const wb_gn_args *a, float *dx, float *dgamma,
                                    float *dbeta) {
    gn_backward_of(dy, y, gamma, beta, NULL, rstd, a, true, dx, dgamma, dbeta);
}

static const wb_norm_kernels g_ref_norm = {
    .group_norm_forward = gn_forward,
    .group_norm_backward = gn_backward,
    .group_norm_backward_from_output = gn_backward_from_output,
};

const wb_norm_kernels *wb_ref_norm_kernels(void) { return &g_ref_norm; }
