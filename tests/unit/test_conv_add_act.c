/* conv2d_add_act (SDK ABI 1.6): act(conv2d(x, w, b) + residual) equals the
 * three ops (conv2d, add, the activation) in values on the CPU at inference,
 * where the direct kernels add the residual and apply the activation inside
 * the convolution (blocked and plain, 1x1 and 3x3) and the others decline to
 * the ops (Winograd, a residual in another layout), and on the reference
 * backend; its gradients are the three ops' (finite differences, CPU and
 * reference); a residual of another shape is refused. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <workbench/ops.h>

#include "backends/families.h"
#include "backends/kernels_conv.h"
#include "ops/ops.h"
#include "opcheck.h"
#include "wbt_module.h"
#include "wbtest.h"

typedef struct add_case {
    const char *name;
    int64_t n, c_in, c_out, hw, k;
    int act;                 /* WB_ACTIVATION_* */
    bool blocked_in;         /* x and residual come out of inference convs (blocked on the CPU) */
    bool plain_residual;     /* the residual is made plain first: another layout than y */
} add_case;

static const add_case cases[] = {
    {"1x1 + relu, blocked", 2, 32, 64, 12, 1, WB_ACTIVATION_RELU, true, false},
    {"3x3 + silu, blocked", 2, 16, 32, 9, 3, WB_ACTIVATION_SILU, true, false},
    {"1x1, no act, blocked", 1, 32, 32, 7, 1, WB_ACTIVATION_NONE, true, false},
    {"3x3 winograd + relu (declines)", 1, 16, 16, 40, 3, WB_ACTIVATION_RELU, true, false},
    {"1x1 + relu, plain residual (declines)", 2, 32, 32, 8, 1, WB_ACTIVATION_RELU, true, true},
    {"3x3 + relu, plain input", 1, 3, 32, 10, 3, WB_ACTIVATION_RELU, false, false},
};

/* One case on env e: x and the residual as a network makes them, then the
 * fused op (fused) or the three ops. */
static wb_tensor *run_case(wbt_env *e, const add_case *k, bool fused) {
    uint64_t rng = 5;
    wb_conv2d_params same = wb_conv_p(1, (int)(k->k / 2), 1, 1), one = wb_conv_p(1, 0, 1, 1);
    int64_t in_shape[4] = {k->n, k->c_in, k->hw, k->hw}, wx_shape[4] = {k->c_in, k->c_in, 1, 1};
    int64_t wr_shape[4] = {k->c_out, k->c_in, 1, 1}, w_shape[4] = {k->c_out, k->c_in, k->k, k->k};
    wb_tensor *x = wbt_random(e, 4, in_shape, -1.0f, 1.0f, &rng);
    wb_tensor *wx = wbt_random(e, 4, wx_shape, -0.5f, 0.5f, &rng), *wr = wbt_random(e, 4, wr_shape, -0.5f, 0.5f, &rng);
    wb_tensor *w = wbt_random(e, 4, w_shape, -0.3f, 0.3f, &rng), *b = wbt_random(e, 1, &k->c_out, -0.2f, 0.2f, &rng);
    if (k->blocked_in) x = wb_op_conv2d(e->ctx, x, wx, NULL, &one); /* as the previous layer leaves it */
    wb_tensor *residual = wb_op_conv2d(e->ctx, x, wr, NULL, &one);
    if (k->plain_residual) ck_assert(wb_ctx_make_plain(&e->c, residual));
    if (fused) return wb_op_conv2d_add_act(e->ctx, x, w, b, &same, residual, k->act);
    wb_tensor *sum = wb_op_add(e->ctx, wb_op_conv2d(e->ctx, x, w, b, &same), residual);
    return k->act == WB_ACTIVATION_NONE ? sum : k->act == WB_ACTIVATION_RELU ? wb_op_relu(e->ctx, sum)
                                                                            : wb_op_silu(e->ctx, sum);
}

START_TEST(inference_equals_the_three_ops) {
    const add_case *k = &cases[_i];
    wbt_env cpu, ref;
    wbt_env_init(&cpu, wb_backend_cpu(), 1);
    wbt_env_init(&ref, wb_backend_ref(), 1);
    cpu.c.grad_enabled = ref.c.grad_enabled = false;
    wb_tensor *want = run_case(&ref, k, false), *ref_fused = run_case(&ref, k, true);
    wb_tensor *got = run_case(&cpu, k, true);
    ck_assert_msg(want && ref_fused && got, "%s: %s %s", k->name, ref.c.msg, cpu.c.msg);
    char what[96];
    snprintf(what, sizeof what, "%s (cpu)", k->name);
    wbt_assert_rel_close(what, wbt_plain(got), want->data, want->numel, 1e-5);
    snprintf(what, sizeof what, "%s (ref)", k->name);
    wbt_assert_rel_close(what, ref_fused->data, want->data, want->numel, 1e-6);
    wbt_env_free(&cpu);
    wbt_env_free(&ref);
}
END_TEST

/* Which shapes the CPU kernel adds inside: the direct ones with the
 * residual in y's layout; Winograd and a residual in another layout decline. */
START_TEST(cpu_kernel_adds_inside_direct_convolutions) {
    const wb_conv_kernels *k = wb_cpu_conv_kernels();
    wb_conv_shape s = {.n = 1, .c_in = 16, .h_in = 40, .w_in = 40, .c_out = 16, .h_out = 40, .w_out = 40, .k_h = 1,
                       .k_w = 1, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1, .inference = 1};
    int64_t n = 16 * 40 * 40;
    float *x = calloc((size_t)n, sizeof *x), *r = calloc((size_t)n, sizeof *r), *y = calloc((size_t)n, sizeof *y);
    float *w = calloc(16 * 16 * 9, sizeof *w);
    bool y_blocked = false;
    ck_assert_int_eq(k->forward_blocked(&s, x, true, w, NULL, r, true, WB_ACT_RELU, y, &y_blocked), WB_OK);
    ck_assert(y_blocked);
    ck_assert_int_eq(k->forward_blocked(&s, x, true, w, NULL, r, false, WB_ACT_RELU, y, &y_blocked),
                     WB_ERR_UNSUPPORTED);
    s.k_h = s.k_w = 3, s.pad_h = s.pad_w = 1; /* 40 x 40 outputs: Winograd */
    ck_assert_int_eq(k->forward_blocked(&s, x, true, w, NULL, r, true, WB_ACT_RELU, y, &y_blocked),
                     WB_ERR_UNSUPPORTED);
    free(x), free(r), free(y), free(w);
}
END_TEST

static wb_tensor *fused_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    int act = *(const int *)user;
    wb_conv2d_params p = wb_conv_p(1, 1, 1, 1);
    return wb_op_conv2d_add_act(ctx, in[0], in[1], in[2], &p, in[3], act);
}

START_TEST(gradients_are_the_three_ops) {
    static const int acts[] = {WB_ACTIVATION_RELU, WB_ACTIVATION_SILU};
    for (int backend = 0; backend < 2; backend++)
        for (int a = 0; a < 2; a++) {
            opcheck_input in[4] = {
                {.ndim = 4, .shape = {2, 4, 5, 6}, .lo = -1, .hi = 1, .grad = true},
                {.ndim = 4, .shape = {8, 4, 3, 3}, .lo = -1, .hi = 1, .grad = true},
                {.ndim = 1, .shape = {8}, .lo = -1, .hi = 1, .grad = true},
                {.ndim = 4, .shape = {2, 8, 5, 6}, .lo = -1, .hi = 1, .grad = true},
            };
            opcheck_gradients("conv2d_add_act", fused_fn, (void *)&acts[a], in, 4,
                              (opcheck_opts){.backend = backend ? wb_backend_cpu() : wb_backend_ref(), .seed = 3});
        }
}
END_TEST

START_TEST(residual_of_another_shape_is_refused) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_cpu(), 1);
    e.c.grad_enabled = false;
    uint64_t rng = 1;
    int64_t xs[4] = {1, 16, 8, 8}, ws[4] = {16, 16, 1, 1}, rs[4] = {1, 16, 1, 8};
    wb_conv2d_params p = wb_conv_p(1, 0, 1, 1);
    wb_tensor *x = wbt_random(&e, 4, xs, -1, 1, &rng), *w = wbt_random(&e, 4, ws, -1, 1, &rng);
    wb_tensor *r = wbt_random(&e, 4, rs, -1, 1, &rng);
    ck_assert_ptr_null(wb_op_conv2d_add_act(e.ctx, x, w, NULL, &p, r, WB_ACTIVATION_RELU));
    ck_assert_int_eq(e.c.err, WB_ERR_INVALID);
    ck_assert_msg(strstr(e.c.msg, "conv2d_add_act: residual [1, 16, 1, 8] must have the conv output's shape "
                                  "[1, 16, 8, 8]"), "%s", e.c.msg);
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("conv_add_act");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, inference_equals_the_three_ops, 0, (int)(sizeof cases / sizeof *cases));
    tcase_add_test(tc, cpu_kernel_adds_inside_direct_convolutions);
    tcase_add_test(tc, gradients_are_the_three_ops);
    tcase_add_test(tc, residual_of_another_shape_is_refused);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
