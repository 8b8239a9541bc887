/* What the tape keeps of conv + norm + ReLU blocks: group norm's backward
 * from its output (both backends' kernels against the backward from the
 * input), ReLU outputs recomputed for the backward of the conv that reads
 * them, and a residual block's last batch norm output let go and its input
 * recomputed by the conv before it (finite differences through whole
 * blocks, and which tensors' memory is gone after the forward). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <workbench/ops.h>

#include "backends/families.h"
#include "backends/kernels_norm.h"
#include "ops/ops.h"
#include "opcheck.h"
#include "runtime/context.h"
#include "runtime/tensor_refs.h"

static const wb_backend *backend_at(int i) { return i == 0 ? wb_backend_ref() : wb_backend_cpu(); }

static void fill(float *v, int64_t n, float lo, float hi, uint64_t *rng) {
    for (int64_t i = 0; i < n; i++) v[i] = lo + (hi - lo) * wb_rng_uniform(rng);
}

/* Loop index: backend i / 2 (ref, cpu); affine (gamma of both signs, beta up to 4 |gamma|) or plain. */
START_TEST(group_norm_backward_from_output_equals_from_input) {
    const wb_norm_kernels *k = backend_at(_i / 2)->norm;
    ck_assert_ptr_nonnull(k->group_norm_backward_from_output);
    const bool affine = _i % 2 == 0;
    enum { N = 2, C = 12, HW = 35, G = 3, NUMEL = N * C * HW };
    wb_gn_args a = {.n = N, .c = C, .hw = HW, .groups = G, .eps = 1e-5f};
    static float x[NUMEL], y[NUMEL], dy[NUMEL], dx[2][NUMEL];
    float gamma[C], beta[C], mean[N * G], rstd[N * G], dg[2][C], db[2][C];
    uint64_t rng = 5;
    fill(x, NUMEL, -2.0f, 3.0f, &rng);
    fill(dy, NUMEL, -1.0f, 1.0f, &rng);
    for (int c = 0; c < C; c++) {
        gamma[c] = (c % 2 ? -1.0f : 1.0f) * (0.5f + wb_rng_uniform(&rng));
        beta[c] = 4.0f * gamma[c] * (2.0f * wb_rng_uniform(&rng) - 1.0f);
    }
    const float *g = affine ? gamma : NULL, *b = affine ? beta : NULL;
    k->group_norm_forward(x, g, b, &a, y, mean, rstd);
    k->group_norm_backward(dy, x, g, mean, rstd, &a, dx[0], dg[0], db[0]);
    k->group_norm_backward_from_output(dy, y, g, b, rstd, &a, dx[1], dg[1], db[1]);
    /* xhat from y carries a few more float32 roundings (|beta / gamma| <= 4 here) */
    wbt_assert_close("dx from y", dx[1], dx[0], NUMEL, 1e-5, 1e-4);
    wbt_assert_close("dgamma from y", dg[1], dg[0], C, 1e-4, 1e-4);
    wbt_assert_close("dbeta from y", db[1], db[0], C, 1e-6, 1e-6);
}
END_TEST

typedef struct block_cfg {
    bool group_norm; /* else batch norm in training */
} block_cfg;

/* inputs: x, w1, gamma, beta, w2 -> conv(relu(norm(conv(x, w1))), w2), releasing what a plugin releases */
static wb_tensor *block(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    const block_cfg *cfg = user;
    wb_context *c = wb_ctx_impl(ctx);
    wb_conv2d_params same = wb_conv_p(1, 1, 1, 1);
    wb_tensor *h = wb_op_conv2d(ctx, in[0], in[1], NULL, &same);
    wb_tensor *n = cfg->group_norm ? wb_op_group_norm(ctx, h, in[2], in[3], 2, 1e-5f)
                                   : wb_op_batch_norm(ctx, h, in[2], in[3], NULL, NULL, 1, 0.1f, 1e-5f);
    wb_tensor *r = wb_op_relu(ctx, n);
    wb_tensor *out = wb_op_conv2d(ctx, r, in[4], NULL, &same);
    wb_tensor_release(c->s, h);
    wb_tensor_release(c->s, n);
    wb_tensor_release(c->s, r);
    return out;
}

static void block_inputs(opcheck_input in[5]) {
    in[0] = (opcheck_input){4, {2, 3, 5, 4}, NULL, -1.0f, 1.0f, true};
    in[1] = (opcheck_input){4, {4, 3, 3, 3}, NULL, -0.5f, 0.5f, true};
    in[2] = (opcheck_input){1, {4}, NULL, 0.5f, 1.5f, true};
    in[3] = (opcheck_input){1, {4}, NULL, -0.5f, 0.5f, true};
    in[4] = (opcheck_input){4, {3, 4, 3, 3}, NULL, -0.5f, 0.5f, true};
}

/* The backward of the second conv reads a ReLU output whose memory was given back after the forward. */
START_TEST(recomputed_relu_gradients) {
    opcheck_input in[5];
    block_inputs(in);
    for (int be = 0; be < 2; be++) {
        block_cfg gn = {true}, bn = {false};
        opcheck_opts o = {.backend = backend_at(be), .seed = 3};
        opcheck_gradients("conv + group_norm + relu + conv", block, &gn, in, 5, o);
        opcheck_gradients("conv + batch_norm + relu + conv", block, &bn, in, 5, o);
    }
}
END_TEST

/* After the forward only the norm's output is kept of the block's inside: the conv output (the norm works from
 * its output) and the ReLU output (recomputed) are gone; the gradients equal those of a block that kept them. */
START_TEST(block_keeps_only_the_norm_output) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_cpu(), 1);
    uint64_t rng = 9;
    int64_t xs[4] = {2, 3, 6, 5}, w1s[4] = {4, 3, 3, 3}, cs[1] = {4}, w2s[4] = {3, 4, 3, 3};
    wb_tensor *in[5] = {wbt_random(&e, 4, xs, -1, 1, &rng), wbt_random(&e, 4, w1s, -0.5f, 0.5f, &rng),
                        wbt_random(&e, 1, cs, 0.5f, 1.5f, &rng), wbt_random(&e, 1, cs, -0.5f, 0.5f, &rng),
                        wbt_random(&e, 4, w2s, -0.5f, 0.5f, &rng)};
    for (int i = 0; i < 5; i++) in[i]->requires_grad = true;
    wb_conv2d_params same = wb_conv_p(1, 1, 1, 1);
    wb_tensor *h = wb_op_conv2d(e.ctx, in[0], in[1], NULL, &same);
    wb_tensor *n = wb_op_group_norm(e.ctx, h, in[2], in[3], 2, 1e-5f);
    wb_tensor *r = wb_op_relu(e.ctx, n);
    wb_tensor *out = wb_op_conv2d(e.ctx, r, in[4], NULL, &same);
    ck_assert_ptr_nonnull(out);
    /* an independent copy of relu(n) for the reference gradient of w2 */
    float *r_copy = malloc((size_t)r->numel * sizeof(float));
    memcpy(r_copy, r->data, (size_t)r->numel * sizeof(float));
    wb_tensor_release(e.s, h);
    wb_tensor_release(e.s, n);
    wb_tensor_release(e.s, r);
    ck_assert_msg(h->storage->data == NULL, "the conv output is still held after the forward");
    ck_assert_msg(r->storage->data == NULL, "the ReLU output is still held after the forward");
    ck_assert_msg(n->storage->data != NULL, "the group norm output must be held for backward");
    float *dy_copy = malloc((size_t)out->numel * sizeof(float));
    for (int64_t i = 0; i < out->numel; i++) dy_copy[i] = wb_rng_uniform(&rng) - 0.5f;
    float *dy = wb_grad_begin(&e.c, out);
    memcpy(dy, dy_copy, (size_t)out->numel * sizeof(float));
    wb_grad_end(&e.c, out, dy);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    /* dw2 = sum over images and positions of dy x relu(n): checked against the copy by the reference conv */
    wbt_env ref;
    wbt_env_init(&ref, wb_backend_ref(), 1);
    wb_tensor *rr = wbt_from(&ref, 4, r->shape, r_copy), *w2 = wbt_from(&ref, 4, w2s, in[4]->data);
    w2->requires_grad = true;
    wb_tensor *o2 = wb_op_conv2d(ref.ctx, rr, w2, NULL, &same);
    float *dy2 = wb_grad_begin(&ref.c, o2);
    memcpy(dy2, dy_copy, (size_t)o2->numel * sizeof(float));
    wb_grad_end(&ref.c, o2, dy2);
    ck_assert_int_eq(wb_tape_backward(&ref.c), WB_OK);
    wbt_assert_close("dw2 from the recomputed relu", in[4]->grad, w2->grad, w2->numel, 1e-5, 1e-5);
    free(r_copy);
    free(dy_copy);
    wbt_env_free(&ref);
    wbt_env_free(&e);
}
END_TEST

/* inputs: x, w, gamma, beta, bias, running mean, running var -> silu(batch_norm(conv(x, w, bias)) + x), a
 * residual block's end (SiLU, smooth where ReLU's kink would meet the finite differences: like ReLU it keeps
 * the sum, not the norm's output), the norm in training (user: int 1) or eval mode (0: running statistics,
 * as norm_eval); then what the model does once a module's forward returned: release, and let the tape shed. */
static wb_tensor *residual(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    const int training = *(const int *)user;
    wb_context *c = wb_ctx_impl(ctx);
    wb_conv2d_params same = wb_conv_p(1, 1, 1, 1);
    wb_tensor *h = wb_op_conv2d(ctx, in[0], in[1], in[4], &same);
    wb_tensor *n = wb_op_batch_norm(ctx, h, in[2], in[3], in[5], in[6], training, 0.0f, 1e-5f);
    wb_tensor *sum = wb_op_add(ctx, n, in[0]);
    wb_tensor *out = wb_op_silu(ctx, sum);
    wb_tensor_release(c->s, h);
    wb_tensor_release(c->s, n);
    wb_tensor_release(c->s, sum);
    wb_tape_shed(c);
    ck_assert_msg(n->storage->data == NULL, "the batch norm output is still held after the shed");
    return out;
}

static void residual_inputs(opcheck_input in[7]) {
    in[0] = (opcheck_input){4, {2, 3, 5, 4}, NULL, -1.0f, 1.0f, true};
    in[1] = (opcheck_input){4, {3, 3, 3, 3}, NULL, -0.5f, 0.5f, true};
    in[2] = (opcheck_input){1, {3}, NULL, 0.5f, 1.5f, true};
    in[3] = (opcheck_input){1, {3}, NULL, -0.5f, 0.5f, true};
    in[4] = (opcheck_input){1, {3}, NULL, -0.5f, 0.5f, true};
    in[5] = (opcheck_input){1, {3}, NULL, -0.3f, 0.3f, false};
    in[6] = (opcheck_input){1, {3}, NULL, 0.5f, 1.5f, false};
}

/* Loop index: training (batch statistics; momentum 0 keeps the running ones as they are), eval mode, or frozen
 * (eval with gamma and beta fixed, torchvision's FrozenBatchNorm2d: nothing kept to shed). */
START_TEST(shed_batch_norm_gradients) {
    static const char *what[3] = {"silu(batch_norm(conv) + x), output shed", "the same, batch norm in eval mode",
                                  "the same, frozen batch norm"};
    opcheck_input in[7];
    residual_inputs(in);
    int training = _i == 0;
    in[2].grad = in[3].grad = _i != 2;
    for (int be = 0; be < 2; be++)
        opcheck_gradients(what[_i], residual, &training, in, 7, (opcheck_opts){.backend = backend_at(be), .seed = 4});
}
END_TEST

/* The same block with and without the shed (the shed's batch norm runs from the recomputed conv output, the
 * kept one from its output): the norm's output is gone after the shed alone, and the gradients agree. */
START_TEST(shed_batch_norm_output_is_gone_and_gradients_agree) {
    int64_t xs[4] = {2, 8, 9, 7}, ws[4] = {8, 8, 3, 3}, cs[1] = {8};
    float *grads[2][5];
    for (int shed = 0; shed < 2; shed++) {
        wbt_env e;
        wbt_env_init(&e, wb_backend_cpu(), 1);
        uint64_t rng = 21;
        wb_tensor *in[5] = {wbt_random(&e, 4, xs, -1, 1, &rng), wbt_random(&e, 4, ws, -0.2f, 0.2f, &rng),
                            wbt_random(&e, 1, cs, 0.5f, 1.5f, &rng), wbt_random(&e, 1, cs, -0.5f, 0.5f, &rng),
                            wbt_random(&e, 1, cs, -0.5f, 0.5f, &rng)};
        for (int i = 0; i < 5; i++) in[i]->requires_grad = true;
        wb_conv2d_params same = wb_conv_p(1, 1, 1, 1);
        wb_tensor *h = wb_op_conv2d(e.ctx, in[0], in[1], in[4], &same);
        wb_tensor *n = wb_op_batch_norm(e.ctx, h, in[2], in[3], NULL, NULL, 1, 0.1f, 1e-5f);
        wb_tensor *sum = wb_op_add(e.ctx, n, in[0]);
        wb_tensor *out = wb_op_relu(e.ctx, sum);
        ck_assert_ptr_nonnull(out);
        wb_tensor_release(e.s, h);
        wb_tensor_release(e.s, n);
        wb_tensor_release(e.s, sum);
        ck_assert_msg(n->storage->data != NULL, "the batch norm output is held for its backward");
        if (shed) wb_tape_shed(&e.c);
        ck_assert_msg((n->storage->data == NULL) == (shed == 1), "shed %d: batch norm output %s", shed,
                      n->storage->data ? "still held" : "gone");
        float *dy = wb_grad_begin(&e.c, out);
        for (int64_t i = 0; i < out->numel; i++) dy[i] = wb_rng_uniform(&rng) - 0.5f;
        wb_grad_end(&e.c, out, dy);
        ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
        for (int i = 0; i < 5; i++) {
            grads[shed][i] = malloc((size_t)in[i]->numel * sizeof(float));
            memcpy(grads[shed][i], in[i]->grad, (size_t)in[i]->numel * sizeof(float));
        }
        if (shed) {
            static const char *names[5] = {"dx", "dw", "dgamma", "dbeta", "dbias"};
            for (int i = 0; i < 5; i++) {
                wbt_assert_close(names[i], grads[1][i], grads[0][i], in[i]->numel, 1e-5, 1e-5);
                free(grads[0][i]), free(grads[1][i]);
            }
        }
        wbt_env_free(&e);
    }
}
END_TEST

/* A frozen batch norm (eval, gamma and beta fixed) keeps nothing: after the forward, without a shed, neither its
 * output nor the conv output before it has memory, and its backward is dy * gamma / sqrt(running_var + eps). */
START_TEST(frozen_batch_norm_keeps_nothing) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_cpu(), 1);
    uint64_t rng = 5;
    int64_t xs[4] = {2, 4, 6, 5}, ws[4] = {4, 4, 3, 3}, cs[1] = {4};
    wb_tensor *x = wbt_random(&e, 4, xs, -1, 1, &rng), *w = wbt_random(&e, 4, ws, -0.3f, 0.3f, &rng);
    wb_tensor *gamma = wbt_random(&e, 1, cs, 0.5f, 1.5f, &rng), *beta = wbt_random(&e, 1, cs, -0.5f, 0.5f, &rng);
    wb_tensor *mean = wbt_random(&e, 1, cs, -0.3f, 0.3f, &rng), *var = wbt_random(&e, 1, cs, 0.5f, 1.5f, &rng);
    x->requires_grad = w->requires_grad = true;
    wb_conv2d_params same = wb_conv_p(1, 1, 1, 1);
    wb_tensor *h = wb_op_conv2d(e.ctx, x, w, NULL, &same);
    wb_tensor *n = wb_op_batch_norm(e.ctx, h, gamma, beta, mean, var, 0, 0.1f, 1e-5f);
    ck_assert_ptr_nonnull(n);
    wb_tensor_release(e.s, h);
    wb_tensor_release(e.s, n);
    ck_assert_msg(h->storage->data == NULL && n->storage->data == NULL, "a frozen batch norm kept %s",
                  h->storage->data ? "its input" : "its output");
    float *dy = wb_grad_begin(&e.c, n);
    for (int64_t i = 0; i < n->numel; i++) dy[i] = wb_rng_uniform(&rng) - 0.5f;
    float *dy_copy = malloc((size_t)n->numel * sizeof(float));
    memcpy(dy_copy, dy, (size_t)n->numel * sizeof(float));
    wb_grad_end(&e.c, n, dy);
    /* the batch norm's node alone, then the gradient it left on h */
    wb_tape_node *bn = e.c.tape.last;
    ck_assert_str_eq(bn->op, "batch_norm");
    ck_assert_int_eq(bn->backward(&e.c, bn), WB_OK);
    for (int64_t i = 0; i < h->numel; i++) {
        int64_t ch = (i / (6 * 5)) % 4;
        float want = dy_copy[i] * gamma->data[ch] / sqrtf(var->data[ch] + 1e-5f);
        ck_assert_msg(fabsf(h->grad[i] - want) <= 1e-6f * (1.0f + fabsf(want)), "dh[%lld] %g, want %g",
                      (long long)i, h->grad[i], want);
    }
    free(dy_copy);
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("saved_activations");
    TCase *t = tcase_create("saved_activations");
    tcase_add_loop_test(t, group_norm_backward_from_output_equals_from_input, 0, 4);
    tcase_add_test(t, recomputed_relu_gradients);
    tcase_add_test(t, block_keeps_only_the_norm_output);
    tcase_add_loop_test(t, shed_batch_norm_gradients, 0, 3);
    tcase_add_test(t, shed_batch_norm_output_is_gone_and_gradients_agree);
    tcase_add_test(t, frozen_batch_norm_keeps_nothing);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
