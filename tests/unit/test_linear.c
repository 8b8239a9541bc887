/* matmul (all transpose combinations) and linear (with and without bias):
 * torch parity on both backends, finite-difference gradients, oneDNN sgemm
 * vs the reference on larger odd shapes, and shape errors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/families.h"
#include "ops/ops.h"
#include "opcheck.h"

/* Dot products of <= 9 terms of O(1) values: float32 (torch, oneDNN) vs
 * double (reference) differ by a few ulps: 1e-5 absolute, 1e-5 relative. */
#define MM_ATOL 1e-5
#define MM_RTOL 1e-5

static const wb_backend *backend_at(int i) { return i == 0 ? wb_backend_ref() : wb_backend_cpu(); }


static void expect_close(const char *be, const char *case_name, const char *what, const float *got,
                         const wb_st_file *f, const char *name, int64_t n) {
    char label[160];
    snprintf(label, sizeof label, "%s/%s %s", be, case_name, what);
    const float *want = wbt_parity_tensor(f, name, n);
    fprintf(stderr, "  %-36s max |diff| %.3g\n", label, wbt_max_abs_diff(got, want, n));
    wbt_assert_close(label, got, want, n, MM_ATOL, MM_RTOL);
}

static void backward_with(wbt_env *e, wb_tensor *y, const float *dy) {
    float *g = wb_grad_begin(&e->c, y);
    memcpy(g, dy, (size_t)y->numel * sizeof(float));
    wb_grad_end(&e->c, y, g);
    ck_assert_int_eq(wb_tape_backward(&e->c), WB_OK);
}

/* Loop index: trans combination i / 2 on backend i % 2. */
START_TEST(matmul_matches_torch) {
    char name[32];
    snprintf(name, sizeof name, "dense_matmul_t%d%d", (_i / 2) >> 1, (_i / 2) & 1);
    const wb_backend *be = backend_at(_i % 2);
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    wb_tensor *a = wbt_parity_input(&e, &f, "a", true), *b = wbt_parity_input(&e, &f, "b", true);
    wb_tensor *y = wb_op_matmul(e.ctx, a, b, (int)wbt_parity_attr(&f, "trans_a"), (int)wbt_parity_attr(&f, "trans_b"));
    ck_assert_msg(y != NULL, "%s: %s", name, e.c.msg);
    expect_close(be->name, name, "y", y->data, &f, "y", y->numel);
    backward_with(&e, y, wbt_parity_tensor(&f, "dy", y->numel));
    expect_close(be->name, name, "da", a->grad, &f, "da", a->numel);
    expect_close(be->name, name, "db", b->grad, &f, "db", b->numel);
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

START_TEST(linear_matches_torch) {
    const char *name = _i / 2 ? "dense_linear_nobias" : "dense_linear_bias";
    const wb_backend *be = backend_at(_i % 2);
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    bool bias = wbt_parity_attr(&f, "bias") != 0;
    wb_tensor *x = wbt_parity_input(&e, &f, "x", true), *w = wbt_parity_input(&e, &f, "w", true);
    wb_tensor *b = bias ? wbt_parity_input(&e, &f, "b", true) : NULL;
    wb_tensor *y = wb_op_linear(e.ctx, x, w, b);
    ck_assert_msg(y != NULL, "%s: %s", name, e.c.msg);
    expect_close(be->name, name, "y", y->data, &f, "y", y->numel);
    backward_with(&e, y, wbt_parity_tensor(&f, "dy", y->numel));
    expect_close(be->name, name, "dx", x->grad, &f, "dx", x->numel);
    expect_close(be->name, name, "dw", w->grad, &f, "dw", w->numel);
    if (bias) expect_close(be->name, name, "db", b->grad, &f, "db", b->numel);
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

static wb_tensor *matmul_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    const int *trans = user;
    return wb_op_matmul(ctx, in[0], in[1], trans[0], trans[1]);
}
static wb_tensor *linear_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    return wb_op_linear(ctx, in[0], in[1], user ? in[2] : NULL);
}

START_TEST(matmul_gradients) {
    const int64_t m = 3, k = 5, n = 4;
    for (int ta = 0; ta < 2; ta++) {
        for (int tb = 0; tb < 2; tb++) {
            int trans[2] = {ta, tb};
            opcheck_input in[2] = {
                {2, {ta ? k : m, ta ? m : k}, NULL, -1.0f, 1.0f, true},
                {2, {tb ? n : k, tb ? k : n}, NULL, -1.0f, 1.0f, true},
            };
            char op[32];
            snprintf(op, sizeof op, "matmul t%d%d", ta, tb);
            for (int be = 0; be < 2; be++)
                opcheck_gradients(op, matmul_fn, trans, in, 2, (opcheck_opts){.backend = backend_at(be), .seed = 4});
        }
    }
}
END_TEST

START_TEST(linear_gradients) {
    opcheck_input in[3] = {
        {2, {5, 7}, NULL, -1.0f, 1.0f, true},
        {2, {3, 7}, NULL, -1.0f, 1.0f, true},
        {1, {3}, NULL, -1.0f, 1.0f, true},
    };
    int with_bias = 1;
    for (int be = 0; be < 2; be++) {
        opcheck_gradients("linear", linear_fn, &with_bias, in, 3, (opcheck_opts){.backend = backend_at(be), .seed = 6});
        opcheck_gradients("linear no bias", linear_fn, NULL, in, 2,
                          (opcheck_opts){.backend = backend_at(be), .seed = 6});
    }
}
END_TEST

/* oneDNN sgemm and the OpenMP bias kernels vs the double-accumulating
 * reference, on odd shapes large enough to be blocked and threaded. K = 301
 * float32 products of values in [-1, 1]: sums ~ sqrt(301)/3 ~ 6, float32
 * rounding over 301 terms stays below 1e-4 absolute. */
START_TEST(linear_cpu_matches_ref) {
    const int64_t n = 67, in_f = 301, out_f = 129;
    wbt_env env[2];
    wb_tensor *x[2], *w[2], *b[2], *y[2], *m[2], *a2[2];
    for (int k = 0; k < 2; k++) {
        wbt_env_init(&env[k], backend_at(k), 1);
        uint64_t rng = 77;
        int64_t xs[2] = {n, in_f}, ws[2] = {out_f, in_f}, bs = out_f, as[2] = {in_f, n};
        x[k] = wbt_random(&env[k], 2, xs, -1, 1, &rng);
        w[k] = wbt_random(&env[k], 2, ws, -1, 1, &rng);
        b[k] = wbt_random(&env[k], 1, &bs, -1, 1, &rng);
        a2[k] = wbt_random(&env[k], 2, as, -1, 1, &rng);
        x[k]->requires_grad = w[k]->requires_grad = b[k]->requires_grad = a2[k]->requires_grad = true;
        y[k] = wb_op_linear(env[k].ctx, x[k], w[k], b[k]);
        /* a2^T [n, in_f] x w^T [in_f, out_f]: both operands transposed. */
        m[k] = wb_op_matmul(env[k].ctx, a2[k], w[k], 1, 1);
        ck_assert_msg(y[k] && m[k], "%s", env[k].c.msg);
        float *g = wb_grad_begin(&env[k].c, y[k]);
        for (int64_t i = 0; i < y[k]->numel; i++) g[i] = wb_rng_uniform(&rng) - 0.5f;
        wb_grad_end(&env[k].c, y[k], g);
        g = wb_grad_begin(&env[k].c, m[k]);
        for (int64_t i = 0; i < m[k]->numel; i++) g[i] = wb_rng_uniform(&rng) - 0.5f;
        wb_grad_end(&env[k].c, m[k], g);
        ck_assert_int_eq(wb_tape_backward(&env[k].c), WB_OK);
    }
    struct { const char *what; const float *cpu, *ref; int64_t n; } cmp[] = {
        {"linear y", y[1]->data, y[0]->data, y[0]->numel},
        {"linear dx", x[1]->grad, x[0]->grad, x[0]->numel},
        {"linear+matmul dw", w[1]->grad, w[0]->grad, w[0]->numel},
        {"linear db", b[1]->grad, b[0]->grad, b[0]->numel},
        {"matmul t11 y", m[1]->data, m[0]->data, m[0]->numel},
        {"matmul t11 da", a2[1]->grad, a2[0]->grad, a2[0]->numel},
    };
    for (size_t i = 0; i < sizeof cmp / sizeof *cmp; i++) {
        fprintf(stderr, "  cpu vs ref %-20s max |diff| %.3g\n", cmp[i].what,
                wbt_max_abs_diff(cmp[i].cpu, cmp[i].ref, cmp[i].n));
        wbt_assert_close(cmp[i].what, cmp[i].cpu, cmp[i].ref, cmp[i].n, 1e-4, 1e-5);
    }
    for (int k = 0; k < 2; k++) wbt_env_free(&env[k]);
}
END_TEST


START_TEST(linear_rejects_bad_shapes) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 1;
    int64_t s23[2] = {2, 3}, s43[2] = {4, 3}, s34[2] = {3, 4}, s3 = 3, s233[3] = {2, 3, 3};
    wbt_expect_error(&e, wb_op_matmul(e.ctx, wbt_random(&e, 2, s23, -1, 1, &rng), wbt_random(&e, 2, s43, -1, 1, &rng), 0, 0),
                 "matmul: inner dimensions differ: a [2, 3] has 3 columns, b [4, 3] has 4 rows");
    wbt_expect_error(&e, wb_op_matmul(e.ctx, wbt_random(&e, 2, s23, -1, 1, &rng), wbt_random(&e, 2, s34, -1, 1, &rng), 1, 0),
                 "matmul: inner dimensions differ: a [2, 3] transposed has 2 columns");
    wbt_expect_error(&e, wb_op_matmul(e.ctx, wbt_random(&e, 3, s233, -1, 1, &rng), wbt_random(&e, 2, s34, -1, 1, &rng), 0, 0),
                 "matmul: a [2, 3, 3] and b [3, 4] must both be 2-D");
    wbt_expect_error(&e, wb_op_linear(e.ctx, wbt_random(&e, 2, s23, -1, 1, &rng), wbt_random(&e, 2, s34, -1, 1, &rng), NULL),
                 "linear: input [2, 3] must be [N, in_features] and weight [3, 4] [out_features, in_features]");
    wbt_expect_error(&e, wb_op_linear(e.ctx, wbt_random(&e, 2, s23, -1, 1, &rng), wbt_random(&e, 2, s43, -1, 1, &rng),
                                  wbt_random(&e, 1, &s3, -1, 1, &rng)),
                 "linear: bias [3] must be [4]");
    wbt_expect_error(&e, wb_op_linear(e.ctx, NULL, NULL, NULL), "linear: input 0 is NULL");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("linear");
    TCase *t = tcase_create("matmul_linear");
    tcase_add_loop_test(t, matmul_matches_torch, 0, 8);
    tcase_add_loop_test(t, linear_matches_torch, 0, 4);
    tcase_add_test(t, matmul_gradients);
    tcase_add_test(t, linear_gradients);
    tcase_add_test(t, linear_cpu_matches_ref);
    tcase_add_test(t, linear_rejects_bad_shapes);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
