/* relu, leaky relu, silu, sigmoid, hardswish, hardsigmoid: torch parity of values and
 * gradients (including torch's derivative at the kinks), finite
 * differences, and the OpenMP kernels against the reference. */
#include <math.h>
#include "pointwise_testing.h"
#include "runtime/context.h"
#include "ops/ops.h"

typedef struct act_case {
    const char *name;
    opcheck_fn fn;
} act_case;

static wb_tensor *run_relu(wb_ctx *ctx, wb_tensor *const *in, void *u) { (void)u; return wb_op_relu(ctx, in[0]); }
static wb_tensor *run_leaky(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    (void)u;
    return wb_op_leaky_relu(ctx, in[0], 0.1f);
}
static wb_tensor *run_silu(wb_ctx *ctx, wb_tensor *const *in, void *u) { (void)u; return wb_op_silu(ctx, in[0]); }
static wb_tensor *run_sigmoid(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    (void)u;
    return wb_op_sigmoid(ctx, in[0]);
}
static wb_tensor *run_hardswish(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    (void)u;
    return wb_op_hardswish(ctx, in[0]);
}

static wb_tensor *run_hardsigmoid(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    (void)u;
    return wb_op_hardsigmoid(ctx, in[0]);
}

static const act_case ACTS[] = {
    {"relu", run_relu}, {"leaky_relu", run_leaky}, {"silu", run_silu},
    {"sigmoid", run_sigmoid}, {"hardswish", run_hardswish}, {"hardsigmoid", run_hardsigmoid},
};
#define N_ACTS (int)(sizeof ACTS / sizeof ACTS[0])

static const char *const X[] = {"x"};

/* Torch's own float kernels (Sleef exp) differ from libm expf by a few ulp:
 * 1e-6 absolute plus 1e-5 relative covers that with a margin; the piecewise
 * linear ones are exact in both. */
START_TEST(parity_with_torch) {
    char name[64];
    snprintf(name, sizeof name, "pw_act_%s", ACTS[_i].name);
    pw_parity(name, wb_backend_ref(), ACTS[_i].fn, NULL, X, 1, 1e-6, 1e-5);
    pw_parity(name, wb_backend_cpu(), ACTS[_i].fn, NULL, X, 1, 1e-6, 1e-5);
}
END_TEST

START_TEST(saturating_tails_match_torch) {
    const wb_backend *bes[2] = {wb_backend_ref(), wb_backend_cpu()};
    for (int b = 0; b < 2; b++) {
        pw_parity("pw_act_sigmoid_tails", bes[b], run_sigmoid, NULL, X, 1, 1e-7, 1e-5);
        pw_parity("pw_act_silu_tails", bes[b], run_silu, NULL, X, 1, 1e-7, 1e-5);
    }
}
END_TEST

/* Finite differences on an odd shape. The values keep 0.05 away from the
 * kinks (0 and +-3) so the central difference with step 1e-3 never straddles
 * one; the kinks themselves are checked against torch above. */
START_TEST(gradients_by_finite_differences) {
    float values[3 * 5 * 7];
    uint64_t rng = 7;
    for (int i = 0; i < 3 * 5 * 7; i++) {
        float v = -5.0f + 10.0f * wb_rng_uniform(&rng);
        for (int k = -1; k <= 1; k++)
            if (fabsf(v - 3.0f * (float)k) < 0.05f) v += 0.1f;
        values[i] = v;
    }
    opcheck_input in = {.ndim = 3, .shape = {3, 5, 7}, .values = values, .grad = true};
    opcheck_gradients(ACTS[_i].name, ACTS[_i].fn, NULL, &in, 1, (opcheck_opts){.seed = 3});
    opcheck_gradients(ACTS[_i].name, ACTS[_i].fn, NULL, &in, 1,
                      (opcheck_opts){.seed = 4, .backend = wb_backend_cpu()});
}
END_TEST

/* Same formulas elementwise, so only the exp implementation path (scalar vs
 * vectorized) can differ: 1 ulp-level tolerance. */
START_TEST(cpu_matches_reference_on_large_input) {
    opcheck_input in = {.ndim = 4, .shape = {8, 64, 64, 64}, .lo = -6, .hi = 6, .grad = true};
    char what[64];
    snprintf(what, sizeof what, "%s [8,64,64,64]", ACTS[_i].name);
    pw_cpu_vs_ref(what, ACTS[_i].fn, NULL, &in, 1, 1e-7, 1e-6);
}
END_TEST

START_TEST(null_input_is_an_error) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    ck_assert_ptr_null(wb_op_sigmoid(e.ctx, NULL));
    pw_assert_error(&e, "sigmoid", "NULL");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("activation");
    TCase *tc = tcase_create("activation");
    tcase_add_loop_test(tc, parity_with_torch, 0, N_ACTS);
    tcase_add_test(tc, saturating_tails_match_torch);
    tcase_add_loop_test(tc, gradients_by_finite_differences, 0, N_ACTS);
    tcase_add_loop_test(tc, cpu_matches_reference_on_large_input, 0, N_ACTS);
    tcase_add_test(tc, null_input_is_an_error);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
