/* max_pool2d, avg_pool2d and global_avg_pool: torch parity (forward and
 * gradient, ceil_mode and count_include_pad variants) on both backends,
 * finite-difference gradients, cpu vs reference, and parameter errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <workbench/ops.h>

#include "backends/families.h"
#include "ops/ops.h"
#include "opcheck.h"

/* Max pool copies values exactly; averages sum <= 9 float32 values, so a
 * few ulps of O(1) values separate us from torch: 1e-6 absolute, 1e-5 relative. */
#define POOL_ATOL 1e-6
#define POOL_RTOL 1e-5

static const wb_backend *backend_at(int i) { return i == 0 ? wb_backend_ref() : wb_backend_cpu(); }

static const char *const POOL_CASES[] = {
    "dense_max_k3s2p1",       "dense_max_k3s2p1_ceil",       "dense_max_k2s2_ceil",
    "dense_max_rect_ceil",    "dense_avg_k3s2p1_incl",       "dense_avg_k3s2p1_excl_ceil",
    "dense_avg_k3s2p1_incl_ceil", "dense_avg_rect_excl",     "dense_global_avg_pool",
};
#define N_POOL_CASES ((int)(sizeof POOL_CASES / sizeof *POOL_CASES))

/* kh, kw, sh, sw, ph, pw, ceil_mode, count_include_pad */
static wb_pool2d_params params_of(const wb_st_file *f) {
    const float *v = wbt_parity_tensor(f, "params", 8);
    return (wb_pool2d_params){sizeof(wb_pool2d_params), (int)v[0], (int)v[1], (int)v[2], (int)v[3],
                              (int)v[4], (int)v[5], (int)v[6], (int)v[7]};
}

/* Loop index: case i / 2 on backend i % 2 (ref, cpu). */
START_TEST(pool_matches_torch) {
    const char *name = POOL_CASES[_i / 2];
    const wb_backend *be = backend_at(_i % 2);
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    const wb_st_tensor *xt = wb_st_find(&f, "x");
    ck_assert_ptr_nonnull(xt);
    wb_tensor *x = wbt_from(&e, xt->ndim, xt->shape, xt->data);
    x->requires_grad = true;
    wb_tensor *y;
    if (strstr(name, "global")) {
        y = wb_op_global_avg_pool(e.ctx, x);
    } else {
        wb_pool2d_params p = params_of(&f);
        y = strstr(name, "max") ? wb_op_max_pool2d(e.ctx, x, &p) : wb_op_avg_pool2d(e.ctx, x, &p);
    }
    ck_assert_msg(y != NULL, "%s: %s", name, e.c.msg);
    const wb_st_tensor *yt = wb_st_find(&f, "y");
    ck_assert_msg(yt->ndim == 4 && memcmp(yt->shape, y->shape, sizeof(int64_t) * 4) == 0,
                  "%s: output shape [%lld, %lld, %lld, %lld], torch has [%lld, %lld, %lld, %lld]", name,
                  (long long)y->shape[0], (long long)y->shape[1], (long long)y->shape[2], (long long)y->shape[3],
                  (long long)yt->shape[0], (long long)yt->shape[1], (long long)yt->shape[2], (long long)yt->shape[3]);
    char label[160];
    snprintf(label, sizeof label, "%s/%s y", be->name, name);
    wbt_report_close(label, y->data, yt->data, y->numel, POOL_ATOL, POOL_RTOL);

    float *g = wb_grad_begin(&e.c, y);
    memcpy(g, wbt_parity_tensor(&f, "dy", y->numel), (size_t)y->numel * sizeof(float));
    wb_grad_end(&e.c, y, g);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    snprintf(label, sizeof label, "%s/%s dx", be->name, name);
    wbt_report_close(label, x->grad, wbt_parity_tensor(&f, "dx", x->numel), x->numel, POOL_ATOL, POOL_RTOL);
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

static wb_tensor *max_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    return wb_op_max_pool2d(ctx, in[0], user);
}
static wb_tensor *avg_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    return wb_op_avg_pool2d(ctx, in[0], user);
}
static wb_tensor *gap_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    (void)user;
    return wb_op_global_avg_pool(ctx, in[0]);
}

/* Max pool is piecewise linear: values spaced 0.01 apart (a shuffled ramp)
 * keep the +-1e-3 finite-difference steps from swapping any window's maximum. */
static float *distinct_values(int64_t n, uint64_t seed) {
    float *v = malloc((size_t)n * sizeof(float));
    for (int64_t i = 0; i < n; i++) v[i] = 0.01f * (float)(i - n / 2);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(wb_rng_next(&seed) % (uint64_t)(i + 1));
        float t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
    return v;
}

static void check_pool_gradients(const char *op, opcheck_fn fn, wb_pool2d_params p, int64_t n, int64_t c,
                                 int64_t h, int64_t w, bool distinct) {
    int64_t numel = n * c * h * w;
    float *values = distinct ? distinct_values(numel, 5) : NULL;
    opcheck_input in = {4, {n, c, h, w}, values, -1.0f, 1.0f, true};
    for (int be = 0; be < 2; be++)
        opcheck_gradients(op, fn, &p, &in, 1, (opcheck_opts){.backend = backend_at(be), .seed = 9});
    free(values);
}

START_TEST(max_pool_gradients) {
    check_pool_gradients("max k3s2p1 ceil", max_fn, (wb_pool2d_params){sizeof(wb_pool2d_params), 3, 3, 2, 2, 1, 1, 1, 0},
                         2, 2, 7, 9, true);
    check_pool_gradients("max k2s2", max_fn, (wb_pool2d_params){sizeof(wb_pool2d_params), 2, 2, 2, 2, 0, 0, 0, 0},
                         1, 3, 5, 6, true);
    check_pool_gradients("max rect overlap", max_fn,
                         (wb_pool2d_params){sizeof(wb_pool2d_params), 3, 2, 1, 2, 1, 1, 1, 0}, 1, 2, 5, 7, true);
}
END_TEST

START_TEST(avg_pool_gradients) {
    for (int ceil = 0; ceil < 2; ceil++) {
        for (int incl = 0; incl < 2; incl++) {
            char op[64];
            snprintf(op, sizeof op, "avg k3s2p1 ceil %d include_pad %d", ceil, incl);
            check_pool_gradients(op, avg_fn, (wb_pool2d_params){sizeof(wb_pool2d_params), 3, 3, 2, 2, 1, 1, ceil, incl},
                                 2, 2, 6, 9, false);
        }
    }
    check_pool_gradients("global avg", gap_fn, (wb_pool2d_params){0}, 2, 3, 5, 3, false);
}
END_TEST

/* OpenMP kernels (parallel above 16k elements) against the reference. */
START_TEST(pool_cpu_matches_ref) {
    const int64_t shape[4] = {2, 16, 33, 47};
    /* 0: max pool; 1, 2: avg pools; 3: global average. */
    const wb_pool2d_params params[3] = {
        {sizeof(wb_pool2d_params), 3, 3, 2, 2, 1, 1, 1, 0},
        {sizeof(wb_pool2d_params), 3, 3, 2, 2, 1, 1, 1, 0},
        {sizeof(wb_pool2d_params), 5, 4, 3, 2, 2, 1, 1, 1},
    };
    for (int k = 0; k < 4; k++) {
        wbt_env env[2];
        wb_tensor *x[2], *y[2];
        for (int b = 0; b < 2; b++) {
            wbt_env_init(&env[b], backend_at(b), 1);
            uint64_t rng = 11;
            x[b] = wbt_random(&env[b], 4, shape, -2.0f, 2.0f, &rng);
            x[b]->requires_grad = true;
            y[b] = k == 0   ? wb_op_max_pool2d(env[b].ctx, x[b], &params[0])
                   : k == 3 ? wb_op_global_avg_pool(env[b].ctx, x[b])
                            : wb_op_avg_pool2d(env[b].ctx, x[b], &params[k]);
            ck_assert_msg(y[b] != NULL, "%s", env[b].c.msg);
            float *g = wb_grad_begin(&env[b].c, y[b]);
            for (int64_t i = 0; i < y[b]->numel; i++) g[i] = wb_rng_uniform(&rng) - 0.5f;
            wb_grad_end(&env[b].c, y[b], g);
            ck_assert_int_eq(wb_tape_backward(&env[b].c), WB_OK);
        }
        char label[64];
        snprintf(label, sizeof label, "pool %d cpu vs ref y", k);
        fprintf(stderr, "  %-44s max |diff| %.3g\n", label, wbt_max_abs_diff(y[1]->data, y[0]->data, y[0]->numel));
        wbt_assert_close(label, y[1]->data, y[0]->data, y[0]->numel, POOL_ATOL, POOL_RTOL);
        snprintf(label, sizeof label, "pool %d cpu vs ref dx", k);
        fprintf(stderr, "  %-44s max |diff| %.3g\n", label, wbt_max_abs_diff(x[1]->grad, x[0]->grad, x[0]->numel));
        wbt_assert_close(label, x[1]->grad, x[0]->grad, x[0]->numel, POOL_ATOL, POOL_RTOL);
        for (int b = 0; b < 2; b++) wbt_env_free(&env[b]);
    }
}
END_TEST


START_TEST(pool_rejects_bad_params) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 1;
    int64_t xs[4] = {1, 2, 4, 4}, x3[3] = {2, 4, 4};
    wb_pool2d_params big_pad = wb_pool_p(3, 2, 2), zero_stride = wb_pool_p(3, 0, 1), huge = wb_pool_p(7, 1, 1);
    wbt_expect_error(&e, wb_op_max_pool2d(e.ctx, wbt_random(&e, 4, xs, -1, 1, &rng), &big_pad),
                 "max_pool2d: pad 2x2 must be at most half the kernel 3x3");
    wbt_expect_error(&e, wb_op_avg_pool2d(e.ctx, wbt_random(&e, 4, xs, -1, 1, &rng), &zero_stride),
                 "avg_pool2d: invalid params kernel 3x3, stride 0x0");
    wbt_expect_error(&e, wb_op_max_pool2d(e.ctx, wbt_random(&e, 4, xs, -1, 1, &rng), &huge),
                 "max_pool2d: input [1, 2, 4, 4] is smaller than the kernel 7x7");
    wbt_expect_error(&e, wb_op_max_pool2d(e.ctx, wbt_random(&e, 3, x3, -1, 1, &rng), &big_pad),
                 "max_pool2d: input [2, 4, 4] must be 4-D");
    wbt_expect_error(&e, wb_op_avg_pool2d(e.ctx, wbt_random(&e, 4, xs, -1, 1, &rng), NULL), "avg_pool2d: params is NULL");
    wbt_expect_error(&e, wb_op_global_avg_pool(e.ctx, wbt_random(&e, 3, x3, -1, 1, &rng)),
                 "global_avg_pool: input [2, 4, 4] must be 4-D");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("pool");
    TCase *t = tcase_create("pool");
    tcase_add_loop_test(t, pool_matches_torch, 0, 2 * N_POOL_CASES);
    tcase_add_test(t, max_pool_gradients);
    tcase_add_test(t, avg_pool_gradients);
    tcase_add_test(t, pool_cpu_matches_ref);
    tcase_add_test(t, pool_rejects_bad_params);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
