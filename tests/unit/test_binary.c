/* Broadcast add and mul, scale, and a module-like chain through the tape:
 * torch parity (forward and gradients, both backends), finite differences
 * on every broadcast pattern, and the OpenMP kernels against the reference. */
#include <math.h>
#include "pointwise_testing.h"
#include "ops/ops.h"

static wb_tensor *run_add(wb_ctx *ctx, wb_tensor *const *in, void *u) { (void)u; return wb_op_add(ctx, in[0], in[1]); }
static wb_tensor *run_mul(wb_ctx *ctx, wb_tensor *const *in, void *u) { (void)u; return wb_op_mul(ctx, in[0], in[1]); }
static wb_tensor *run_scale(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    (void)u;
    return wb_op_scale(ctx, in[0], -0.75f);
}
static wb_tensor *run_mul_self(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    (void)u;
    return wb_op_mul(ctx, in[0], in[0]);
}
/* sum(sigmoid(x * w + x + b)): x reaches the result through two consumers. */
static wb_tensor *run_chain(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    (void)u;
    wb_tensor *v = wb_op_add(ctx, wb_op_add(ctx, wb_op_mul(ctx, in[0], in[1]), in[0]), in[2]);
    return wb_op_sum(ctx, wb_op_sigmoid(ctx, v), -1, 0);
}

/* Broadcast patterns, as in gen_pointwise.py's BROADCAST_SHAPES. */
typedef struct bcase {
    const char *tag;
    int na, nb;
    int64_t sa[4], sb[4];
} bcase;

static const bcase CASES[] = {
    {"same", 3, 3, {3, 5, 7}, {3, 5, 7}},
    {"bias", 4, 3, {2, 3, 4, 5}, {3, 1, 1}},
    {"rank", 1, 3, {5}, {2, 3, 5}},
    {"both", 4, 4, {2, 1, 4, 1}, {1, 3, 1, 5}},
    {"scalar", 1, 2, {1}, {3, 7}},
    {"odd", 3, 3, {3, 1, 7}, {3, 5, 1}},
};
#define N_CASES (int)(sizeof CASES / sizeof CASES[0])

static const char *const AB[] = {"a", "b"};
static const char *const X[] = {"x"};
static const char *const XWB[] = {"x", "w", "b"};

/* add and mul of floats are exact in both torch and here; the gradients of
 * broadcast operands are sums of at most 24 terms, whose float rounding in
 * a different order stays below 1e-6 relative. */
START_TEST(add_mul_parity_with_torch) {
    const wb_backend *bes[2] = {wb_backend_ref(), wb_backend_cpu()};
    char name[64];
    for (int b = 0; b < 2; b++) {
        snprintf(name, sizeof name, "pw_add_%s", CASES[_i].tag);
        pw_parity(name, bes[b], run_add, NULL, AB, 2, 1e-6, 1e-6);
        snprintf(name, sizeof name, "pw_mul_%s", CASES[_i].tag);
        pw_parity(name, bes[b], run_mul, NULL, AB, 2, 1e-6, 1e-6);
    }
}
END_TEST

START_TEST(scale_self_mul_and_chain_parity_with_torch) {
    const wb_backend *bes[2] = {wb_backend_ref(), wb_backend_cpu()};
    for (int b = 0; b < 2; b++) {
        pw_parity("pw_scale", bes[b], run_scale, NULL, X, 1, 1e-7, 1e-6);
        /* x * x: both operands are one tensor, its gradient must be 2 x dy. */
        pw_parity("pw_mul_self", bes[b], run_mul_self, NULL, X, 1, 1e-6, 1e-6);
        /* Sigmoid's exp differs from torch's by a few ulp, summed over 24. */
        pw_parity("pw_chain", bes[b], run_chain, NULL, XWB, 3, 1e-5, 1e-5);
    }
}
END_TEST

START_TEST(gradients_by_finite_differences) {
    const bcase *c = &CASES[_i];
    opcheck_input in[2] = {
        {.ndim = c->na, .lo = -2, .hi = 2, .grad = true},
        {.ndim = c->nb, .lo = -2, .hi = 2, .grad = true},
    };
    memcpy(in[0].shape, c->sa, sizeof c->sa);
    memcpy(in[1].shape, c->sb, sizeof c->sb);
    opcheck_gradients("add", run_add, NULL, in, 2, (opcheck_opts){.seed = 1});
    opcheck_gradients("mul", run_mul, NULL, in, 2, (opcheck_opts){.seed = 2});
    opcheck_gradients("mul cpu", run_mul, NULL, in, 2, (opcheck_opts){.seed = 3, .backend = wb_backend_cpu()});
}
END_TEST

START_TEST(chain_gradients_by_finite_differences) {
    opcheck_input in[3] = {
        {.ndim = 3, .shape = {2, 3, 4}, .lo = -2, .hi = 2, .grad = true},
        {.ndim = 2, .shape = {3, 1}, .lo = -2, .hi = 2, .grad = true},
        {.ndim = 1, .shape = {4}, .lo = -2, .hi = 2, .grad = true},
    };
    opcheck_gradients("chain", run_chain, NULL, in, 3, (opcheck_opts){.seed = 5});
    opcheck_input one = {.ndim = 2, .shape = {3, 5}, .lo = -2, .hi = 2, .grad = true};
    opcheck_gradients("mul self", run_mul_self, NULL, &one, 1, (opcheck_opts){.seed = 6});
    opcheck_gradients("scale", run_scale, NULL, &one, 1, (opcheck_opts){.seed = 7});
}
END_TEST

/* A tensor that does not require a gradient gets none, and the other
 * operand still does. */
START_TEST(only_requested_gradients_are_written) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 1;
    int64_t sa[2] = {3, 4}, sb[1] = {4};
    wb_tensor *a = wbt_random(&e, 2, sa, -1, 1, &rng), *b = wbt_random(&e, 1, sb, -1, 1, &rng);
    b->requires_grad = true;
    wb_tensor *y = wb_op_sum(e.ctx, wb_op_mul(e.ctx, a, b), -1, 0);
    ck_assert_ptr_nonnull(y);
    float *g = wb_grad_begin(&e.c, y);
    g[0] = 1.0f;
    wb_grad_end(&e.c, y, g);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    ck_assert(!a->grad_valid);
    ck_assert(b->grad_valid);
    for (int k = 0; k < 4; k++) {
        double expect = 0.0;
        for (int r = 0; r < 3; r++) expect += a->data[r * 4 + k];
        ck_assert_msg(fabs(b->grad[k] - expect) <= 1e-6, "db[%d] = %g, expected %g", k, b->grad[k], expect);
    }
    wbt_env_free(&e);
}
END_TEST

/* Large broadcast patterns of a detector (bias, per-channel scale, spatial
 * mask). The reference sums broadcast gradients in float in output order,
 * the CPU kernel in double: over up to 8*56*56 = 25088 terms of values in
 * [-1, 1] the float sum can drift by ~1e-4 relative, hence rtol 1e-4 and
 * atol 1e-3 (sums cancel toward 0, where only the absolute bound helps). */
START_TEST(cpu_matches_reference_on_large_input) {
    struct {
        const char *what;
        int nb;
        int64_t sb[4];
    } pats[] = {
        {"[8,64,56,56] op [8,64,56,56]", 4, {8, 64, 56, 56}},
        {"[8,64,56,56] op [64,1,1]", 3, {64, 1, 1}},
        {"[8,64,56,56] op [8,64,1,1]", 4, {8, 64, 1, 1}},
        {"[8,64,56,56] op [1,1,56,56]", 4, {1, 1, 56, 56}},
    };
    for (int p = 0; p < 4; p++) {
        opcheck_input in[2] = {
            {.ndim = 4, .shape = {8, 64, 56, 56}, .lo = -1, .hi = 1, .grad = true},
            {.ndim = pats[p].nb, .lo = -1, .hi = 1, .grad = true},
        };
        memcpy(in[1].shape, pats[p].sb, sizeof pats[p].sb);
        char what[96];
        snprintf(what, sizeof what, "add %s", pats[p].what);
        pw_cpu_vs_ref(what, run_add, NULL, in, 2, 1e-3, 1e-4);
        snprintf(what, sizeof what, "mul %s", pats[p].what);
        pw_cpu_vs_ref(what, run_mul, NULL, in, 2, 1e-3, 1e-4);
    }
}
END_TEST

START_TEST(shapes_that_do_not_broadcast_are_errors) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    int64_t sa[3] = {2, 3, 4}, sb[2] = {5, 4};
    wb_tensor *a = wb_ctx_tensor_zeros(&e.c, 3, sa), *b = wb_ctx_tensor_zeros(&e.c, 2, sb);
    ck_assert_ptr_null(wb_op_add(e.ctx, a, b));
    pw_assert_error(&e, "add: shapes [2, 3, 4] and [5, 4] do not broadcast", "3 vs 5");
    a = wb_ctx_tensor_zeros(&e.c, 3, sa);
    ck_assert_ptr_null(wb_op_mul(e.ctx, a, NULL));
    pw_assert_error(&e, "mul", "input 1 is NULL");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("binary");
    TCase *tc = tcase_create("binary");
    tcase_add_loop_test(tc, add_mul_parity_with_torch, 0, N_CASES);
    tcase_add_test(tc, scale_self_mul_and_chain_parity_with_torch);
    tcase_add_loop_test(tc, gradients_by_finite_differences, 0, N_CASES);
    tcase_add_test(tc, chain_gradients_by_finite_differences);
    tcase_add_test(tc, only_requested_gradients_are_written);
    tcase_add_test(tc, cpu_matches_reference_on_large_input);
    tcase_add_test(tc, shapes_that_do_not_broadcast_are_errors);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
