/* Custom ops through the host table, as a plugin writes them: the worked
 * example of host.h's contract (record_custom_op with a saved intermediate,
 * a copied state and ops inside backward) checked by finite differences,
 * and the lifetimes, NULL conventions and refusals the contract promises. */
#include <math.h>
#include <workbench/ops.h>
#include "opcheck.h"
#include "runtime/tensor_refs.h"

/* The worked example: y = scale * x * exp(-w), elementwise, x and w of one
 * shape. Forward keeps e = exp(-w) for backward instead of recomputing it:
 *   dL/dx = scale * dy * e,  dL/dw = -scale * dy * x * e. */
typedef struct decay_state {
    float scale;
} decay_state;

static wb_status decay_backward(wb_ctx *ctx, void *state, wb_tensor *const *in, int n_in,
                                wb_tensor *const *saved, int n_saved, wb_tensor *const *dout, int n_out,
                                wb_tensor **din) {
    (void)n_in, (void)n_saved, (void)n_out;
    const decay_state *s = state;
    /* Ops are fine in a backward; nothing it does is recorded. */
    wb_tensor *g = wb_scale(ctx, wb_mul(ctx, dout[0], saved[0]), s->scale);
    din[0] = g;
    din[1] = wb_neg(ctx, wb_mul(ctx, g, in[0]));
    return wb_ok(ctx);
}

static wb_tensor *scaled_decay(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, float scale) {
    /* On detached inputs the forward's ops record nothing: the custom op is
     * the only path from y back to x and w. */
    wb_tensor *e = wb_exp(ctx, wb_neg(ctx, wb_detach(ctx, w)));
    wb_tensor *y = wb_scale(ctx, wb_mul(ctx, wb_detach(ctx, x), e), scale);
    if (!y) return NULL;
    decay_state s = {scale}; /* copied by the core: a stack variable is fine */
    wb_tensor *in[2] = {x, w};
    wb_custom_op op = {.struct_size = sizeof op, .name = "test.scaled_decay", .inputs = in, .n_in = 2,
                       .outputs = &y, .n_out = 1, .saved = &e, .n_saved = 1, .keep = WB_CUSTOM_KEEP_INPUTS,
                       .backward = decay_backward, .state = &s, .state_size = sizeof s};
    if (wb_record_custom_op(ctx, &op) != WB_OK) return NULL;
    wb_release(ctx, e); /* the node holds it for backward */
    return y;
}

static wb_tensor *run_decay(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    (void)u;
    return scaled_decay(ctx, in[0], in[1], 1.5f);
}

START_TEST(worked_example_matches_finite_differences) {
    opcheck_input in[2] = {{.ndim = 2, .shape = {3, 7}, .lo = -2, .hi = 2, .grad = true},
                           {.ndim = 2, .shape = {3, 7}, .lo = -1, .hi = 1, .grad = true}};
    opcheck_gradients("scaled_decay", run_decay, NULL, in, 2, (opcheck_opts){.seed = 4});
    opcheck_gradients("scaled_decay cpu", run_decay, NULL, in, 2,
                      (opcheck_opts){.seed = 5, .backend = wb_backend_cpu()});
}
END_TEST

static void seed_gradient(wbt_env *e, wb_tensor *y, float v) {
    float *g = wb_grad_begin(&e->c, y);
    for (int64_t k = 0; k < y->numel; k++) g[k] = v;
    wb_grad_end(&e->c, y, g);
}

/* A saved intermediate the module released stays readable until the node
 * has run, then goes back to the pool; the backward records nothing. */
START_TEST(saved_tensors_live_until_backward_has_run) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 9;
    wb_tensor *x = wbt_random(&e, 1, (int64_t[]){5}, -1, 1, &rng), *w = wbt_random(&e, 1, (int64_t[]){5}, -1, 1, &rng);
    x->requires_grad = w->requires_grad = true;
    wb_tensor *y = scaled_decay(e.ctx, x, w, 2.0f);
    ck_assert_ptr_nonnull(y);
    wb_tape_node *node = e.c.tape.last;
    ck_assert_str_eq(node->op, "test.scaled_decay");
    ck_assert_int_eq(node->n_held, 3); /* both inputs (KEEP_INPUTS) and e */
    wb_tensor *saved = node->held[2];
    ck_assert_ptr_nonnull(saved->storage->data);
    ck_assert_int_eq(saved->storage->refs, 1); /* the node's: the module released its own */
    ck_assert_int_eq(e.c.tape.count, 1);        /* the forward's ops recorded nothing */
    int nodes = e.c.tape.count;
    seed_gradient(&e, y, 1.0f);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    ck_assert_int_eq(e.c.tape.count, nodes);
    ck_assert_ptr_null(saved->storage->data);
    for (int k = 0; k < 5; k++) {
        float ek = expf(-w->data[k]);
        ck_assert_float_eq_tol(x->grad[k], 2.0f * ek, 1e-6f);
        ck_assert_float_eq_tol(w->grad[k], -2.0f * x->data[k] * ek, 1e-6f);
    }
    wbt_env_free(&e);
}
END_TEST

/* Two outputs, only the first used downstream; input 1 gets "no gradient". */
static int g_second_output_was_zero;

static wb_status pair_backward(wb_ctx *ctx, void *state, wb_tensor *const *in, int n_in, wb_tensor *const *saved,
                               int n_saved, wb_tensor *const *dout, int n_out, wb_tensor **din) {
    (void)state, (void)in, (void)n_in, (void)saved, (void)n_saved;
    ck_assert_int_eq(n_out, 2);
    ck_assert_ptr_nonnull(dout[1]);
    const float *d1 = wb_map(ctx, dout[1]);
    g_second_output_was_zero = 1;
    for (int k = 0; k < 4; k++) g_second_output_was_zero &= d1[k] == 0.0f;
    ck_assert_ptr_null(din[0]);
    ck_assert_ptr_null(din[1]);
    din[0] = wb_scale(ctx, dout[0], 3.0f);
    return WB_OK;
}

START_TEST(null_gradients_mean_zero) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 2;
    wb_tensor *a = wbt_random(&e, 1, (int64_t[]){4}, -1, 1, &rng), *b = wbt_random(&e, 1, (int64_t[]){4}, -1, 1, &rng);
    a->requires_grad = b->requires_grad = true;
    wb_tensor *out[2] = {wb_tensor_new(e.ctx, 1, (int64_t[]){4}), wb_tensor_new(e.ctx, 1, (int64_t[]){4})};
    wb_tensor *in[2] = {a, b};
    wb_custom_op op = {.struct_size = sizeof op, .name = "pair", .inputs = in, .n_in = 2, .outputs = out,
                       .n_out = 2, .backward = pair_backward};
    ck_assert_int_eq(wb_record_custom_op(e.ctx, &op), WB_OK);
    seed_gradient(&e, out[0], 0.5f);
    g_second_output_was_zero = 0;
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    ck_assert(g_second_output_was_zero);
    ck_assert(a->grad_valid && !b->grad_valid);
    for (int k = 0; k < 4; k++) ck_assert_float_eq(a->grad[k], 1.5f);
    wbt_env_free(&e);
}
END_TEST

static wb_status wrong_shape_backward(wb_ctx *ctx, void *state, wb_tensor *const *in, int n_in,
                                      wb_tensor *const *saved, int n_saved, wb_tensor *const *dout, int n_out,
                                      wb_tensor **din) {
    (void)state, (void)in, (void)n_in, (void)saved, (void)n_saved, (void)dout, (void)n_out;
    din[0] = wb_tensor_new(ctx, 1, (int64_t[]){3});
    return WB_OK;
}

START_TEST(refusals_name_the_op_and_the_fix) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    wb_tensor *x = wb_ctx_tensor_zeros(&e.c, 1, (int64_t[]){4});
    x->requires_grad = true;
    wb_tensor *y = wb_tensor_new(e.ctx, 1, (int64_t[]){4}), *none = NULL;
    wb_custom_op op = {.struct_size = 8, .name = "mine", .inputs = &x, .n_in = 1, .outputs = &y, .n_out = 1,
                       .backward = wrong_shape_backward};
    ck_assert_int_eq(wb_record_custom_op(e.ctx, &op), WB_ERR_INVALID);
    ck_assert_msg(strstr(e.c.msg, "struct_size 8") && strstr(e.c.msg, "set struct_size = sizeof(wb_custom_op)"), "%s",
                  e.c.msg);
    wb_ctx_clear_error(&e.c);
    op.struct_size = sizeof op;
    op.saved = &none, op.n_saved = 1;
    ck_assert_int_eq(wb_record_custom_op(e.ctx, &op), WB_ERR_INVALID);
    ck_assert_str_eq(e.c.msg, "custom op mine: saved tensor 0 is NULL");
    wb_ctx_clear_error(&e.c);
    op.saved = NULL, op.n_saved = 0, op.keep = 4;
    ck_assert_int_eq(wb_record_custom_op(e.ctx, &op), WB_ERR_INVALID);
    ck_assert_str_eq(e.c.msg, "custom op mine: keep 0x4 has bits other than WB_CUSTOM_KEEP_*");
    wb_ctx_clear_error(&e.c);
    op.keep = 0, op.backward = NULL;
    ck_assert_int_eq(wb_record_custom_op(e.ctx, &op), WB_ERR_INVALID);
    ck_assert_str_eq(e.c.msg, "custom op mine: backward is NULL");
    wb_ctx_clear_error(&e.c);
    op.backward = wrong_shape_backward;
    ck_assert_int_eq(wb_record_custom_op(e.ctx, &op), WB_OK);
    seed_gradient(&e, y, 1.0f);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_ERR_INVALID);
    ck_assert_str_eq(e.c.msg, "custom op mine: gradient of input 0 has shape [3], input has [4]");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("custom_op");
    TCase *tc = tcase_create("custom_op");
    tcase_add_test(tc, worked_example_matches_finite_differences);
    tcase_add_test(tc, saved_tensors_live_until_backward_has_run);
    tcase_add_test(tc, null_gradients_mean_zero);
    tcase_add_test(tc, refusals_name_the_op_and_the_fix);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
