/* upsample_nearest (factor and to-size) and resize_bilinear (align_corners
 * 0 and 1, up and down): torch parity of values and gradients on both
 * backends, finite differences on odd sizes, OpenMP against reference. */
#include "pointwise_testing.h"
#include "ops/ops.h"

typedef struct resize_args {
    int bilinear, factor, out_h, out_w, align_corners;
} resize_args;

static wb_tensor *run_resize(wb_ctx *ctx, wb_tensor *const *in, void *u) {
    const resize_args *r = u;
    if (r->bilinear) return wb_op_resize_bilinear(ctx, in[0], r->out_h, r->out_w, r->align_corners);
    return wb_op_upsample_nearest(ctx, in[0], r->factor, r->out_h, r->out_w);
}

static const char *const X[] = {"x"};
static const int SIZES[][2] = {{11, 13}, {3, 4}, {5, 7}, {1, 1}, {9, 2}};
#define N_SIZES (int)(sizeof SIZES / sizeof SIZES[0])

/* Nearest copies values: exact, gradients are sums of at most 9 terms.
 * Bilinear: torch computes the same float weights; products and sums of
 * up to 4 (forward) or ~12 (backward) terms in another order stay below
 * 1e-6 absolute for unit-normal data. */
START_TEST(nearest_parity_with_torch) {
    const wb_backend *bes[2] = {wb_backend_ref(), wb_backend_cpu()};
    for (int b = 0; b < 2; b++) {
        for (int f = 2; f <= 3; f++) {
            char name[64];
            snprintf(name, sizeof name, "pw_nearest_x%d", f);
            resize_args r = {0, f, 0, 0, 0};
            pw_parity(name, bes[b], run_resize, &r, X, 1, 1e-6, 1e-6);
        }
        const int sz[][2] = {{13, 10}, {3, 4}, {5, 14}, {1, 1}};
        for (int i = 0; i < 4; i++) {
            char name[64];
            snprintf(name, sizeof name, "pw_nearest_%dx%d", sz[i][0], sz[i][1]);
            resize_args r = {0, 0, sz[i][0], sz[i][1], 0};
            pw_parity(name, bes[b], run_resize, &r, X, 1, 1e-6, 1e-6);
        }
    }
}
END_TEST

START_TEST(bilinear_parity_with_torch) {
    const wb_backend *bes[2] = {wb_backend_ref(), wb_backend_cpu()};
    for (int b = 0; b < 2; b++)
        for (int ac = 0; ac <= 1; ac++) {
            char name[64];
            snprintf(name, sizeof name, "pw_bilinear_%dx%d_ac%d", SIZES[_i][0], SIZES[_i][1], ac);
            resize_args r = {1, 0, SIZES[_i][0], SIZES[_i][1], ac};
            pw_parity(name, bes[b], run_resize, &r, X, 1, 1e-6, 1e-5);
        }
}
END_TEST

START_TEST(gradients_by_finite_differences) {
    opcheck_input in = {.ndim = 4, .shape = {2, 3, 5, 7}, .lo = -1, .hi = 1, .grad = true};
    resize_args cases[] = {
        {0, 2, 0, 0, 0}, {0, 0, 8, 11, 0}, {0, 0, 3, 4, 0},
        {1, 0, 9, 13, 0}, {1, 0, 9, 13, 1}, {1, 0, 3, 4, 0}, {1, 0, 3, 4, 1},
    };
    for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
        opcheck_gradients(cases[i].bilinear ? "resize_bilinear" : "upsample_nearest", run_resize, &cases[i],
                          &in, 1, (opcheck_opts){.seed = (uint64_t)i + 1});
        opcheck_gradients(cases[i].bilinear ? "resize_bilinear cpu" : "upsample_nearest cpu", run_resize,
                          &cases[i], &in, 1, (opcheck_opts){.seed = (uint64_t)i + 1, .backend = wb_backend_cpu()});
    }
}
END_TEST

/* Same per-pixel formulas; only the accumulation order of the backward
 * scatter could differ (it does not: both walk each plane in order), so the
 * bound is float rounding of a handful of terms. */
START_TEST(cpu_matches_reference_on_large_input) {
    opcheck_input in = {.ndim = 4, .shape = {2, 256, 32, 32}, .lo = -1, .hi = 1, .grad = true};
    resize_args up2 = {0, 2, 0, 0, 0}, bil = {1, 0, 64, 64, 0}, bil_ac = {1, 0, 75, 51, 1};
    pw_cpu_vs_ref("upsample_nearest x2 [2,256,32,32]", run_resize, &up2, &in, 1, 1e-6, 1e-6);
    pw_cpu_vs_ref("resize_bilinear 64x64 [2,256,32,32]", run_resize, &bil, &in, 1, 1e-6, 1e-6);
    pw_cpu_vs_ref("resize_bilinear ac 75x51 [2,256,32,32]", run_resize, &bil_ac, &in, 1, 1e-6, 1e-6);
}
END_TEST

START_TEST(bad_arguments_are_errors) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    int64_t s3[3] = {2, 5, 7}, s4[4] = {1, 2, 5, 7};
    wb_tensor *x3 = wb_ctx_tensor_zeros(&e.c, 3, s3);
    ck_assert_ptr_null(wb_op_upsample_nearest(e.ctx, x3, 2, 0, 0));
    pw_assert_error(&e, "upsample_nearest: input must be 4-D", "[2, 5, 7]");
    wb_tensor *x4 = wb_ctx_tensor_zeros(&e.c, 4, s4);
    ck_assert_ptr_null(wb_op_upsample_nearest(e.ctx, x4, 0, 0, 0));
    pw_assert_error(&e, "upsample_nearest: factor must be >= 1", "got 0");
    x4 = wb_ctx_tensor_zeros(&e.c, 4, s4);
    ck_assert_ptr_null(wb_op_upsample_nearest(e.ctx, x4, 1, 10, 0));
    pw_assert_error(&e, "upsample_nearest: give both out_h and out_w", NULL);
    x4 = wb_ctx_tensor_zeros(&e.c, 4, s4);
    ck_assert_ptr_null(wb_op_resize_bilinear(e.ctx, x4, 0, 5, 0));
    pw_assert_error(&e, "resize_bilinear: output size 0 x 5 is out of range", NULL);
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("resize");
    TCase *tc = tcase_create("resize");
    tcase_add_test(tc, nearest_parity_with_torch);
    tcase_add_loop_test(tc, bilinear_parity_with_torch, 0, N_SIZES);
    tcase_add_test(tc, gradients_by_finite_differences);
    tcase_add_test(tc, cpu_matches_reference_on_large_input);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
