/* Shape ops (concat, split, slice, reshape, permute) and reductions (sum,
 * mean over all or one axis): torch parity of values and gradients on both
 * backends, finite differences on odd sizes, OpenMP against reference, and
 * the error messages for bad axes and sizes. */
#include <math.h>
#include "pointwise_testing.h"
#include "ops/ops.h"

typedef struct concat_args {
    int n, axis;
} concat_args;
static wb_tensor *run_concat(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    const concat_args *a = u;
    return wb_op_concat(ctx, in, a->n, a->axis);
}
/* Pieces of sizes {1, 3, 2} along axis 1, concatenated back in reverse. */
static wb_tensor *run_split(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    (void)u;
    const int64_t sizes[3] = {1, 3, 2};
    wb_tensor *p[3] = {NULL, NULL, NULL};
    if (wb_op_split(ctx, in[0], 1, sizes, 3, p) != WB_OK) return NULL;
    wb_tensor *rev[3] = {p[2], p[1], p[0]};
    return wb_op_concat(ctx, rev, 3, 1);
}
typedef struct slice_args {
    int axis;
    int64_t start, end;
} slice_args;
static wb_tensor *run_slice(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    const slice_args *a = u;
    return wb_op_slice(ctx, in[0], a->axis, a->start, a->end);
}
static wb_tensor *run_permute(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    (void)u;
    const int perm[4] = {0, 2, 3, 1};
    return wb_op_permute(ctx, in[0], perm);
}
/* x.reshape(3, -1, 4) * 2: the scale makes the view's gradient non-trivial. */
static wb_tensor *run_reshape(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    (void)u;
    const int64_t shape[3] = {3, -1, 4};
    return wb_op_scale(ctx, wb_op_reshape(ctx, in[0], 3, shape), 2.0f);
}
typedef struct reduce_args {
    int mean, axis, keepdim;
} reduce_args;
static wb_tensor *run_reduce(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    const reduce_args *r = u;
    return r->mean ? wb_op_mean(ctx, in[0], r->axis, r->keepdim) : wb_op_sum(ctx, in[0], r->axis, r->keepdim);
}

static const char *const X[] = {"x"};
static const char *const ABC[] = {"a", "b", "c"};

/* Copies are exact; 1e-7 only guards against a -0 vs 0 style surprise. */
START_TEST(shape_ops_parity_with_torch) {
    const wb_backend *bes[2] = {wb_backend_ref(), wb_backend_cpu()};
    for (int b = 0; b < 2; b++) {
        concat_args cat1 = {3, 1}, cat3 = {2, 3};
        pw_parity("pw_concat_axis1", bes[b], run_concat, &cat1, ABC, 3, 1e-7, 0);
        pw_parity("pw_concat_axis3", bes[b], run_concat, &cat3, ABC, 2, 1e-7, 0);
        pw_parity("pw_split_axis1", bes[b], run_split, NULL, X, 1, 1e-7, 0);
        slice_args neg = {1, -4, -1}, clamp = {3, 2, 100};
        pw_parity("pw_slice_neg", bes[b], run_slice, &neg, X, 1, 1e-7, 0);
        pw_parity("pw_slice_clamp", bes[b], run_slice, &clamp, X, 1, 1e-7, 0);
        pw_parity("pw_permute", bes[b], run_permute, NULL, X, 1, 1e-7, 0);
        pw_parity("pw_reshape", bes[b], run_reshape, NULL, X, 1, 1e-7, 0);
    }
}
END_TEST

/* Sums of up to 210 unit-normal values: both sides round to float once from
 * a (nearly) exact sum, so 1e-6 absolute + 1e-5 relative. */
START_TEST(reductions_parity_with_torch) {
    const wb_backend *bes[2] = {wb_backend_ref(), wb_backend_cpu()};
    const int axes[3] = {0, 1, 3};
    for (int b = 0; b < 2; b++)
        for (int mean = 0; mean <= 1; mean++) {
            char name[64];
            reduce_args all = {mean, -1, 0};
            snprintf(name, sizeof name, "pw_%s_all", mean ? "mean" : "sum");
            pw_parity(name, bes[b], run_reduce, &all, X, 1, 1e-6, 1e-5);
            for (int a = 0; a < 3; a++)
                for (int keep = 0; keep <= 1; keep++) {
                    reduce_args r = {mean, axes[a], keep};
                    snprintf(name, sizeof name, "pw_%s_axis%d_k%d", mean ? "mean" : "sum", axes[a], keep);
                    pw_parity(name, bes[b], run_reduce, &r, X, 1, 1e-6, 1e-5);
                }
        }
}
END_TEST

START_TEST(gradients_by_finite_differences) {
    const wb_backend *be = _i ? wb_backend_cpu() : wb_backend_ref();
    opcheck_opts o = {.seed = 11, .backend = be};
    opcheck_input abc[3] = {
        {.ndim = 3, .shape = {2, 3, 5}, .lo = -1, .hi = 1, .grad = true},
        {.ndim = 3, .shape = {2, 1, 5}, .lo = -1, .hi = 1, .grad = false},
        {.ndim = 3, .shape = {2, 2, 5}, .lo = -1, .hi = 1, .grad = true},
    };
    concat_args cat = {3, 1};
    opcheck_gradients("concat", run_concat, &cat, abc, 3, o);
    opcheck_input x = {.ndim = 4, .shape = {2, 6, 3, 5}, .lo = -1, .hi = 1, .grad = true};
    opcheck_gradients("split", run_split, NULL, &x, 1, o);
    slice_args sl = {2, 1, -1};
    opcheck_gradients("slice", run_slice, &sl, &x, 1, o);
    opcheck_gradients("permute", run_permute, NULL, &x, 1, o);
    opcheck_input r = {.ndim = 4, .shape = {2, 3, 4, 2}, .lo = -1, .hi = 1, .grad = true};
    opcheck_gradients("reshape", run_reshape, NULL, &r, 1, o);
    for (int mean = 0; mean <= 1; mean++)
        for (int axis = -1; axis < 4; axis++) {
            reduce_args ra = {mean, axis, axis & 1};
            opcheck_gradients(mean ? "mean" : "sum", run_reduce, &ra, &x, 1, o);
        }
}
END_TEST

START_TEST(reshape_is_a_view_with_its_own_gradient) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 3;
    int64_t s[2] = {4, 6}, t[3] = {2, -1, 3};
    wb_tensor *x = wbt_random(&e, 2, s, -1, 1, &rng);
    x->requires_grad = true;
    wb_tensor *y = wb_op_reshape(e.ctx, x, 3, t);
    ck_assert_ptr_nonnull(y);
    ck_assert_ptr_eq(y->data, x->data);
    ck_assert_int_eq(y->shape[1], 4);
    /* A scalar reshape of a one-element tensor and back. */
    int64_t one[1] = {1};
    wb_tensor *sc = wb_op_reshape(e.ctx, wb_op_sum(e.ctx, x, -1, 0), 1, one);
    ck_assert_ptr_nonnull(sc);
    ck_assert_int_eq(sc->ndim, 1);
    wbt_env_free(&e);
}
END_TEST

/* Python slicing: start past end gives an empty piece, its sum is 0, its
 * mean NaN (as torch), and the gradient of the source is all zeros. */
START_TEST(empty_slice_flows_through) {
    const wb_backend *be = _i ? wb_backend_cpu() : wb_backend_ref();
    wbt_env e;
    wbt_env_init(&e, be, 1);
    uint64_t rng = 5;
    int64_t s[2] = {2, 3};
    wb_tensor *x = wbt_random(&e, 2, s, -1, 1, &rng);
    x->requires_grad = true;
    wb_tensor *y = wb_op_slice(e.ctx, x, 1, 2, 1);
    ck_assert_ptr_nonnull(y);
    ck_assert_int_eq(y->shape[1], 0);
    wb_tensor *m = wb_op_mean(e.ctx, y, -1, 0), *t = wb_op_sum(e.ctx, y, -1, 0);
    ck_assert_ptr_nonnull(m);
    ck_assert_ptr_nonnull(t);
    ck_assert(isnan(m->data[0]));
    ck_assert_float_eq(t->data[0], 0.0f);
    float *g = wb_grad_begin(&e.c, t);
    g[0] = 1.0f;
    wb_grad_end(&e.c, t, g);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    ck_assert(x->grad_valid);
    for (int k = 0; k < 6; k++) ck_assert_float_eq(x->grad[k], 0.0f);
    wbt_env_free(&e);
}
END_TEST

/* Copies must be bit-exact (1e-12: the checker needs a bound above 0 for 0 == 0); sums: the reference sums each output
 * in double sequentially, the CPU kernel in double in blocks, so only the
 * final float rounding can differ: 1 ulp (rtol 1e-6, atol 1e-6 at 0). */
START_TEST(cpu_matches_reference_on_large_input) {
    opcheck_input x = {.ndim = 4, .shape = {4, 64, 48, 48}, .lo = -1, .hi = 1, .grad = true};
    opcheck_input ab[2] = {x, x};
    concat_args cat = {2, 1};
    pw_cpu_vs_ref("concat axis 1 2x[4,64,48,48]", run_concat, &cat, ab, 2, 1e-12, 0);
    pw_cpu_vs_ref("permute (0,2,3,1) [4,64,48,48]", run_permute, NULL, &x, 1, 1e-12, 0);
    slice_args sl = {1, 5, -7};
    pw_cpu_vs_ref("slice axis 1 [4,64,48,48]", run_slice, &sl, &x, 1, 1e-12, 0);
    reduce_args all = {0, -1, 0}, ax1 = {1, 1, 1}, ax3 = {0, 3, 0};
    pw_cpu_vs_ref("sum all [4,64,48,48]", run_reduce, &all, &x, 1, 1e-6, 1e-6);
    pw_cpu_vs_ref("mean axis 1 [4,64,48,48]", run_reduce, &ax1, &x, 1, 1e-6, 1e-6);
    pw_cpu_vs_ref("sum axis 3 [4,64,48,48]", run_reduce, &ax3, &x, 1, 1e-6, 1e-6);
}
END_TEST

START_TEST(bad_axes_and_sizes_are_errors) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    int64_t s[3] = {2, 3, 4}, s2[3] = {2, 5, 4};
#define FRESH(shape) wb_ctx_tensor_zeros(&e.c, 3, shape)
    wb_tensor *ab[2] = {FRESH(s), FRESH(s2)};
    ck_assert_ptr_null(wb_op_concat(e.ctx, ab, 2, 2));
    pw_assert_error(&e, "concat: tensor 1 has shape [2, 5, 4] but tensor 0 has [2, 3, 4]", "axis 2");
    ab[0] = FRESH(s);
    ck_assert_ptr_null(wb_op_concat(e.ctx, ab, 1, 3));
    pw_assert_error(&e, "concat: axis 3 is out of range for a 3-D tensor", NULL);
    int64_t sizes[2] = {1, 1};
    wb_tensor *out[2];
    ck_assert_int_eq(wb_op_split(e.ctx, FRESH(s), 1, sizes, 2, out), WB_ERR_INVALID);
    pw_assert_error(&e, "split: sizes add up to 2 but axis 1 of [2, 3, 4] has 3", NULL);
    ck_assert_ptr_null(wb_op_slice(e.ctx, FRESH(s), -4, 0, 1));
    pw_assert_error(&e, "slice: axis -4 is out of range", NULL);
    int64_t bad[2] = {5, -1};
    ck_assert_ptr_null(wb_op_reshape(e.ctx, FRESH(s), 2, bad));
    pw_assert_error(&e, "reshape: cannot infer dim 1: 24 elements of [2, 3, 4] are not a multiple of 5", NULL);
    int64_t two[2] = {-1, -1};
    ck_assert_ptr_null(wb_op_reshape(e.ctx, FRESH(s), 2, two));
    pw_assert_error(&e, "reshape: dim 1 is -1", "at most one -1");
    int64_t wrong[2] = {5, 5};
    ck_assert_ptr_null(wb_op_reshape(e.ctx, FRESH(s), 2, wrong));
    pw_assert_error(&e, "reshape: [2, 3, 4] has 24 elements, the new shape 25", NULL);
    const int perm[3] = {0, 0, 1};
    ck_assert_ptr_null(wb_op_permute(e.ctx, FRESH(s), perm));
    pw_assert_error(&e, "permute: perm must hold each of 0..2 exactly once", "entry 1 is 0");
    ck_assert_ptr_null(wb_op_sum(e.ctx, FRESH(s), 3, 0));
    pw_assert_error(&e, "sum: axis 3 is out of range for [2, 3, 4]", "-1 for all");
#undef FRESH
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("shape");
    TCase *tc = tcase_create("shape");
    tcase_add_test(tc, shape_ops_parity_with_torch);
    tcase_add_test(tc, reductions_parity_with_torch);
    tcase_add_loop_test(tc, gradients_by_finite_differences, 0, 2);
    tcase_add_test(tc, reshape_is_a_view_with_its_own_gradient);
    tcase_add_loop_test(tc, empty_slice_flows_through, 0, 2);
    tcase_add_test(tc, cpu_matches_reference_on_large_input);
    tcase_add_test(tc, bad_axes_and_sizes_are_errors);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
