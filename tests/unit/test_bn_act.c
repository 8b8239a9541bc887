/* batch_norm_act: act(batch_norm(x)) as one op. In training with batch
 * statistics the CPU backend runs one fused kernel each way (its own
 * vectorised exp, the normalised value recomputed from x); its output,
 * running statistics and gradients must be batch_norm followed by the
 * activation op's, and finite differences must agree. Elsewhere (the
 * reference backend, eval mode) it is the two ops. */
#include <stdio.h>
#include <string.h>

#include <workbench/ops.h>

#include "backends/families.h"
#include "ops/ops.h"
#include "opcheck.h"

typedef struct run {
    wbt_env e;
    wb_tensor *x, *gamma, *beta, *rmean, *rvar, *y;
} run;

/* One training step of act(batch_norm(x)) on the CPU, fused or as the two
 * ops, with the same seeded inputs and output gradient. */
static void run_step(run *r, const int64_t shape[4], int act, bool fused) {
    wbt_env_init(&r->e, wb_backend_cpu(), 1);
    uint64_t rng = 7;
    int64_t ch[1] = {shape[1]};
    r->x = wbt_random(&r->e, 4, shape, -3.0f, 3.0f, &rng);
    r->gamma = wbt_random(&r->e, 1, ch, 0.5f, 1.5f, &rng);
    r->beta = wbt_random(&r->e, 1, ch, -1.0f, 1.0f, &rng);
    r->rmean = wbt_random(&r->e, 1, ch, -0.1f, 0.1f, &rng);
    r->rvar = wbt_random(&r->e, 1, ch, 0.9f, 1.1f, &rng);
    r->x->requires_grad = r->gamma->requires_grad = r->beta->requires_grad = true;
    wb_ctx *ctx = r->e.ctx;
    if (fused) {
        r->y = wb_op_batch_norm_act(ctx, r->x, r->gamma, r->beta, r->rmean, r->rvar, 1, 0.03f, 1e-3f, act);
        ck_assert_msg(r->y != NULL, "%s", r->e.c.msg);
        ck_assert_str_eq(r->e.c.tape.last->op, "batch_norm_act"); /* the fused kernel ran */
    } else {
        wb_tensor *z = wb_op_batch_norm(ctx, r->x, r->gamma, r->beta, r->rmean, r->rvar, 1, 0.03f, 1e-3f);
        r->y = act == WB_ACTIVATION_SILU ? wb_op_silu(ctx, z) : wb_op_relu(ctx, z);
        ck_assert_msg(r->y != NULL, "%s", r->e.c.msg);
    }
    float *g = wb_grad_begin(&r->e.c, r->y);
    for (int64_t i = 0; i < r->y->numel; i++) g[i] = wb_rng_uniform(&rng) - 0.5f;
    wb_grad_end(&r->e.c, r->y, g);
    ck_assert_int_eq(wb_tape_backward(&r->e.c), WB_OK);
}

/* Loop index: shape i / 2 (one thread, then above the parallel threshold) with SiLU or ReLU. */
START_TEST(fused_equals_batch_norm_then_act) {
    static const int64_t shapes[2][4] = {{2, 5, 9, 11}, {4, 16, 24, 24}};
    int act = _i % 2 ? WB_ACTIVATION_RELU : WB_ACTIVATION_SILU;
    run f, u;
    run_step(&f, shapes[_i / 2], act, true);
    run_step(&u, shapes[_i / 2], act, false);
    int64_t n = f.y->numel, c = shapes[_i / 2][1];
    fprintf(stderr, "%s, x [%lld, %lld, %lld, %lld]:\n", act == WB_ACTIVATION_SILU ? "silu" : "relu",
            (long long)shapes[_i / 2][0], (long long)c, (long long)shapes[_i / 2][2], (long long)shapes[_i / 2][3]);
    /* Both share the statistics code: the running statistics agree bit for bit. */
    ck_assert(memcmp(f.rmean->data, u.rmean->data, (size_t)c * sizeof(float)) == 0);
    ck_assert(memcmp(f.rvar->data, u.rvar->data, (size_t)c * sizeof(float)) == 0);
    /* Our exp polynomial against oneDNN's swish: a few float32 ulps; the
     * gradients sum ~1e4 of them per channel. */
    wbt_report_close("y", f.y->data, u.y->data, n, 1e-6, 1e-5);
    wbt_report_close("dx", f.x->grad, u.x->grad, n, 1e-6, 1e-4);
    wbt_report_close("dgamma", f.gamma->grad, u.gamma->grad, c, 1e-5, 1e-4);
    wbt_report_close("dbeta", f.beta->grad, u.beta->grad, c, 1e-5, 1e-4);
    wbt_env_free(&f.e);
    wbt_env_free(&u.e);
}
END_TEST

static int g_act;

static wb_tensor *bn_act_op(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    (void)user;
    return wb_op_batch_norm_act(ctx, in[0], in[1], in[2], NULL, NULL, 1, 0.1f, 1e-5f, g_act);
}

/* Loop index: SiLU or ReLU on the CPU (fused) or the reference (the two ops). */
START_TEST(bn_act_gradients) {
    g_act = _i % 2 ? WB_ACTIVATION_RELU : WB_ACTIVATION_SILU;
    opcheck_input in[3] = {
        {4, {2, 3, 4, 5}, NULL, -2.0f, 2.0f, true},
        {1, {3}, NULL, 0.5f, 1.5f, true},
        {1, {3}, NULL, -0.5f, 0.5f, true},
    };
    opcheck_gradients(g_act == WB_ACTIVATION_SILU ? "batch_norm_act silu" : "batch_norm_act relu", bn_act_op, NULL,
                      in, 3, (opcheck_opts){.backend = _i / 2 ? wb_backend_ref() : wb_backend_cpu(), .seed = 6});
}
END_TEST

START_TEST(bn_act_rejects_unknown_activation) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 1;
    int64_t xs[4] = {2, 3, 4, 4};
    wbt_expect_error(&e, wb_op_batch_norm_act(e.ctx, wbt_random(&e, 4, xs, -1, 1, &rng), NULL, NULL, NULL, NULL, 1,
                                              0.1f, 1e-5f, -1),
                     "batch_norm_act: unknown activation -1 (WB_ACTIVATION_NONE, _RELU or _SILU");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("bn_act");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, fused_equals_batch_norm_then_act, 0, 4);
    tcase_add_loop_test(tc, bn_act_gradients, 0, 4);
    tcase_add_test(tc, bn_act_rejects_unknown_activation);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
