/* batch_norm's backward from its output: where gamma and beta let y give
 * xhat back, the tape keeps y and frees x (the convolution output) at once;
 * the gradients are the textbook ones either way, checked here against the
 * formulas in double precision, in training and in eval mode, for the path
 * from y and for the fallback that keeps x (one channel with |beta| far
 * above |gamma|). */
#include <math.h>
#include <stdlib.h>
#include <workbench/ops.h>
#include "ops/ops.h"
#include "wbtest.h"

enum { N = 2, C = 3, H = 5, W = 7, HW = H * W, M = N * HW };
static const int64_t x_shape[4] = {N, C, H, W}, c_shape[1] = {C};

/* dx, dgamma, dbeta of sum(dy * bn(x)) in double, with batch statistics when
 * training, else with running_mean / running_var. */
static void expected(const float *x, const float *dy, const float *gamma, const float *rm, const float *rv,
                     int training, double *dx, double *dg, double *db) {
    for (int c = 0; c < C; c++) {
        double mean = 0, var = 0;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) mean += x[(n * C + c) * HW + p];
        mean /= M;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) var += pow(x[(n * C + c) * HW + p] - mean, 2);
        var /= M;
        if (!training) mean = rm[c], var = rv[c];
        double invstd = 1.0 / sqrt(var + 1e-5), sdy = 0, sdyx = 0;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) {
                int i = (n * C + c) * HW + p;
                sdy += dy[i], sdyx += dy[i] * (x[i] - mean) * invstd;
            }
        dg[c] = sdyx, db[c] = sdy;
        for (int n = 0; n < N; n++)
            for (int p = 0; p < HW; p++) {
                int i = (n * C + c) * HW + p;
                double xhat = (x[i] - mean) * invstd;
                dx[i] = training ? gamma[c] * invstd * (dy[i] - sdy / M - xhat * sdyx / M) : gamma[c] * invstd * dy[i];
            }
    }
}

static void check(int training, int invertible) {
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    uint64_t rng = 11 + (uint64_t)(2 * training + invertible);
    wb_tensor *x = wbt_random(&e, 4, x_shape, -2.0f, 3.0f, &rng);
    wb_tensor *g = wbt_random(&e, 1, c_shape, 0.5f, 2.0f, &rng), *b = wbt_random(&e, 1, c_shape, -2.0f, 2.0f, &rng);
    wb_tensor *rm = wbt_random(&e, 1, c_shape, -0.5f, 0.5f, &rng), *rv = wbt_random(&e, 1, c_shape, 0.5f, 2.0f, &rng);
    g->data[1] = -g->data[1]; /* a negative gamma inverts too */
    if (!invertible) b->data[2] = 100.0f * g->data[2];
    x->requires_grad = g->requires_grad = b->requires_grad = true;
    float x_copy[N * C * HW];
    for (int i = 0; i < N * C * HW; i++) x_copy[i] = x->data[i];
    float rm0[C], rv0[C];
    for (int c = 0; c < C; c++) rm0[c] = rm->data[c], rv0[c] = rv->data[c];

    size_t before = e.s->tensors.in_use, x_bytes = (sizeof x_copy + 63) & ~(size_t)63; /* pool rounding */
    wb_tensor *y = wb_op_batch_norm(e.ctx, x, g, b, rm, rv, training, 0.1f, 1e-5f);
    ck_assert_msg(y != NULL, "%s", e.c.msg);
    wb_release(e.ctx, x);
    /* y is new; x is gone when the backward works from y, else the tape holds it */
    size_t want = before + x_bytes - (invertible ? x_bytes : 0);
    ck_assert_uint_eq(e.s->tensors.in_use, want);

    float *dy = wb_grad_begin(&e.c, y);
    uint64_t r2 = 99;
    for (int i = 0; i < N * C * HW; i++) dy[i] = 2.0f * wb_rng_uniform(&r2) - 1.0f;
    float dy_copy[N * C * HW];
    for (int i = 0; i < N * C * HW; i++) dy_copy[i] = dy[i];
    wb_grad_end(&e.c, y, dy);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);

    double dx[N * C * HW], dg[C], db[C];
    expected(x_copy, dy_copy, g->data, rm0, rv0, training, dx, dg, db);
    for (int i = 0; i < N * C * HW; i++)
        ck_assert_msg(fabs(x->grad[i] - dx[i]) <= 1e-5 + 1e-4 * fabs(dx[i]),
                      "training %d invertible %d: dx[%d] = %.8g, want %.8g", training, invertible, i,
                      (double)x->grad[i], dx[i]);
    for (int c = 0; c < C; c++) {
        ck_assert_msg(fabs(g->grad[c] - dg[c]) <= 1e-4 + 1e-4 * fabs(dg[c]), "dgamma[%d] = %.8g, want %.8g", c,
                      (double)g->grad[c], dg[c]);
        ck_assert_msg(fabs(b->grad[c] - db[c]) <= 1e-4 + 1e-4 * fabs(db[c]), "dbeta[%d] = %.8g, want %.8g", c,
                      (double)b->grad[c], db[c]);
    }
    wbt_env_free(&e);
}

START_TEST(gradients_from_the_output_or_the_input) {
    check(_i / 2, _i % 2);
}
END_TEST

int main(void) {
    Suite *s = suite_create("bn_from_output");
    TCase *tc = tcase_create("bn_from_output");
    tcase_add_loop_test(tc, gradients_from_the_output_or_the_input, 0, 4);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
