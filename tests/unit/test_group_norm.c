/* group_norm: torch parity (groups 32, 4, 1 and one per channel, affine or
 * not, [N, C], [N, C, L] and [N, C, H, W]) on both backends,
 * finite-difference gradients, the optimized kernel against the reference
 * on a detection-head-sized input, and the refusals. */
#include <stdio.h>
#include <string.h>

#include "backends/families.h"
#include "ops/ops.h"
#include "opcheck.h"

/* As batch norm: statistics over <= 128 values per group in float32
 * (torch) vs double (ours), a few float32 ulps apart. */
#define GN_ATOL 1e-5
#define GN_RTOL 1e-4

static const wb_backend *backend_at(int i) { return i == 0 ? wb_backend_ref() : wb_backend_cpu(); }

static void expect_close(const char *backend, const char *case_name, const char *what, const float *got,
                         const wb_st_file *f, const char *name, int64_t n) {
    char label[160];
    snprintf(label, sizeof label, "%s/%s %s", backend, case_name, what);
    const float *want = wbt_parity_tensor(f, name, n);
    fprintf(stderr, "  %-44s max |diff| %.3g\n", label, wbt_max_abs_diff(got, want, n));
    wbt_assert_close(label, got, want, n, GN_ATOL, GN_RTOL);
}

static const char *const GN_CASES[] = {
    "group_norm_g32", "group_norm_g4_plain", "group_norm_g1", "group_norm_per_channel", "group_norm_nc",
    "group_norm_3d",
};
#define N_GN_CASES ((int)(sizeof GN_CASES / sizeof *GN_CASES))

/* Loop index: case i / 2 on backend i % 2 (ref, cpu). */
START_TEST(group_norm_matches_torch) {
    const char *name = GN_CASES[_i / 2];
    const wb_backend *be = backend_at(_i % 2);
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    const float *p = wbt_parity_tensor(&f, "params", 3);
    int groups = (int)p[0], affine = (int)p[1];
    wb_tensor *x = wbt_parity_input(&e, &f, "x", true);
    wb_tensor *g = affine ? wbt_parity_input(&e, &f, "gamma", true) : NULL;
    wb_tensor *b = affine ? wbt_parity_input(&e, &f, "beta", true) : NULL;
    wb_tensor *y = wb_op_group_norm(e.ctx, x, g, b, groups, p[2]);
    ck_assert_msg(y != NULL, "%s: group_norm failed: %s", name, e.c.msg);
    expect_close(be->name, name, "y", y->data, &f, "y", y->numel);
    float *dy = wb_grad_begin(&e.c, y);
    memcpy(dy, wbt_parity_tensor(&f, "dy", y->numel), (size_t)y->numel * sizeof(float));
    wb_grad_end(&e.c, y, dy);
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

typedef struct gn_cfg {
    int groups, affine;
} gn_cfg;

/* inputs: x, gamma, beta */
static wb_tensor *gn_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    const gn_cfg *g = user;
    return wb_op_group_norm(ctx, in[0], g->affine ? in[1] : NULL, g->affine ? in[2] : NULL, g->groups, 1e-5f);
}

static void check_gn_gradients(const char *op, int64_t n, int64_t c, int64_t h, int64_t w, gn_cfg cfg) {
    opcheck_input in[3] = {
        {4, {n, c, h, w}, NULL, -2.0f, 2.0f, true},
        {1, {c}, NULL, 0.5f, 1.5f, cfg.affine != 0},
        {1, {c}, NULL, -1.0f, 1.0f, cfg.affine != 0},
    };
    for (int be = 0; be < 2; be++)
        opcheck_gradients(op, gn_fn, &cfg, in, 3, (opcheck_opts){.backend = backend_at(be), .seed = 11});
}

START_TEST(group_norm_gradients) {
    check_gn_gradients("group_norm g2 affine", 2, 4, 3, 5, (gn_cfg){2, 1});
    check_gn_gradients("group_norm g3 plain", 2, 6, 2, 3, (gn_cfg){3, 0});
    check_gn_gradients("group_norm per channel", 3, 3, 2, 2, (gn_cfg){3, 1});
}
END_TEST

/* An FCOS tower's shape (256 channels, 32 groups) on a 32x40 map: above the
 * 2^19 elements from which the OpenMP kernel splits the work. */
START_TEST(group_norm_cpu_matches_ref) {
    wbt_env env[2];
    wb_tensor *x[2], *g[2], *b[2], *y[2];
    int64_t shape[4] = {2, 256, 32, 40}, c = 256;
    for (int k = 0; k < 2; k++) {
        wbt_env_init(&env[k], backend_at(k), 1);
        uint64_t rng = 42;
        x[k] = wbt_random(&env[k], 4, shape, -3.0f, 5.0f, &rng);
        g[k] = wbt_random(&env[k], 1, &c, 0.5f, 1.5f, &rng);
        b[k] = wbt_random(&env[k], 1, &c, -1.0f, 1.0f, &rng);
        x[k]->requires_grad = g[k]->requires_grad = b[k]->requires_grad = true;
        y[k] = wb_op_group_norm(env[k].ctx, x[k], g[k], b[k], 32, 1e-5f);
        ck_assert_msg(y[k] != NULL, "%s", env[k].c.msg);
        float *dy = wb_grad_begin(&env[k].c, y[k]);
        for (int64_t i = 0; i < y[k]->numel; i++) dy[i] = wb_rng_uniform(&rng) - 0.5f;
        wb_grad_end(&env[k].c, y[k], dy);
        ck_assert_int_eq(wb_tape_backward(&env[k].c), WB_OK);
    }
    int64_t n = x[0]->numel;
    fprintf(stderr, "  group_norm cpu vs ref: y %.3g dx %.3g dgamma %.3g dbeta %.3g\n",
            wbt_max_abs_diff(y[1]->data, y[0]->data, n), wbt_max_abs_diff(x[1]->grad, x[0]->grad, n),
            wbt_max_abs_diff(g[1]->grad, g[0]->grad, c), wbt_max_abs_diff(b[1]->grad, b[0]->grad, c));
    /* Both accumulate in double; they differ only in how the affine map is folded. */
    wbt_assert_close("gn cpu y", y[1]->data, y[0]->data, n, 1e-5, 1e-5);
    wbt_assert_close("gn cpu dx", x[1]->grad, x[0]->grad, n, 1e-5, 1e-4);
    wbt_assert_close("gn cpu dgamma", g[1]->grad, g[0]->grad, c, 1e-4, 1e-4);
    wbt_assert_close("gn cpu dbeta", b[1]->grad, b[0]->grad, c, 1e-4, 1e-4);
    for (int k = 0; k < 2; k++) wbt_env_free(&env[k]);
}
END_TEST

START_TEST(group_norm_refuses_bad_arguments) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 1;
    int64_t xs[4] = {2, 6, 3, 3}, c4 = 4, x1[1] = {6};
    wb_tensor *x = wbt_random(&e, 4, xs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_group_norm(e.ctx, x, NULL, NULL, 4, 1e-5f),
                     "group_norm: 6 channels of input [2, 6, 3, 3] do not split into 4 groups");
    x = wbt_random(&e, 4, xs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_group_norm(e.ctx, x, NULL, NULL, 0, 1e-5f), "do not split into 0 groups");
    x = wbt_random(&e, 4, xs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_group_norm(e.ctx, x, wbt_random(&e, 1, &c4, 0, 1, &rng), NULL, 3, 1e-5f),
                     "group_norm: weight (gamma) has shape [4] but the input has 6 channels");
    x = wbt_random(&e, 4, xs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_group_norm(e.ctx, x, NULL, NULL, 3, -1.0f), "eps must be a finite value >= 0");
    wbt_expect_error(&e, wb_op_group_norm(e.ctx, wbt_random(&e, 1, x1, 0, 1, &rng), NULL, NULL, 3, 1e-5f),
                     "group_norm: input [6] must be [N, C, ...]");
    wbt_expect_error(&e, wb_op_group_norm(e.ctx, NULL, NULL, NULL, 1, 1e-5f), "group_norm: input 0 is NULL");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("group_norm");
    TCase *t = tcase_create("group_norm");
    tcase_add_loop_test(t, group_norm_matches_torch, 0, 2 * N_GN_CASES);
    tcase_add_test(t, group_norm_gradients);
    tcase_add_test(t, group_norm_cpu_matches_ref);
    tcase_add_test(t, group_norm_refuses_bad_arguments);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
