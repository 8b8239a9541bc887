/* batch_norm: torch parity in training (running stats included), eval and
 * frozen mode on both backends, finite-difference gradients of every mode,
 * cpu vs reference on larger shapes, and shape errors. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backends/families.h"
#include "ops/ops.h"
#include "opcheck.h"

/* Values are O(1) and channel sums run over <= 84 elements in float32 (torch)
 * vs double (ours): differences are a few float32 ulps, so 1e-5 absolute plus
 * 1e-4 relative is tight yet leaves margin for summation order. */
#define BN_ATOL 1e-5
#define BN_RTOL 1e-4

static const wb_backend *backend_at(int i) { return i == 0 ? wb_backend_ref() : wb_backend_cpu(); }


static void expect_close(const char *backend, const char *case_name, const char *what, const float *got,
                         const wb_st_file *f, const char *name, int64_t n) {
    char label[160];
    snprintf(label, sizeof label, "%s/%s %s", backend, case_name, what);
    const float *want = wbt_parity_tensor(f, name, n);
    fprintf(stderr, "  %-40s max |diff| %.3g\n", label, wbt_max_abs_diff(got, want, n));
    wbt_assert_close(label, got, want, n, BN_ATOL, BN_RTOL);
}

static void seed_output_grad(wbt_env *e, wb_tensor *y, const float *dy) {
    float *g = wb_grad_begin(&e->c, y);
    memcpy(g, dy, (size_t)y->numel * sizeof(float));
    wb_grad_end(&e->c, y, g);
}

static const char *const BN_CASES[] = {
    "dense_bn_train_nchw", "dense_bn_train_nc", "dense_bn_train_plain", "dense_bn_eval_nchw", "dense_bn_eval_nc",
};
#define N_BN_CASES ((int)(sizeof BN_CASES / sizeof *BN_CASES))

/* Loop index: case i / 2 on backend i % 2 (ref, cpu). */
START_TEST(bn_matches_torch) {
    const char *name = BN_CASES[_i / 2];
    const wb_backend *be = backend_at(_i % 2);
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    int training = (int)wbt_parity_attr(&f, "training"), affine = (int)wbt_parity_attr(&f, "affine");
    wb_tensor *x = wbt_parity_input(&e, &f, "x", true);
    wb_tensor *g = affine ? wbt_parity_input(&e, &f, "gamma", true) : NULL;
    wb_tensor *b = affine ? wbt_parity_input(&e, &f, "beta", true) : NULL;
    wb_tensor *rm = wbt_parity_input(&e, &f, "running_mean", false), *rv = wbt_parity_input(&e, &f, "running_var", false);

    wb_tensor *y = wb_op_batch_norm(e.ctx, x, g, b, rm, rv, training, (float)wbt_parity_attr(&f, "momentum"),
                                    (float)wbt_parity_attr(&f, "eps"));
    ck_assert_msg(y != NULL, "%s: batch_norm failed: %s", name, e.c.msg);
    expect_close(be->name, name, "y", y->data, &f, "y", y->numel);
    expect_close(be->name, name, "running_mean", rm->data, &f, "running_mean_after", rm->numel);
    expect_close(be->name, name, "running_var", rv->data, &f, "running_var_after", rv->numel);

    seed_output_grad(&e, y, wbt_parity_tensor(&f, "dy", y->numel));
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    expect_close(be->name, name, "dx", x->grad, &f, "dx", x->numel);
    if (affine) {
        expect_close(be->name, name, "dgamma", g->grad, &f, "dgamma", g->numel);
        expect_close(be->name, name, "dbeta", b->grad, &f, "dbeta", b->numel);
    }
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

/* Frozen BN = eval mode with non-trainable gamma/beta: x's gradient is the
 * eval gradient and the frozen parameters get none. */
START_TEST(bn_frozen_matches_torch) {
    const char *name = "dense_bn_eval_nchw";
    const wb_backend *be = backend_at(_i);
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    wb_tensor *x = wbt_parity_input(&e, &f, "x", true);
    wb_tensor *g = wbt_parity_input(&e, &f, "gamma", false), *b = wbt_parity_input(&e, &f, "beta", false);
    wb_tensor *rm = wbt_parity_input(&e, &f, "running_mean", false), *rv = wbt_parity_input(&e, &f, "running_var", false);
    wb_tensor *y = wb_op_batch_norm(e.ctx, x, g, b, rm, rv, 0, 0.1f, (float)wbt_parity_attr(&f, "eps"));
    ck_assert_msg(y != NULL, "frozen batch_norm failed: %s", e.c.msg);
    expect_close(be->name, "frozen", "y", y->data, &f, "y", y->numel);
    seed_output_grad(&e, y, wbt_parity_tensor(&f, "dy", y->numel));
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    expect_close(be->name, "frozen", "dx", x->grad, &f, "dx", x->numel);
    ck_assert_msg(!g->grad_valid && !b->grad_valid, "frozen gamma/beta received a gradient");
    /* Eval mode never touches the running statistics. */
    expect_close(be->name, "frozen", "running_mean", rm->data, &f, "running_mean", rm->numel);

    /* Nothing to differentiate: no tape node at all. */
    wbt_env_reset(&e);
    x = wbt_parity_input(&e, &f, "x", false);
    g = wbt_parity_input(&e, &f, "gamma", false);
    b = wbt_parity_input(&e, &f, "beta", false);
    rm = wbt_parity_input(&e, &f, "running_mean", false);
    rv = wbt_parity_input(&e, &f, "running_var", false);
    ck_assert_ptr_nonnull(wb_op_batch_norm(e.ctx, x, g, b, rm, rv, 0, 0.1f, 1e-5f));
    ck_assert_int_eq(e.c.tape.count, 0);
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

typedef struct bn_mode {
    int training, affine;
} bn_mode;

/* inputs: x, gamma, beta, running_mean, running_var */
static wb_tensor *bn_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    const bn_mode *m = user;
    return wb_op_batch_norm(ctx, in[0], m->affine ? in[1] : NULL, m->affine ? in[2] : NULL, in[3], in[4],
                            m->training, 0.1f, 1e-5f);
}

static void check_bn_gradients(const char *op, int64_t n, int64_t c, int64_t h, int64_t w, bn_mode mode,
                               bool param_grads) {
    int nd = h ? 4 : 2;
    opcheck_input in[5] = {
        {nd, {n, c, h, w}, NULL, -2.0f, 2.0f, true},
        {1, {c}, NULL, 0.5f, 1.5f, param_grads},
        {1, {c}, NULL, -1.0f, 1.0f, param_grads},
        {1, {c}, NULL, -0.2f, 0.2f, false},
        {1, {c}, NULL, 0.5f, 1.5f, false},
    };
    for (int be = 0; be < 2; be++)
        opcheck_gradients(op, bn_fn, &mode, in, 5, (opcheck_opts){.backend = backend_at(be), .seed = 3});
}

START_TEST(bn_gradients_train_nchw) { check_bn_gradients("bn train nchw", 3, 3, 3, 5, (bn_mode){1, 1}, true); }
END_TEST
START_TEST(bn_gradients_train_nc) { check_bn_gradients("bn train nc", 5, 3, 0, 0, (bn_mode){1, 1}, true); }
END_TEST
START_TEST(bn_gradients_train_no_affine) { check_bn_gradients("bn train plain", 2, 3, 3, 1, (bn_mode){1, 0}, false); }
END_TEST
START_TEST(bn_gradients_eval) { check_bn_gradients("bn eval", 2, 3, 3, 5, (bn_mode){0, 1}, true); }
END_TEST
START_TEST(bn_gradients_frozen) { check_bn_gradients("bn frozen", 2, 3, 5, 3, (bn_mode){0, 1}, false); }
END_TEST

/* The OpenMP kernels (parallel above 16k elements) against the reference on
 * shapes large enough to run multi-threaded. */
static void cpu_vs_ref(int nd, const int64_t *shape, int training) {
    wbt_env env[2];
    wb_tensor *x[2], *g[2], *b[2], *rm[2], *rv[2], *y[2];
    int64_t c = shape[1];
    for (int k = 0; k < 2; k++) {
        wbt_env_init(&env[k], backend_at(k), 1);
        uint64_t rng = 42;
        x[k] = wbt_random(&env[k], nd, shape, -3.0f, 5.0f, &rng);
        g[k] = wbt_random(&env[k], 1, &c, 0.5f, 1.5f, &rng);
        b[k] = wbt_random(&env[k], 1, &c, -1.0f, 1.0f, &rng);
        rm[k] = wbt_random(&env[k], 1, &c, -0.5f, 0.5f, &rng);
        rv[k] = wbt_random(&env[k], 1, &c, 0.5f, 2.0f, &rng);
        x[k]->requires_grad = g[k]->requires_grad = b[k]->requires_grad = true;
        y[k] = wb_op_batch_norm(env[k].ctx, x[k], g[k], b[k], rm[k], rv[k], training, 0.1f, 1e-5f);
        ck_assert_msg(y[k] != NULL, "%s", env[k].c.msg);
        float *dy = wb_grad_begin(&env[k].c, y[k]);
        for (int64_t i = 0; i < y[k]->numel; i++) dy[i] = wb_rng_uniform(&rng) - 0.5f;
        wb_grad_end(&env[k].c, y[k], dy);
        ck_assert_int_eq(wb_tape_backward(&env[k].c), WB_OK);
    }
    int64_t n = x[0]->numel;
    fprintf(stderr, "  bn cpu vs ref (training %d, %lld values): y %.3g dx %.3g dgamma %.3g\n", training,
            (long long)n, wbt_max_abs_diff(y[1]->data, y[0]->data, n), wbt_max_abs_diff(x[1]->grad, x[0]->grad, n),
            wbt_max_abs_diff(g[1]->grad, g[0]->grad, c));
    /* Same double-accumulated statistics; the CPU kernel folds the affine
     * map into one scale and shift per channel, a few ulps apart. dgamma sums
     * ~1e4..1e5 terms of size ~1: 1e-4 relative. */
    wbt_assert_close("bn cpu y", y[1]->data, y[0]->data, n, 1e-5, 1e-5);
    wbt_assert_close("bn cpu running_mean", rm[1]->data, rm[0]->data, c, 1e-6, 1e-6);
    wbt_assert_close("bn cpu running_var", rv[1]->data, rv[0]->data, c, 1e-6, 1e-6);
    wbt_assert_close("bn cpu dx", x[1]->grad, x[0]->grad, n, 1e-5, 1e-4);
    wbt_assert_close("bn cpu dgamma", g[1]->grad, g[0]->grad, c, 1e-3, 1e-4);
    wbt_assert_close("bn cpu dbeta", b[1]->grad, b[0]->grad, c, 1e-3, 1e-4);
    for (int k = 0; k < 2; k++) wbt_env_free(&env[k]);
}

START_TEST(bn_cpu_matches_ref) {
    int64_t nchw[4] = {4, 32, 17, 19}, nc[2] = {64, 300};
    cpu_vs_ref(4, nchw, 1);
    cpu_vs_ref(4, nchw, 0);
    cpu_vs_ref(2, nc, 1);
}
END_TEST


START_TEST(bn_rejects_bad_shapes) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 1;
    int64_t xs[4] = {2, 4, 3, 3}, c4 = 4, c5 = 5, x3[3] = {2, 4, 3}, one[2] = {1, 4};
    wb_tensor *x = wbt_random(&e, 4, xs, -1, 1, &rng);
    wb_tensor *g5 = wbt_random(&e, 1, &c5, 0, 1, &rng), *v = wbt_random(&e, 1, &c4, 0.5f, 1, &rng);
    wbt_expect_error(&e, wb_op_batch_norm(e.ctx, x, g5, NULL, NULL, NULL, 1, 0.1f, 1e-5f),
                 "batch_norm: weight (gamma) has shape [5] but the input has 4 channels");

    x = wbt_random(&e, 4, xs, -1, 1, &rng);
    v = wbt_random(&e, 1, &c4, 0.5f, 1, &rng);
    wbt_expect_error(&e, wb_op_batch_norm(e.ctx, x, NULL, NULL, NULL, v, 1, 0.1f, 1e-5f),
                 "running_mean and running_var must be given together");

    x = wbt_random(&e, 4, xs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_batch_norm(e.ctx, x, NULL, NULL, NULL, NULL, 0, 0.1f, 1e-5f),
                 "eval mode normalizes with the running statistics");

    x = wbt_random(&e, 3, x3, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_batch_norm(e.ctx, x, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f),
                 "batch_norm: input [2, 4, 3] must be [N, C] or [N, C, H, W]");

    x = wbt_random(&e, 2, one, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_batch_norm(e.ctx, x, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f),
                 "training needs more than one value per channel");

    x = wbt_random(&e, 4, xs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_batch_norm(e.ctx, x, NULL, NULL, NULL, NULL, 1, 0.1f, -1.0f),
                 "eps must be a finite value >= 0");
    wbt_expect_error(&e, wb_op_batch_norm(e.ctx, NULL, NULL, NULL, NULL, NULL, 1, 0.1f, 1e-5f),
                 "batch_norm: input 0 is NULL");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("norm");
    TCase *t = tcase_create("batch_norm");
    tcase_add_loop_test(t, bn_matches_torch, 0, 2 * N_BN_CASES);
    tcase_add_loop_test(t, bn_frozen_matches_torch, 0, 2);
    tcase_add_test(t, bn_gradients_train_nchw);
    tcase_add_test(t, bn_gradients_train_nc);
    tcase_add_test(t, bn_gradients_train_no_affine);
    tcase_add_test(t, bn_gradients_eval);
    tcase_add_test(t, bn_gradients_frozen);
    tcase_add_test(t, bn_cpu_matches_ref);
    tcase_add_test(t, bn_rejects_bad_shapes);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
