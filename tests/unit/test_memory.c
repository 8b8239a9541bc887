/* Tensor memory: the pool's reuse, coalescing and best fit, the lifetimes the
 * tape and wb_release give activations (what is freed when, what stays), and
 * where parameter gradients live. */
#include <math.h>
#include <string.h>
#include <workbench/ops.h>
#include "autograd/tape.h"
#include "backends/backend.h"
#include "memory/pool.h"
#include "runtime/context.h"
#include "runtime/host_tensors.h"
#include "runtime/tensor_refs.h"
#include "wbtest.h"

#define MIB ((size_t)1 << 20)

START_TEST(test_pool_reuses_and_merges_freed_ranges) {
    wb_pool p;
    wb_pool_init(&p);
    unsigned char *a = wb_pool_alloc(&p, MIB), *b = wb_pool_alloc(&p, 2 * MIB), *c = wb_pool_alloc(&p, MIB);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_eq(b, a + MIB); /* packed from the start */
    ck_assert_ptr_eq(c, b + 2 * MIB);
    ck_assert_uint_eq(p.in_use, 4 * MIB);
    wb_pool_free(&p, a, MIB);
    ck_assert_ptr_eq(wb_pool_alloc(&p, MIB), a); /* the hole is reused */
    wb_pool_free(&p, a, MIB);
    wb_pool_free(&p, b, 2 * MIB);
    /* a and b merged: a 3 MiB request fits where they were */
    ck_assert_ptr_eq(wb_pool_alloc(&p, 3 * MIB), a);
    ck_assert_uint_eq(p.in_use, 4 * MIB);
    ck_assert_uint_eq(p.peak, 4 * MIB);
    ck_assert_uint_eq(p.system_allocs, 1);
    /* The same requests after a reset land at the same places, from the same region. */
    wb_pool_reset(&p);
    ck_assert_uint_eq(p.in_use, 0);
    ck_assert_ptr_eq(wb_pool_alloc(&p, MIB), a);
    ck_assert_uint_eq(p.system_allocs, 1);
    wb_pool_release(&p);
}
END_TEST

/* A request goes to the smallest hole that holds it, so a larger one stays whole for a larger request and
 * nothing new is touched (first fit would cut the 3 MiB hole for the 1 MiB request). */
START_TEST(test_pool_fits_the_smallest_hole) {
    wb_pool p;
    wb_pool_init(&p);
    unsigned char *big = wb_pool_alloc(&p, 3 * MIB), *sep1 = wb_pool_alloc(&p, MIB);
    unsigned char *small = wb_pool_alloc(&p, MIB), *sep2 = wb_pool_alloc(&p, MIB);
    ck_assert_ptr_nonnull(sep1);
    ck_assert_ptr_nonnull(sep2);
    size_t touched = p.reserved;
    wb_pool_free(&p, big, 3 * MIB);
    wb_pool_free(&p, small, MIB);
    ck_assert_ptr_eq(wb_pool_alloc(&p, MIB), small);
    ck_assert_ptr_eq(wb_pool_alloc(&p, 3 * MIB), big);
    ck_assert_uint_eq(p.reserved, touched);
    /* equal holes: the lowest */
    wb_pool_free(&p, small, MIB);
    wb_pool_free(&p, sep1, MIB);
    wb_pool_free(&p, sep2, MIB); /* merges with small: holes sep1 (1 MiB, low) ... small + sep2 (2 MiB) */
    ck_assert_ptr_eq(wb_pool_alloc(&p, MIB), sep1);
    wb_pool_release(&p);
}
END_TEST

static size_t in_use(const wbt_env *e) { return e->s->tensors.in_use; }

/* 1M floats: 4 MiB, far above the pool's 64-byte rounding. */
static const int64_t shape[2] = {1024, 1024};
#define T_BYTES ((size_t)4 << 20)

/* Loop index 0: an iteration that ends with zero_grad (pool_param_grads): the gradient of a parameter is pool
 * memory, written in backward and given back by zero_grad (and forgotten by the pool's reset). 1: micro-batches
 * that accumulate: it is weights-arena memory that zero_grad keeps for the next backward. */
START_TEST(test_parameter_gradients_pooled_or_kept) {
    const bool pooled = _i == 0;
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    e.s->pool_param_grads = pooled;
    wb_init zero = {.kind = WB_INIT_CONSTANT};
    wb_tensor *w = wb_host_param_create(e.ctx, "w", 2, shape, &zero, 1);
    ck_assert_ptr_nonnull(w);
    for (int it = 0; it < 2; it++) {
        uint64_t rng = 3;
        wb_tensor *x = wbt_random(&e, 2, shape, -1.0f, 1.0f, &rng);
        size_t base = in_use(&e);
        size_t arena = e.s->weight_data->used;
        wb_tensor *y = wb_mul(e.ctx, x, w);
        float *g = wb_grad_begin(&e.c, y);
        for (int64_t i = 0; i < y->numel; i++) g[i] = 1.0f;
        wb_grad_end(&e.c, y, g);
        ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
        ck_assert(w->grad_valid);
        for (int64_t i = 0; i < w->numel; i++) ck_assert_float_eq(w->grad[i], x->data[i]);
        ck_assert(w->grad_pooled == pooled);
        /* y (owned) and the gradient, or y alone; the arena grows once, on the first backward */
        ck_assert_uint_eq(in_use(&e), base + (pooled ? 2 : 1) * T_BYTES);
        ck_assert_uint_eq(e.s->weight_data->used, arena + (!pooled && it == 0 ? T_BYTES : 0));
        float *kept = w->grad;
        wb_session_zero_grad(e.s);
        ck_assert(!w->grad_valid);
        ck_assert_uint_eq(in_use(&e), base + T_BYTES);
        if (pooled) ck_assert_ptr_null(w->grad);
        else ck_assert_ptr_eq(w->grad, kept);
        wbt_env_reset(&e);
    }
    /* a pooled gradient that outlives its iteration dies with the pool */
    if (pooled) {
        w->grad = wb_grad_alloc(e.s, w);
        w->grad_valid = true;
        wb_session_reset_compute(e.s);
        ck_assert_ptr_null(w->grad);
        ck_assert(!w->grad_valid && !w->grad_pooled);
    }
    wbt_env_free(&e);
}
END_TEST

START_TEST(test_released_intermediates_are_reused_at_inference) {
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    e.c.grad_enabled = false;
    uint64_t rng = 7;
    wb_tensor *x = wbt_random(&e, 2, shape, -1.0f, 1.0f, &rng);
    wb_tensor *y = x;
    for (int i = 0; i < 20; i++) {
        wb_tensor *next = wb_relu(e.ctx, y);
        if (y != x) wb_release(e.ctx, y);
        y = next;
    }
    ck_assert_ptr_nonnull(y);
    /* x, the last output, and one more at the moment both ends of a relu lived */
    ck_assert_uint_eq(in_use(&e), 2 * T_BYTES);
    ck_assert_uint_eq(e.s->tensors.peak, 3 * T_BYTES);
    wbt_env_free(&e);
}
END_TEST

START_TEST(test_the_tape_keeps_only_what_backward_reads) {
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    uint64_t rng = 7;
    wb_tensor *x = wbt_random(&e, 2, shape, -1.0f, 1.0f, &rng);
    x->requires_grad = true;
    size_t base = in_use(&e);
    /* add reads nothing in backward, relu its input (its mask a > 0), sigmoid its output */
    wb_tensor *a = wb_add(e.ctx, x, x);
    wb_tensor *r = wb_relu(e.ctx, a);
    wb_tensor *s = wb_sigmoid(e.ctx, r);
    wb_release(e.ctx, a); /* still held by relu's node */
    ck_assert_uint_eq(in_use(&e), base + 3 * T_BYTES);
    wb_release(e.ctx, r); /* freed at once: no backward reads it */
    ck_assert_uint_eq(in_use(&e), base + 2 * T_BYTES);
    ck_assert_ptr_nonnull(wb_grad_of(&e.c, s));
    float *g = wb_grad_begin(&e.c, s);
    for (int64_t i = 0; i < s->numel; i++) g[i] = 1.0f;
    wb_grad_end(&e.c, s, g);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    /* Left: x, its gradient, and s (still owned, kept by sigmoid's node until it ran). */
    ck_assert_uint_eq(in_use(&e), base + 2 * T_BYTES);
    ck_assert(x->grad_valid);
    /* d(sigmoid(relu(2x)))/dx at a positive x: 2 s (1 - s) */
    for (int64_t i = 0; i < x->numel; i++) {
        float v = 2.0f * x->data[i];
        float sv = v > 0.0f ? 1.0f / (1.0f + expf(-v)) : 0.5f;
        float want = v > 0.0f ? 2.0f * sv * (1.0f - sv) : 0.0f;
        ck_assert_msg(fabsf(x->grad[i] - want) <= 1e-6f, "grad %lld: %g vs %g", (long long)i, x->grad[i], want);
    }
    wbt_env_free(&e);
}
END_TEST

START_TEST(test_a_view_keeps_its_storage_alive) {
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    e.c.grad_enabled = false;
    uint64_t rng = 7;
    wb_tensor *x = wbt_random(&e, 2, shape, -1.0f, 1.0f, &rng);
    wb_tensor *y = wb_relu(e.ctx, x);
    int64_t flat[1] = {-1};
    wb_tensor *v = wb_reshape(e.ctx, y, 1, flat);
    size_t before = in_use(&e);
    wb_release(e.ctx, y);
    ck_assert_uint_eq(in_use(&e), before); /* v still reads it */
    ck_assert(v->data[0] >= 0.0f);
    wb_release(e.ctx, v);
    ck_assert_uint_eq(in_use(&e), before - T_BYTES);
    wb_release(e.ctx, v); /* twice is harmless */
    ck_assert_uint_eq(in_use(&e), before - T_BYTES);
    wbt_env_free(&e);
}
END_TEST

/* A conv that oneDNN runs in a blocked layout needs blocked copies of its
 * operands for the length of the call: they come from the session's pool
 * (reusing what freed activations left) and go back before the call ends. */
START_TEST(test_conv_scratch_comes_from_the_pool_and_goes_back) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_cpu(), 1);
    e.c.grad_enabled = false;
    uint64_t rng = 7;
    const int64_t xs[4] = {2, 16, 40, 40}, ws[4] = {32, 16, 3, 3};
    wb_tensor *x = wbt_random(&e, 4, xs, -1.0f, 1.0f, &rng);
    wb_tensor *w = wbt_random(&e, 4, ws, -1.0f, 1.0f, &rng);
    size_t before = in_use(&e);
    wb_conv2d_params p = wb_conv_p(1, 1, 1, 1);
    wb_tensor *y = wb_conv2d(e.ctx, x, w, NULL, &p);
    ck_assert_ptr_nonnull(y);
    size_t y_bytes = (size_t)y->numel * sizeof(float);
    ck_assert_uint_eq(in_use(&e), before + y_bytes);
    /* at least the blocked copy of x lived in the pool during the call */
    ck_assert_uint_ge(e.s->tensors.peak, before + y_bytes + (size_t)x->numel * sizeof(float));
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("memory");
    TCase *tc = tcase_create("memory");
    tcase_add_test(tc, test_pool_reuses_and_merges_freed_ranges);
    tcase_add_test(tc, test_pool_fits_the_smallest_hole);
    tcase_add_loop_test(tc, test_parameter_gradients_pooled_or_kept, 0, 2);
    tcase_add_test(tc, test_released_intermediates_are_reused_at_inference);
    tcase_add_test(tc, test_the_tape_keeps_only_what_backward_reads);
    tcase_add_test(tc, test_a_view_keeps_its_storage_alive);
    tcase_add_test(tc, test_conv_scratch_comes_from_the_pool_and_goes_back);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
