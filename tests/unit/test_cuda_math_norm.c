/* The CUDA group norm's math (gn_math.h and the two-level sums of
 * segment_reduce.h), run on the host as norm_cuda.cu runs it against the
 * reference backend: groups = 1 and groups = C, 1x1 maps, primes, groups of
 * more than one chunk (len 4099 > WB_RED_CHUNK), gamma/beta absent, dx not
 * wanted.
 *
 * The statistics are double sums in another order than the reference's
 * (chunks and a halving tree instead of one running sum); their double
 * values differ by about len * 2^-53 relative, so the float results, each
 * rounded once from double, differ by at most one rounding step:
 * |d| <= 2^-23 |want| (plus 1e-12 where a result cancels to near zero).
 * dgamma and dbeta add N such per-sample floats in the reference's order,
 * so they may differ by N rounding steps of the largest term. */
#include "backends/cuda/gn_math.h"
#include "backends/families.h"
#include "backends/kernels_norm.h"
#include "cuda_math_testing.h"

#define ONE_ROUNDING 0x1.0p-23
#define CANCELLED 1e-12

typedef struct gn_case {
    int64_t n, c, hw, groups;
    int affine;
} gn_case;

static const gn_case CASES[] = {
    {2, 6, 1, 1, 1}, {2, 6, 1, 6, 1}, {3, 7, 13, 7, 1}, {3, 7, 13, 1, 0}, {1, 4, 29 * 31, 2, 1}, {2, 2, 4099, 2, 1},
};
#define N_CASES ((int)(sizeof CASES / sizeof *CASES))

/* gn_forward as norm_cuda.cu runs it: statistics in double, kept for y. */
static void sim_forward(const float *x, const float *gamma, const float *beta, const wb_gn_args *a, float *y,
                        float *mean, float *rstd) {
    wb_segments g = wb_gn_group_segments(a);
    int64_t chunks = wb_segment_chunks(&g);
    double *m = calloc((size_t)g.count, sizeof *m), *r = calloc((size_t)g.count, sizeof *r);
    double *sums = cm_partials(&g, WB_RED_SUM, x, NULL, NULL, NULL, NULL);
    for (int64_t s = 0; s < g.count; s++) m[s] = wb_red_total(sums, s, chunks, 0) / (double)g.len;
    double *sq = cm_partials(&g, WB_RED_SQDEV, x, NULL, m, NULL, NULL);
    for (int64_t s = 0; s < g.count; s++) {
        r[s] = wb_gn_rstd(a, wb_red_total(sq, s, chunks, 0), g.len);
        mean[s] = (float)m[s];
        rstd[s] = (float)r[s];
    }
    for (int64_t k = 0; k < a->n * a->c * a->hw; k++) {
        int64_t s = wb_gn_group_of(a, k), ch = wb_gn_channel(a, k);
        y[k] = wb_gn_normalize(x[k], m[s], r[s], gamma ? gamma[ch] : 1.0, beta ? beta[ch] : 0.0);
    }
    free(m), free(r), free(sums), free(sq);
}

static void sim_backward(const float *dy, const float *x, const float *gamma, const float *mean, const float *rstd,
                         const wb_gn_args *a, float *dx, float *dgamma, float *dbeta) {
    wb_segments g = wb_gn_channel_segments(a);
    int64_t chunks = wb_segment_chunks(&g), groups = a->n * a->groups, len = wb_gn_channels_per_group(a) * a->hw;
    double *p = cm_partials(&g, WB_RED_DY_XHAT, x, dy, NULL, mean, rstd);
    double *sums = malloc((size_t)(2 * g.count + 2 * groups) * sizeof *sums), *group_sums = sums + 2 * g.count;
    for (int64_t s = 0; s < g.count; s++) {
        sums[s] = wb_red_total(p, s, chunks, 0);
        sums[g.count + s] = wb_red_total(p, s, chunks, 1);
    }
    for (int64_t ch = 0; ch < a->c; ch++) {
        if (dgamma) dgamma[ch] = wb_gn_param_grad(a, sums + a->n * a->c, ch);
        if (dbeta) dbeta[ch] = wb_gn_param_grad(a, sums, ch);
    }
    if (dx) {
        for (int64_t s = 0; s < groups; s++)
            wb_gn_group_sums(a, gamma, sums, sums + a->n * a->c, s / a->groups, s % a->groups, &group_sums[s],
                             &group_sums[groups + s]);
        for (int64_t k = 0; k < a->n * a->c * a->hw; k++) {
            int64_t s = wb_gn_group_of(a, k), ch = wb_gn_channel(a, k);
            dx[k] = wb_gn_dx(dy[k], x[k], mean[s], rstd[s], gamma ? gamma[ch] : 1.0, group_sums[s],
                             group_sums[groups + s], len);
        }
    }
    free(p), free(sums);
}

/* N rounding steps of the largest per-sample term of channel ch's dgamma
 * (sum(dy * xhat)) or dbeta (sum(dy)), the terms computed from the definition. */
static double param_grad_bound(const float *dy, const float *x, const float *mean, const float *rstd,
                               const wb_gn_args *a, int xhat) {
    double worst = 0.0;
    int64_t cg = a->c / a->groups;
    for (int64_t n = 0; n < a->n; n++)
        for (int64_t ch = 0; ch < a->c; ch++) {
            double t = 0.0, m = mean[n * a->groups + ch / cg], r = rstd[n * a->groups + ch / cg];
            for (int64_t i = 0; i < a->hw; i++) {
                int64_t k = (n * a->c + ch) * a->hw + i;
                t += xhat ? dy[k] * (x[k] - m) * r : dy[k];
            }
            worst = fmax(worst, fabs(t));
        }
    return (double)a->n * ONE_ROUNDING * worst + CANCELLED;
}

START_TEST(group_norm_matches_ref) {
    gn_case gc = CASES[_i];
    wb_gn_args a = {gc.n, gc.c, gc.hw, gc.groups, 1e-5f};
    int64_t total = a.n * a.c * a.hw, stats = a.n * a.groups;
    uint64_t rng = 31 + (uint64_t)_i;
    float *x = cm_random(total, -2, 3, &rng), *dy = cm_random(total, -1, 1, &rng);
    float *gamma = gc.affine ? cm_random(a.c, 0.5f, 2, &rng) : NULL;
    float *beta = gc.affine ? cm_random(a.c, -1, 1, &rng) : NULL;
    float *y = cm_zeros(total), *y2 = cm_zeros(total), *m = cm_zeros(stats), *m2 = cm_zeros(stats);
    float *r = cm_zeros(stats), *r2 = cm_zeros(stats);
    const wb_norm_kernels *ref = wb_ref_norm_kernels();
    sim_forward(x, gamma, beta, &a, y, m, r);
    ref->group_norm_forward(x, gamma, beta, &a, y2, m2, r2);
    cm_assert_close("mean", m, m2, stats, CANCELLED, ONE_ROUNDING);
    cm_assert_close("rstd", r, r2, stats, 0.0, ONE_ROUNDING);
    cm_assert_close("y", y, y2, total, CANCELLED, ONE_ROUNDING);

    float *dx = cm_zeros(total), *dx2 = cm_zeros(total), *dg = cm_zeros(a.c), *dg2 = cm_zeros(a.c);
    float *db = cm_zeros(a.c), *db2 = cm_zeros(a.c);
    sim_backward(dy, x, gamma, m2, r2, &a, dx, dg, db);
    ref->group_norm_backward(dy, x, gamma, m2, r2, &a, dx2, dg2, db2);
    cm_assert_close("dx", dx, dx2, total, CANCELLED, ONE_ROUNDING);
    cm_assert_close("dgamma", dg, dg2, a.c, param_grad_bound(dy, x, m2, r2, &a, 1), 0.0);
    cm_assert_close("dbeta", db, db2, a.c, param_grad_bound(dy, x, m2, r2, &a, 0), 0.0);
    /* Only the parameter gradients wanted. */
    float *dg3 = cm_zeros(a.c), *db3 = cm_zeros(a.c);
    sim_backward(dy, x, gamma, m2, r2, &a, NULL, dg3, db3);
    cm_assert_identical("dgamma without dx", dg3, dg, a.c);
    cm_assert_identical("dbeta without dx", db3, db, a.c);
    free(x), free(dy), free(gamma), free(beta), free(y), free(y2), free(m), free(m2), free(r), free(r2);
    free(dx), free(dx2), free(dg), free(dg2), free(db), free(db2), free(dg3), free(db3);
}
END_TEST

int main(void) {
    Suite *s = suite_create("cuda_math_norm");
    TCase *t = tcase_create("cuda_math_norm");
    tcase_add_loop_test(t, group_norm_matches_ref, 0, N_CASES);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
