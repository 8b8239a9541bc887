/* The CUDA dense kernels' math (bn_math.h, pool_math.h, bias_math.h and
 * the two-level sums of segment_reduce.h), run on the host as the kernels
 * run it (grid-stride loops become plain loops over the same indices)
 * against the reference backend on odd shapes.
 *
 * Bit for bit where the expression and order are the reference's: batch
 * norm in eval mode, pooling forward and backward (the gathering backwards
 * add each input's outputs in the reference's scatter order), column sums.
 * Batch norm's training statistics and everything computed from them are
 * double sums in another order (chunks and a halving tree instead of one
 * running sum): their double results differ from the reference's by about
 * m * 2^-53 relative, so once rounded to float they differ by at most one
 * rounding step, |d| <= 2^-23 |want| (plus 1e-12 where a result cancels to
 * near zero). */
#include "backends/cuda/bias_math.h"
#include "backends/cuda/bn_math.h"
#include "backends/cuda/pool_math.h"
#include "backends/families.h"
#include "backends/kernels_dense.h"
#include "cuda_math_testing.h"

#define ONE_ROUNDING 0x1.0p-23
#define CANCELLED 1e-12

typedef struct bn_case {
    int64_t n, c, hw;
} bn_case;

/* 1x1 maps, a single element per channel, primes, and channels of more
 * than one chunk (N * HW = 8198 > WB_RED_CHUNK = 4096, last chunk of 6). */
static const bn_case BN_CASES[] = {{3, 5, 1}, {1, 1, 1}, {2, 7, 13}, {1, 3, 29 * 31}, {2, 3, 4099}};
#define N_BN ((int)(sizeof BN_CASES / sizeof *BN_CASES))

/* bn_train_forward's statistics as dense_cuda.cu computes them. */
static void sim_bn_stats(const float *x, float *rm, float *rv, const wb_bn_args *a, float *save_mean,
                         float *save_invstd) {
    wb_segments g = wb_bn_segments(a);
    int64_t chunks = wb_segment_chunks(&g);
    double *sums = cm_partials(&g, WB_RED_SUM, x, NULL, NULL, NULL, NULL);
    double *mean = malloc((size_t)a->c * sizeof *mean);
    for (int64_t ch = 0; ch < a->c; ch++) mean[ch] = wb_red_total(sums, ch, chunks, 0) / (double)(a->n * a->hw);
    double *sq = cm_partials(&g, WB_RED_SQDEV, x, NULL, mean, NULL, NULL);
    for (int64_t ch = 0; ch < a->c; ch++)
        wb_bn_finalize(a, ch, mean[ch], wb_red_total(sq, ch, chunks, 0), save_mean, save_invstd, rm, rv);
    free(sums);
    free(mean);
    free(sq);
}

static void sim_bn_normalize(const float *x, const float *gamma, const float *beta, const wb_bn_args *a,
                             const float *mean, const float *invstd, float *y) {
    for (int64_t k = 0; k < a->n * a->c * a->hw; k++) {
        int64_t ch = wb_bn_channel(a, k);
        y[k] = wb_bn_normalize(x[k], mean[ch], invstd[ch], gamma ? gamma[ch] : 1.0f, beta ? beta[ch] : 0.0f);
    }
}

static void sim_bn_backward(const float *dy, const float *x, const float *gamma, const float *mean,
                            const float *invstd, const wb_bn_args *a, int training, float *dx, float *dgamma,
                            float *dbeta) {
    wb_segments g = wb_bn_segments(a);
    int64_t chunks = wb_segment_chunks(&g);
    double *p = cm_partials(&g, WB_RED_DY_XHAT, x, dy, NULL, mean, invstd);
    for (int64_t ch = 0; ch < a->c; ch++) {
        dgamma[ch] = (float)wb_red_total(p, ch, chunks, 1);
        dbeta[ch] = (float)wb_red_total(p, ch, chunks, 0);
    }
    for (int64_t k = 0; k < a->n * a->c * a->hw; k++) {
        int64_t ch = wb_bn_channel(a, k);
        dx[k] = wb_bn_dx(a, dy[k], x[k], mean[ch], invstd[ch], gamma ? gamma[ch] : 1.0f,
                         wb_red_total(p, ch, chunks, 0), wb_red_total(p, ch, chunks, 1), training);
    }
    free(p);
}

START_TEST(bn_training_matches_ref) {
    bn_case bc = BN_CASES[_i / 2];
    int affine = _i % 2;
    wb_bn_args a = {bc.n, bc.c, bc.hw, 1e-5f, 0.1f};
    int64_t total = a.n * a.c * a.hw;
    uint64_t rng = 17 + (uint64_t)_i;
    float *x = cm_random(total, -2.0f, 3.0f, &rng), *dy = cm_random(total, -1.0f, 1.0f, &rng);
    float *gamma = affine ? cm_random(a.c, 0.5f, 2.0f, &rng) : NULL;
    float *beta = affine ? cm_random(a.c, -1, 1, &rng) : NULL;
    float *rm = cm_random(a.c, -1, 1, &rng), *rv = cm_random(a.c, 0.5f, 2, &rng);
    float *rm2 = cm_zeros(a.c), *rv2 = cm_zeros(a.c);
    memcpy(rm2, rm, (size_t)a.c * sizeof *rm);
    memcpy(rv2, rv, (size_t)a.c * sizeof *rv);
    float *y = cm_zeros(total), *y2 = cm_zeros(total), *m = cm_zeros(a.c), *m2 = cm_zeros(a.c);
    float *is = cm_zeros(a.c), *is2 = cm_zeros(a.c);
    sim_bn_stats(x, rm, rv, &a, m, is);
    wb_ref_dense_kernels()->bn_train_forward(x, gamma, beta, rm2, rv2, &a, y2, m2, is2);
    cm_assert_close("save_mean", m, m2, a.c, CANCELLED, ONE_ROUNDING);
    cm_assert_close("save_invstd", is, is2, a.c, 0.0, ONE_ROUNDING);
    /* running = 0.9 * running + 0.1 * (float)batch: the batch value's one rounding
     * step (|mean| < 3 here) scaled by 0.1, then the result's own rounding. */
    cm_assert_close("running_mean", rm, rm2, a.c, 0.1 * 3 * ONE_ROUNDING, 2 * ONE_ROUNDING);
    /* One element per channel: the unbiased variance is 0 / 0, NaN on both sides. */
    cm_assert_close("running_var", rv, rv2, a.c, 0.0, 2 * ONE_ROUNDING);
    /* The normalization itself is the reference's expression: with the same statistics, the same bits. */
    sim_bn_normalize(x, gamma, beta, &a, m2, is2, y);
    cm_assert_identical("y", y, y2, total);

    for (int training = 0; training < 2; training++) {
        float *dx = cm_zeros(total), *dx2 = cm_zeros(total), *dg = cm_zeros(a.c), *dg2 = cm_zeros(a.c);
        float *db = cm_zeros(a.c), *db2 = cm_zeros(a.c);
        sim_bn_backward(dy, x, gamma, m2, is2, &a, training, dx, dg, db);
        wb_ref_dense_kernels()->bn_backward(dy, x, gamma, m2, is2, &a, training, dx2, dg2, db2);
        cm_assert_close("dgamma", dg, dg2, a.c, CANCELLED, ONE_ROUNDING);
        cm_assert_close("dbeta", db, db2, a.c, CANCELLED, ONE_ROUNDING);
        if (training)
            cm_assert_close("dx (training)", dx, dx2, total, CANCELLED, ONE_ROUNDING);
        else
            cm_assert_identical("dx (eval)", dx, dx2, total);
        free(dx), free(dx2), free(dg), free(dg2), free(db), free(db2);
    }
    free(x), free(dy), free(gamma), free(beta), free(rm), free(rv), free(rm2), free(rv2);
    free(y), free(y2), free(m), free(m2), free(is), free(is2);
}
END_TEST

START_TEST(bn_eval_is_the_reference) {
    wb_bn_args a = {2, 7, 13, 1e-3f, 0.1f};
    int64_t total = a.n * a.c * a.hw;
    uint64_t rng = 5;
    float *x = cm_random(total, -2, 3, &rng), *gamma = cm_random(a.c, 0.5f, 2, &rng);
    float *beta = cm_random(a.c, -1, 1, &rng);
    float *rm = cm_random(a.c, -1, 1, &rng), *rv = cm_random(a.c, 0.1f, 2, &rng);
    float *y = cm_zeros(total), *y2 = cm_zeros(total), *m = cm_zeros(a.c), *m2 = cm_zeros(a.c);
    float *is = cm_zeros(a.c), *is2 = cm_zeros(a.c);
    for (int64_t ch = 0; ch < a.c; ch++) {
        m[ch] = rm[ch];
        is[ch] = wb_bn_eval_invstd(&a, rv[ch]);
    }
    for (int64_t k = 0; k < total; k++) {
        int64_t ch = wb_bn_channel(&a, k);
        y[k] = wb_bn_normalize(x[k], m[ch], is[ch], gamma[ch], beta[ch]);
    }
    wb_ref_dense_kernels()->bn_eval_forward(x, gamma, beta, rm, rv, &a, y2, m2, is2);
    cm_assert_identical("save_invstd", is, is2, a.c);
    cm_assert_identical("y", y, y2, total);
    free(x), free(gamma), free(beta), free(rm), free(rv);
    free(y), free(y2), free(m), free(m2), free(is), free(is2);
}
END_TEST

/* wb_pool_outputs_over against the definition, over every small geometry. */
START_TEST(pool_output_ranges) {
    for (int k = 1; k <= 4; k++)
        for (int s = 1; s <= 3; s++)
            for (int p = 0; p <= k / 2; p++)
                for (int64_t out = 1; out <= 6; out++)
                    for (int64_t i = 0; i < (out - 1) * s + k; i++) {
                        int64_t lo, hi;
                        wb_pool_outputs_over(i, k, s, p, out, &lo, &hi);
                        for (int64_t o = 0; o < out; o++) {
                            bool holds = o * s - p <= i && i < o * s - p + k, inside = o >= lo && o < hi;
                            ck_assert_msg(holds == inside, "k %d s %d p %d out %lld: input %lld, output %lld", k, s, p,
                                          (long long)out, (long long)i, (long long)o);
                        }
                    }
}
END_TEST

static int64_t pool_out(int64_t in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

typedef struct pool_case {
    int64_t planes, ih, iw;
    int kh, kw, sh, sw, ph, pw;
} pool_case;

/* 1x1 inputs, windows larger than the input, strides past the window (cells
 * no window holds), global pooling (window = input). */
static const pool_case POOL_CASES[] = {
    {3, 1, 1, 1, 1, 1, 1, 0, 0}, {2, 1, 1, 3, 3, 1, 1, 1, 1}, {2, 7, 5, 3, 3, 2, 2, 1, 1},
    {1, 11, 13, 2, 2, 3, 3, 0, 0}, {5, 13, 7, 13, 7, 1, 1, 0, 0}, {2, 9, 9, 5, 3, 2, 1, 2, 1},
};
#define N_POOL ((int)(sizeof POOL_CASES / sizeof *POOL_CASES))

START_TEST(pooling_is_the_reference) {
    pool_case pc = POOL_CASES[_i / 2];
    wb_pool_args a = {pc.planes, pc.ih, pc.iw, pool_out(pc.ih, pc.kh, pc.sh, pc.ph),
                      pool_out(pc.iw, pc.kw, pc.sw, pc.pw), pc.kh, pc.kw, pc.sh, pc.sw, pc.ph, pc.pw, _i % 2};
    int64_t in_plane = a.ih * a.iw, out_plane = a.oh * a.ow, in = a.planes * in_plane, out = a.planes * out_plane;
    uint64_t rng = 99 + (uint64_t)_i;
    float *x = cm_random(in, -1, 1, &rng), *dy = cm_random(out, -1, 1, &rng);
    /* Ties (the first maximum wins) and NaNs (the last one wins) in plane 0. */
    for (int64_t i = 0; i < in_plane; i += 2) x[i] = 0.75f;
    if (in_plane > 4) x[3] = x[4] = NAN;
    const wb_dense_kernels *ref = wb_ref_dense_kernels();
    float *y = cm_zeros(out), *y2 = cm_zeros(out), *dx = cm_zeros(in), *dx2 = cm_zeros(in);
    int32_t *am = calloc((size_t)out, sizeof *am), *am2 = calloc((size_t)out, sizeof *am2);

    for (int64_t o = 0; o < out; o++)
        y[o] = wb_max_pool_at(x + o / out_plane * in_plane, &a, o % out_plane / a.ow, o % a.ow, &am[o]);
    ref->max_pool_forward(x, &a, y2, am2);
    cm_assert_identical("max pool y", y, y2, out);
    cm_assert_same_ints("max pool argmax", am, am2, out);
    for (int64_t i = 0; i < in; i++)
        dx[i] = wb_max_pool_dx_at(dy + i / in_plane * out_plane, am2 + i / in_plane * out_plane, &a,
                                  i % in_plane / a.iw, i % a.iw);
    ref->max_pool_backward(dy, am2, &a, dx2);
    cm_assert_identical("max pool dx", dx, dx2, in);

    for (int64_t o = 0; o < out; o++)
        y[o] = wb_avg_pool_at(x + o / out_plane * in_plane, &a, o % out_plane / a.ow, o % a.ow);
    ref->avg_pool_forward(x, &a, y2);
    cm_assert_identical("avg pool y", y, y2, out);
    for (int64_t i = 0; i < in; i++)
        dx[i] = wb_avg_pool_dx_at(dy + i / in_plane * out_plane, &a, i % in_plane / a.iw, i % a.iw);
    ref->avg_pool_backward(dy, &a, dx2);
    cm_assert_identical("avg pool dx", dx, dx2, in);
    free(x), free(dy), free(y), free(y2), free(dx), free(dx2), free(am), free(am2);
}
END_TEST

START_TEST(column_sums_are_the_reference) {
    static const int64_t shapes[][2] = {{1, 1}, {7, 1}, {1, 13}, {37, 11}, {0, 5}};
    for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++) {
        int64_t rows = shapes[t][0], cols = shapes[t][1];
        uint64_t rng = 3 + t;
        float *dy = cm_random(rows * cols, -1, 1, &rng), *db = cm_zeros(cols), *db2 = cm_zeros(cols);
        for (int64_t j = 0; j < cols; j++) db[j] = wb_column_sum(dy, rows, cols, j);
        wb_ref_dense_kernels()->sum_rows(dy, rows, cols, db2);
        cm_assert_identical("sum_rows", db, db2, cols);
        free(dy), free(db), free(db2);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("cuda_math_dense");
    TCase *t = tcase_create("cuda_math_dense");
    tcase_add_loop_test(t, bn_training_matches_ref, 0, 2 * N_BN);
    tcase_add_test(t, bn_eval_is_the_reference);
    tcase_add_test(t, pool_output_ranges);
    tcase_add_loop_test(t, pooling_is_the_reference, 0, 2 * N_POOL);
    tcase_add_test(t, column_sums_are_the_reference);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
