/* conv2d_act: act(conv2d(x, w, b)) as one op. At inference the CPU backend
 * applies ReLU and SiLU inside the direct convolutions (an eltwise post-op),
 * ReLU inside Winograd too, and in place after the others; both must give what conv2d followed by the
 * activation op gives, on the CPU and on the reference backend (which has no
 * fused kernel). In training it is the two ops on the tape: the same
 * gradients, and finite differences agree. */
#include <stdio.h>
#include <stdlib.h>

#include <workbench/ops.h>

#include "backends/families.h"
#include "backends/kernels_conv.h"
#include "ops/ops.h"
#include "opcheck.h"

typedef struct conv_case {
    const char *name;
    int64_t x[4], w[4];
    int stride, pad;
} conv_case;

/* What the CPU runs: a direct JIT conv (fused), a plain 1x1 GEMM (declined:
 * the activation runs in place after) and a Winograd 3x3 (fuses a ReLU
 * only). */
static const conv_case CASES[] = {
    {"3x3/2 direct", {2, 16, 34, 30}, {32, 16, 3, 3}, 2, 1},
    {"1x1 gemm", {2, 24, 20, 18}, {16, 24, 1, 1}, 1, 0},
    {"3x3/1 winograd", {1, 16, 36, 36}, {16, 16, 3, 3}, 1, 1},
};
#define N_CASES ((int)(sizeof CASES / sizeof *CASES))

static wb_tensor *unfused(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p,
                          int act) {
    wb_tensor *y = wb_op_conv2d(ctx, x, w, b, p);
    if (act == WB_ACTIVATION_RELU) return wb_op_relu(ctx, y);
    return act == WB_ACTIVATION_SILU ? wb_op_silu(ctx, y) : y;
}

/* Loop index: case i / 3 with activation i % 3 (none, relu, silu). */
START_TEST(conv_act_inference_equals_conv_then_act) {
    const conv_case *k = &CASES[_i / 3];
    int act = _i % 3;
    wb_conv2d_params p = wb_conv_p(k->stride, k->pad, 1, 1);
    int64_t bshape[1] = {k->w[0]};
    for (int be = 0; be < 2; be++) {
        wbt_env e;
        wbt_env_init(&e, be ? wb_backend_cpu() : wb_backend_ref(), 1);
        uint64_t rng = 3;
        wb_tensor *x = wbt_random(&e, 4, k->x, -2.0f, 2.0f, &rng), *w = wbt_random(&e, 4, k->w, -0.3f, 0.3f, &rng);
        wb_tensor *b = wbt_random(&e, 1, bshape, -1.0f, 1.0f, &rng);
        wb_tensor *fused = wb_op_conv2d_act(e.ctx, x, w, b, &p, act);
        ck_assert_msg(fused != NULL, "%s", e.c.msg);
        ck_assert_int_eq(e.c.tape.count, 0); /* nothing requires a gradient: the fused path */
        wb_tensor *want = unfused(e.ctx, x, w, b, &p, act);
        ck_assert_msg(want != NULL, "%s", e.c.msg);
        char label[96];
        snprintf(label, sizeof label, "%s act %d on %s", k->name, act, be ? "cpu" : "ref");
        fprintf(stderr, "  %-40s max |diff| %.3g\n", label, wbt_max_abs_diff(fused->data, want->data, want->numel));
        /* oneDNN's swish post-op and its eltwise primitive round differently by a few ulps */
        wbt_assert_close(label, fused->data, want->data, want->numel, 1e-6, 1e-5);
        wbt_env_free(&e);
    }
}
END_TEST

/* The CPU kernel fuses both activations into the direct convolution, a ReLU
 * into Winograd, and declines the rest. */
START_TEST(cpu_fuses_where_onednn_has_the_post_op) {
    const wb_conv_kernels *k = wb_cpu_conv_kernels();
    for (int i = 0; i < N_CASES; i++) {
        const conv_case *c = &CASES[i];
        wb_conv_shape s = {.n = c->x[0], .c_in = c->x[1], .h_in = c->x[2], .w_in = c->x[3], .c_out = c->w[0],
                           .k_h = c->w[2], .k_w = c->w[3], .stride_h = c->stride, .stride_w = c->stride,
                           .pad_h = c->pad, .pad_w = c->pad, .dil_h = 1, .dil_w = 1, .groups = 1, .inference = 1};
        s.h_out = (s.h_in + 2 * s.pad_h - s.k_h) / s.stride_h + 1;
        s.w_out = (s.w_in + 2 * s.pad_w - s.k_w) / s.stride_w + 1;
        float *x = calloc((size_t)(s.n * s.c_in * s.h_in * s.w_in), sizeof(float));
        float *w = calloc((size_t)(s.c_out * s.c_in * s.k_h * s.k_w), sizeof(float));
        float *y = calloc((size_t)(s.n * s.c_out * s.h_out * s.w_out), sizeof(float));
        wb_status st = k->forward_act(&s, x, w, NULL, WB_ACT_SILU, y);
        ck_assert_msg(st == (i == 0 ? WB_OK : WB_ERR_UNSUPPORTED), "%s: silu: forward_act returned %d", c->name, st);
        st = k->forward_act(&s, x, w, NULL, WB_ACT_RELU, y);
        ck_assert_msg(st == (i != 1 ? WB_OK : WB_ERR_UNSUPPORTED), "%s: relu: forward_act returned %d", c->name, st);
        ck_assert_int_eq(k->forward_act(&s, x, w, NULL, WB_ACT_HARDSWISH, y), WB_ERR_UNSUPPORTED);
        free(x), free(w), free(y);
    }
}
END_TEST

static int g_act;

static wb_tensor *conv_act_op(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    const conv_case *k = user;
    wb_conv2d_params p = wb_conv_p(k->stride, k->pad, 1, 1);
    return wb_op_conv2d_act(ctx, in[0], in[1], in[2], &p, g_act);
}

/* Training records conv2d and the activation: gradients by finite differences, on both backends. */
START_TEST(conv_act_gradients) {
    static const conv_case small = {"3x3/2", {2, 3, 7, 6}, {4, 3, 3, 3}, 2, 1};
    g_act = _i % 2 ? WB_ACTIVATION_SILU : WB_ACTIVATION_RELU;
    opcheck_input in[3] = {
        {4, {2, 3, 7, 6}, NULL, -1.0f, 1.0f, true},
        {4, {4, 3, 3, 3}, NULL, -0.5f, 0.5f, true},
        {1, {4}, NULL, -0.5f, 0.5f, true},
    };
    opcheck_gradients(g_act == WB_ACTIVATION_SILU ? "conv2d_act silu" : "conv2d_act relu", conv_act_op,
                      (void *)&small, in, 3,
                      (opcheck_opts){.backend = _i / 2 ? wb_backend_cpu() : wb_backend_ref(), .seed = 4});
}
END_TEST

START_TEST(conv_act_rejects_unknown_activation) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 1;
    int64_t xs[4] = {1, 2, 5, 5}, ws[4] = {3, 2, 3, 3};
    wb_conv2d_params p = wb_conv_p(1, 1, 1, 1);
    wbt_expect_error(&e, wb_op_conv2d_act(e.ctx, wbt_random(&e, 4, xs, -1, 1, &rng), wbt_random(&e, 4, ws, -1, 1, &rng),
                                          NULL, &p, 7),
                     "conv2d_act: unknown activation 7 (WB_ACTIVATION_NONE, _RELU or _SILU");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("conv_act");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, conv_act_inference_equals_conv_then_act, 0, 3 * N_CASES);
    tcase_add_test(tc, cpu_fuses_where_onednn_has_the_post_op);
    tcase_add_loop_test(tc, conv_act_gradients, 0, 4);
    tcase_add_test(tc, conv_act_rejects_unknown_activation);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
