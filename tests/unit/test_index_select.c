/* index_select: torch parity with repeated indices (their gradients add
 * up) on the first, a middle and the last axis and with an empty index, on
 * both backends; finite differences; the optimized kernels against the
 * reference; out-of-range and non-integral indices refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/families.h"
#include "ops/ops.h"
#include "opcheck.h"

static const wb_backend *backend_at(int i) { return i == 0 ? wb_backend_ref() : wb_backend_cpu(); }

/* Bit-for-bit equality, naming the first element that differs. */
static void assert_identical(const char *what, const float *got, const float *want, int64_t n) {
    int64_t i = 0;
    while (i < n && memcmp(&got[i], &want[i], sizeof *got) == 0) i++;
    ck_assert_msg(i == n, "%s: element %lld is %.9g, expected %.9g", what, (long long)i, (double)got[i],
                  (double)want[i]);
}

static const char *const CASES[] = {
    "index_select_rows_repeated", "index_select_middle_axis", "index_select_last_axis", "index_select_empty",
};
#define N_CASES ((int)(sizeof CASES / sizeof *CASES))

/* Copies and sums of at most 3 terms: exact up to the order of addition. */
START_TEST(index_select_matches_torch) {
    const char *name = CASES[_i / 2];
    const wb_backend *be = backend_at(_i % 2);
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    wb_tensor *x = wbt_parity_input(&e, &f, "x", true), *index = wbt_parity_input(&e, &f, "index", false);
    int axis = (int)wbt_parity_tensor(&f, "params", 1)[0];
    wb_tensor *y = wb_op_index_select(e.ctx, x, axis, index);
    ck_assert_msg(y != NULL, "%s: %s", name, e.c.msg);
    const float *want = wbt_parity_tensor(&f, "y", y->numel);
    assert_identical(name, y->data, want, y->numel);
    float *dy = wb_grad_begin(&e.c, y);
    memcpy(dy, wbt_parity_tensor(&f, "dy", y->numel), (size_t)y->numel * sizeof(float));
    wb_grad_end(&e.c, y, dy);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    const float *dx = x->grad_valid ? x->grad : NULL;
    const float *want_dx = wbt_parity_tensor(&f, "dx", x->numel);
    if (y->numel) wbt_assert_close(name, dx, want_dx, x->numel, 1e-6, 1e-6);
    fprintf(stderr, "  %s/%s: y exact, dx max |diff| %.3g\n", be->name, name,
            dx ? wbt_max_abs_diff(dx, want_dx, x->numel) : 0.0);
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

typedef struct sel_cfg {
    int axis;
} sel_cfg;

static const float REPEATED[6] = {2, 0, 2, 2, 1, 0};

/* inputs: x, index */
static wb_tensor *sel_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    return wb_op_index_select(ctx, in[0], ((const sel_cfg *)user)->axis, in[1]);
}

START_TEST(index_select_gradients) {
    for (int axis = 0; axis < 3; axis++) {
        opcheck_input in[2] = {
            {3, {3, 3, 3}, NULL, -2.0f, 2.0f, true},
            {1, {6}, REPEATED, 0, 0, false},
        };
        sel_cfg cfg = {axis};
        for (int be = 0; be < 2; be++)
            opcheck_gradients("index_select", sel_fn, &cfg, in, 2,
                              (opcheck_opts){.backend = backend_at(be), .seed = 2});
    }
}
END_TEST

/* The shapes a RoI head gathers: sampled rows of [K, 1024] features and of
 * [K, 4] deltas, with repeats. */
START_TEST(index_select_cpu_matches_ref) {
    int64_t shapes[2][2] = {{2000, 1024}, {3000, 4}};
    for (int s = 0; s < 2; s++) {
        wbt_env env[2];
        wb_tensor *x[2], *y[2];
        int64_t n_index = 1500;
        float *idx = malloc((size_t)n_index * sizeof *idx);
        uint64_t pick = 5;
        /* Rows from the first half only: many picked several times. */
        for (int64_t j = 0; j < n_index; j++)
            idx[j] = (float)(int64_t)(wb_rng_uniform(&pick) * (float)shapes[s][0] * 0.5f);
        for (int k = 0; k < 2; k++) {
            wbt_env_init(&env[k], backend_at(k), 1);
            uint64_t rng = 42;
            x[k] = wbt_random(&env[k], 2, shapes[s], -1.0f, 1.0f, &rng);
            x[k]->requires_grad = true;
            y[k] = wb_op_index_select(env[k].ctx, x[k], 0, wbt_from(&env[k], 1, &n_index, idx));
            ck_assert_msg(y[k] != NULL, "%s", env[k].c.msg);
            float *dy = wb_grad_begin(&env[k].c, y[k]);
            for (int64_t i = 0; i < y[k]->numel; i++) dy[i] = wb_rng_uniform(&rng) - 0.5f;
            wb_grad_end(&env[k].c, y[k], dy);
            ck_assert_int_eq(wb_tape_backward(&env[k].c), WB_OK);
        }
        /* The same additions in the same order: bit for bit. */
        assert_identical("index_select cpu y", y[1]->data, y[0]->data, y[0]->numel);
        assert_identical("index_select cpu dx", x[1]->grad, x[0]->grad, x[0]->numel);
        for (int k = 0; k < 2; k++) wbt_env_free(&env[k]);
        free(idx);
    }
}
END_TEST

/* x [4, 3] picked along axis with the given index values. */
static wb_tensor *select_from(wbt_env *e, int axis, int64_t n, const float *index) {
    uint64_t rng = 1;
    int64_t xs[2] = {4, 3};
    return wb_op_index_select(e->ctx, wbt_random(e, 2, xs, -1, 1, &rng), axis, wbt_from(e, 1, &n, index));
}

START_TEST(index_select_refuses_bad_indices) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    const float out_of_range[3] = {0, 4, 1}, negative[3] = {0, -1, 1}, fraction[3] = {0, 1.5f, 1};
    wbt_expect_error(&e, select_from(&e, 0, 3, out_of_range),
                     "index_select: index[1] = 4 is not a row of axis 0 of [4, 3]: indices must be integers in [0, 4)");
    wbt_expect_error(&e, select_from(&e, 1, 3, out_of_range),
                     "index_select: index[1] = 4 is not a row of axis 1 of [4, 3]: indices must be integers in [0, 3)");
    wbt_expect_error(&e, select_from(&e, 0, 3, negative), "index[1] = -1 is not a row");
    wbt_expect_error(&e, select_from(&e, 0, 3, fraction), "index[1] = 1.5 is not a row");
    wbt_expect_error(&e, select_from(&e, 2, 3, fraction), "index_select: axis 2 is out of range for a 2-D tensor [4, 3]");
    uint64_t rng = 1;
    int64_t xs[2] = {4, 3}, two[2] = {1, 2};
    wbt_expect_error(&e, wb_op_index_select(e.ctx, wbt_random(&e, 2, xs, -1, 1, &rng), 0, wbt_random(&e, 2, two, 0, 1, &rng)),
                     "index_select: index [1, 2] must be 1-D");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("index_select");
    TCase *t = tcase_create("index_select");
    tcase_add_loop_test(t, index_select_matches_torch, 0, 2 * N_CASES);
    tcase_add_test(t, index_select_gradients);
    tcase_add_test(t, index_select_cpu_matches_ref);
    tcase_add_test(t, index_select_refuses_bad_indices);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
