/* Runtime pieces: initializers (torch.nn.init semantics), per-module RNG
 * streams that ignore creation order, custom ops with their own backward,
 * and the arena's block merging. */
#include <math.h>
#include <string.h>
#include <workbench/ops.h>
#include "opcheck.h"
#include "runtime/init.h"

/* Mean and standard deviation of n floats. */
static void moments(const float *x, int64_t n, double *mean, double *std, double *absmax) {
    double s = 0, s2 = 0, m = 0;
    for (int64_t i = 0; i < n; i++) {
        s += x[i];
        s2 += (double)x[i] * x[i];
        if (fabs(x[i]) > m) m = fabs(x[i]);
    }
    *mean = s / n;
    *std = sqrt(s2 / n - *mean * *mean);
    *absmax = m;
}

START_TEST(test_initializers_follow_torch_formulas) {
    /* A conv weight [64, 32, 3, 3]: fan_in 288, fan_out 576; 18432 draws, so
     * the sample std is within ~1.5% of the target at 3 sigma. */
    int64_t shape[4] = {64, 32, 3, 3};
    const int64_t n = 64 * 32 * 9;
    static float w[64 * 32 * 9];
    uint64_t rng = 42;
    struct {
        wb_init init;
        double std, bound; /* bound 0: unbounded (normal) */
    } cases[] = {
        {{WB_INIT_KAIMING_UNIFORM, 0, 0, 0, 0, 0, 0}, sqrt(2.0 / 288), sqrt(6.0 / 288)},
        {{WB_INIT_KAIMING_UNIFORM, 0, 0, 0, sqrtf(5.0f), 0, 0}, sqrt(2.0 / 6 / 288), sqrt(1.0 / 288)}, /* torch conv default */
        {{WB_INIT_KAIMING_NORMAL, 0, 0, 0, 0, 0, 1}, sqrt(2.0 / 576), 0},
        {{WB_INIT_XAVIER_UNIFORM, 0, 0, 0, 0, 0, 0}, sqrt(2.0 / (288 + 576)), sqrt(6.0 / (288 + 576))},
        {{WB_INIT_XAVIER_NORMAL, 0, 0, 0, 0, 0, 0}, sqrt(2.0 / (288 + 576)), 0},
        {{WB_INIT_NORMAL, 0, 0.0f, 0.01f, 0, 0, 0}, 0.01, 0},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        ck_assert_int_eq(wb_init_fill(&cases[k].init, 4, shape, &rng, w), WB_OK);
        double mean, std, absmax;
        moments(w, n, &mean, &std, &absmax);
        ck_assert_msg(fabs(std / cases[k].std - 1.0) < 0.015, "case %zu: std %.5f, expected %.5f", k, std, cases[k].std);
        ck_assert_msg(fabs(mean) < 3.0 * cases[k].std / sqrt((double)n), "case %zu: mean %.5f", k, mean);
        if (cases[k].bound > 0)
            ck_assert_msg(absmax <= cases[k].bound && absmax > 0.99 * cases[k].bound, "case %zu: max |w| %.5f, bound %.5f",
                          k, absmax, cases[k].bound);
    }
    wb_init c = {WB_INIT_CONSTANT, 0.25f, 0, 0, 0, 0, 0};
    ck_assert_int_eq(wb_init_fill(&c, 4, shape, &rng, w), WB_OK);
    for (int64_t i = 0; i < n; i++) ck_assert_float_eq(w[i], 0.25f);
    /* Fan-based initializers need two dimensions. */
    wb_init ku = {WB_INIT_KAIMING_UNIFORM, 0, 0, 0, 0, 0, 0};
    ck_assert_int_eq(wb_init_fill(&ku, 1, shape, &rng, w), WB_ERR_INVALID);
}
END_TEST

/* Creates "a.w" and "b.w" in the given order; returns b.w's first value. */
static float param_of_b(bool a_first) {
    wb_session *s = wb_session_create(wb_backend_ref(), 7);
    wb_context a, b;
    wb_context_init(&a, s, "a", true);
    wb_context_init(&b, s, "b", true);
    int64_t shape[2] = {16, 16};
    wb_init init = {WB_INIT_NORMAL, 0, 0, 1, 0, 0, 0};
    wb_context *first = a_first ? &a : &b, *second = a_first ? &b : &a;
    first->pub.host->param_create(&first->pub, "w", 2, shape, &init, 1);
    second->pub.host->param_create(&second->pub, "w", 2, shape, &init, 1);
    float v = wb_session_find(s, "b.w")->tensor->data[5];
    ck_assert_ptr_nonnull(wb_session_find(s, "a.w"));
    wb_session_destroy(s);
    return v;
}

START_TEST(test_module_streams_do_not_depend_on_creation_order) {
    ck_assert_float_eq(param_of_b(true), param_of_b(false));
}
END_TEST

START_TEST(test_duplicate_parameter_names_are_an_error) {
    wb_session *s = wb_session_create(wb_backend_ref(), 0);
    wb_context c;
    wb_context_init(&c, s, "neck", true);
    int64_t shape[1] = {4};
    wb_init init = {WB_INIT_ZEROS, 0, 0, 0, 0, 0, 0};
    ck_assert_ptr_nonnull(c.pub.host->param_create(&c.pub, "w", 1, shape, &init, 1));
    ck_assert_ptr_null(c.pub.host->param_create(&c.pub, "w", 1, shape, &init, 1));
    ck_assert_str_eq(c.msg, "param_create: 'neck.w' is created twice");
    wb_session_destroy(s);
}
END_TEST

/* A custom op y = x^3 whose backward (3 x^2 dy) is hand-written. */
static wb_status cube_backward(wb_ctx *ctx, void *state, wb_tensor *const *in, int n_in, wb_tensor *const *dout,
                               int n_out, wb_tensor **din) {
    (void)state, (void)n_in, (void)n_out;
    wb_tensor_info info = wb_info(ctx, in[0]);
    din[0] = wb_tensor_new(ctx, info.ndim, info.shape);
    const float *x = wb_map(ctx, in[0]), *g = wb_map(ctx, dout[0]);
    float *d = wb_map(ctx, din[0]);
    for (int64_t i = 0; i < info.numel; i++) d[i] = 3.0f * x[i] * x[i] * g[i];
    return wb_ok(ctx);
}

static wb_tensor *cube_then_sigmoid(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    (void)user;
    wb_tensor_info info = wb_info(ctx, in[0]);
    wb_tensor *y = wb_tensor_new(ctx, info.ndim, info.shape);
    const float *x = wb_map(ctx, in[0]);
    float *yy = wb_map(ctx, y);
    for (int64_t i = 0; i < info.numel; i++) yy[i] = x[i] * x[i] * x[i];
    WB_H(ctx)->record_custom(ctx, "cube", in, 1, &y, 1, cube_backward, NULL);
    /* An SDK op after it: both kinds of node replay on one tape. */
    return wb_sigmoid(ctx, y);
}

START_TEST(test_custom_op_backward_joins_the_tape) {
    opcheck_input in = {2, {5, 7}, NULL, -1.0f, 1.0f, true};
    opcheck_gradients("custom cube", cube_then_sigmoid, NULL, &in, 1, (opcheck_opts){0});
}
END_TEST

START_TEST(test_arena_merges_blocks_into_one_of_the_peak_size) {
    wb_arena a;
    wb_arena_init(&a, "t", 1024);
    for (int i = 0; i < 10; i++) ck_assert_ptr_nonnull(wb_arena_alloc(&a, 1000));
    ck_assert_uint_eq(a.system_allocs, 10);
    wb_arena_reset(&a);
    ck_assert_uint_eq(a.system_allocs, 11); /* one merged block */
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 10; i++) {
            void *p = wb_arena_alloc(&a, 1000);
            ck_assert_ptr_nonnull(p);
            ck_assert_uint_eq((uintptr_t)p % 64, 0);
        }
        wb_arena_reset(&a);
    }
    ck_assert_uint_eq(a.system_allocs, 11);
    wb_arena_release(&a);
}
END_TEST

int main(void) {
    Suite *s = suite_create("runtime");
    TCase *tc = tcase_create("runtime");
    tcase_add_test(tc, test_initializers_follow_torch_formulas);
    tcase_add_test(tc, test_module_streams_do_not_depend_on_creation_order);
    tcase_add_test(tc, test_duplicate_parameter_names_are_an_error);
    tcase_add_test(tc, test_custom_op_backward_joins_the_tape);
    tcase_add_test(tc, test_arena_merges_blocks_into_one_of_the_peak_size);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
