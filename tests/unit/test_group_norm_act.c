/* group_norm_act: act(group_norm(x)) as one op (ABI 1.5). With ReLU the CPU
 * backend runs one kernel each way (z = relu(y) in the normalising pass; the
 * backward takes relu's gradient inside group norm's passes, from y); its
 * output and gradients must be group_norm followed by relu's, in training and
 * at inference, it must keep one activation as the two ops do, finite
 * differences and torch (relu(F.group_norm)) must agree. Elsewhere (the
 * reference backend, SiLU) it is the two ops. */
#include <stdio.h>
#include <string.h>

#include <workbench/ops.h>

#include "backends/families.h"
#include "ops/ops.h"
#include "opcheck.h"
#include "runtime/host_tensors.h"

static const wb_backend *backend_at(int i) { return i == 0 ? wb_backend_ref() : wb_backend_cpu(); }

typedef struct run {
    wbt_env e;
    wb_tensor *x, *gamma, *beta, *z;
} run;

/* relu(group_norm(x)) with 32 groups on seeded inputs, fused (the CPU) or
 * as the two ops (the reference); with grad, one backward of a seeded dz. */
static void run_step(run *r, const int64_t shape[4], const wb_backend *be, bool grad) {
    wbt_env_init(&r->e, be, 1);
    uint64_t rng = 7;
    int64_t ch[1] = {shape[1]};
    r->x = wbt_random(&r->e, 4, shape, -3.0f, 5.0f, &rng);
    r->gamma = wbt_random(&r->e, 1, ch, 0.5f, 1.5f, &rng);
    r->beta = wbt_random(&r->e, 1, ch, -1.0f, 1.0f, &rng);
    r->x->requires_grad = r->gamma->requires_grad = r->beta->requires_grad = grad;
    wb_ctx *ctx = r->e.ctx;
    if (be == wb_backend_cpu()) {
        r->z = wb_op_group_norm_act(ctx, r->x, r->gamma, r->beta, 32, 1e-5f, WB_ACTIVATION_RELU);
        ck_assert_msg(r->z != NULL, "%s", r->e.c.msg);
        if (grad) ck_assert_str_eq(r->e.c.tape.last->op, "group_norm_act"); /* the fused kernels ran */
    } else {
        wb_tensor *y = wb_op_group_norm(ctx, r->x, r->gamma, r->beta, 32, 1e-5f);
        r->z = wb_op_relu(ctx, y);
        ck_assert_msg(r->z != NULL, "%s", r->e.c.msg);
    }
    if (!grad) return;
    float *g = wb_grad_begin(&r->e.c, r->z);
    for (int64_t i = 0; i < r->z->numel; i++) g[i] = wb_rng_uniform(&rng) - 0.5f;
    wb_grad_end(&r->e.c, r->z, g);
    ck_assert_int_eq(wb_tape_backward(&r->e.c), WB_OK);
}

/* Loop index: shape i / 2 (one thread; an FCOS tower's 256 channels above the
 * parallel threshold), training (odd) or inference. */
START_TEST(fused_equals_group_norm_then_relu) {
    static const int64_t shapes[2][4] = {{2, 64, 5, 6}, {2, 256, 32, 40}};
    const int64_t *shape = shapes[_i / 2];
    bool grad = _i % 2;
    run f, u;
    run_step(&f, shape, wb_backend_cpu(), grad);
    run_step(&u, shape, wb_backend_ref(), grad);
    int64_t n = f.z->numel, c = shape[1];
    fprintf(stderr, "%s, x [%lld, %lld, %lld, %lld]:\n", grad ? "training" : "inference", (long long)shape[0],
            (long long)c, (long long)shape[2], (long long)shape[3]);
    /* As group_norm's cpu-vs-ref test: both in double, the affine map folded differently. */
    wbt_report_close("z", f.z->data, u.z->data, n, 1e-5, 1e-5);
    if (grad) {
        wbt_report_close("dx", f.x->grad, u.x->grad, n, 1e-5, 1e-4);
        wbt_report_close("dgamma", f.gamma->grad, u.gamma->grad, c, 1e-4, 1e-4);
        wbt_report_close("dbeta", f.beta->grad, u.beta->grad, c, 1e-4, 1e-4);
    }
    wbt_env_free(&f.e);
    wbt_env_free(&u.e);
}
END_TEST

/* Like the two ops, the node keeps one activation: group norm's output y,
 * which z is recorded as the ReLU of, so a conv reading z holds y instead and
 * the input x (the conv output before it) dies once released. */
START_TEST(fused_keeps_one_activation) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_cpu(), 1);
    uint64_t rng = 3;
    int64_t xs[4] = {2, 64, 8, 8}, ch[1] = {64};
    wb_tensor *x = wbt_random(&e, 4, xs, -1.0f, 1.0f, &rng), *g = wbt_random(&e, 1, ch, 0.5f, 1.5f, &rng);
    x->requires_grad = g->requires_grad = true;
    wb_tensor *z = wb_op_group_norm_act(e.ctx, x, g, NULL, 32, 1e-5f, WB_ACTIVATION_RELU);
    ck_assert_msg(z != NULL, "%s", e.c.msg);
    ck_assert_msg(z->relu_of != NULL && z->relu_of->storage && z->relu_of->storage->data,
                  "z must be recorded as relu of a held y");
    for (int64_t i = 0; i < z->numel; i++)
        ck_assert_float_eq(z->data[i], z->relu_of->data[i] > 0.0f ? z->relu_of->data[i] : 0.0f);
    wb_host_tensor_release(e.ctx, x);
    ck_assert_msg(!x->storage->data, "the input's data must not be held by the node (backward works from y)");
    wbt_env_free(&e);
}
END_TEST

/* Loop index: torch's case on ref (i = 0, the two ops) and the CPU (fused). */
START_TEST(group_norm_relu_matches_torch) {
    const wb_backend *be = backend_at(_i);
    wb_st_file f;
    if (!wbt_parity_open("group_norm_relu_g32", &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    const float *p = wbt_parity_tensor(&f, "params", 3);
    wb_tensor *x = wbt_parity_input(&e, &f, "x", true);
    wb_tensor *g = wbt_parity_input(&e, &f, "gamma", true), *b = wbt_parity_input(&e, &f, "beta", true);
    wb_tensor *z = wb_op_group_norm_act(e.ctx, x, g, b, (int)p[0], p[2], WB_ACTIVATION_RELU);
    ck_assert_msg(z != NULL, "%s", e.c.msg);
    /* As group_norm's torch cases: torch's float32 statistics against our double ones. */
    char label[64];
    snprintf(label, sizeof label, "%s z", be->name);
    wbt_report_close(label, z->data, wbt_parity_tensor(&f, "z", z->numel), z->numel, 1e-5, 1e-4);
    float *dz = wb_grad_begin(&e.c, z);
    memcpy(dz, wbt_parity_tensor(&f, "dz", z->numel), (size_t)z->numel * sizeof(float));
    wb_grad_end(&e.c, z, dz);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    static const char *const names[3] = {"dx", "dgamma", "dbeta"};
    const wb_tensor *ins[3] = {x, g, b};
    for (int k = 0; k < 3; k++) {
        snprintf(label, sizeof label, "%s %s", be->name, names[k]);
        wbt_report_close(label, ins[k]->grad, wbt_parity_tensor(&f, names[k], ins[k]->numel), ins[k]->numel, 1e-5,
                     1e-4);
    }
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

static int g_act;

static wb_tensor *gn_act_op(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    (void)user;
    return wb_op_group_norm_act(ctx, in[0], in[1], in[2], 2, 1e-5f, g_act);
}

/* Loop index: ReLU on the CPU (fused) or the reference (the two ops), then
 * SiLU (the two ops on both). */
START_TEST(group_norm_act_gradients) {
    g_act = _i < 2 ? WB_ACTIVATION_RELU : WB_ACTIVATION_SILU;
    opcheck_input in[3] = {
        {4, {2, 4, 3, 5}, NULL, -2.0f, 2.0f, true},
        {1, {4}, NULL, 0.5f, 1.5f, true},
        {1, {4}, NULL, -0.5f, 0.5f, true},
    };
    opcheck_gradients(g_act == WB_ACTIVATION_RELU ? "group_norm_act relu" : "group_norm_act silu", gn_act_op, NULL,
                      in, 3, (opcheck_opts){.backend = backend_at(_i % 2), .seed = 6});
}
END_TEST

START_TEST(group_norm_act_rejects_bad_arguments) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_cpu(), 1);
    uint64_t rng = 1;
    int64_t xs[4] = {2, 6, 4, 4};
    wbt_expect_error(&e, wb_op_group_norm_act(e.ctx, wbt_random(&e, 4, xs, -1, 1, &rng), NULL, NULL, 3, 1e-5f, 7),
                     "group_norm_act: unknown activation 7 (WB_ACTIVATION_NONE, _RELU or _SILU");
    wbt_expect_error(&e, wb_op_group_norm_act(e.ctx, wbt_random(&e, 4, xs, -1, 1, &rng), NULL, NULL, 4, 1e-5f,
                                              WB_ACTIVATION_RELU),
                     "group_norm: 6 channels of input [2, 6, 4, 4] do not split into 4 groups");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("group_norm_act");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, fused_equals_group_norm_then_relu, 0, 4);
    tcase_add_test(tc, fused_keeps_one_activation);
    tcase_add_loop_test(tc, group_norm_relu_matches_torch, 0, 2);
    tcase_add_loop_test(tc, group_norm_act_gradients, 0, 4);
    tcase_add_test(tc, group_norm_act_rejects_bad_arguments);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
