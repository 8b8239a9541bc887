/* amp = "bf16" kernels (conv2d forward, backward data, backward weights and
 * gemm) against the fp32 reference kernels, element by element, within the
 * error bfloat16 inputs can cause and no more:
 *
 * Each input is rounded to bf16 (8-bit significand: relative error at most
 * u = 2^-8), so each product a*b carries at most (2u + u^2)|a||b| of error;
 * oneDNN sums the products in fp32, adding at most K * 2^-24 of the sum of
 * their magnitudes for a K-long dot product. So element i may differ from the
 * exact fp32 result by
 *     (2u + u^2) * A_i + K * 2^-24 * (A_i + |bias|),
 * A_i being the same kernel run on |inputs| (the sum of |a||b| that feeds it).
 * A kernel that silently ran in fp32 would differ by ~1e-6 of A_i: each test
 * also requires the largest relative error to exceed 2^-16, far above fp32's
 * and far below bf16's typical ~1e-4. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "backends/cpu/amp_bf16.h"
#include "backends/cpu/dnnl_common.h"
#include "backends/families.h"
#include "backends/kernels_conv.h"
#include "backends/ref/dense_ref.h"
#include "wbtest.h"

#define U_BF16 (1.0 / 256.0)
#define U_FP32 (1.0 / 16777216.0)
#define MIN_BF16_ERROR (1.0 / 65536.0)

static float *random_array(int64_t n, uint64_t *rng) {
    float *a = malloc(sizeof *a * (size_t)(n > 0 ? n : 1));
    ck_assert(a);
    for (int64_t i = 0; i < n; i++) a[i] = 2.0f * wb_rng_uniform(rng) - 1.0f;
    return a;
}

static float *abs_copy(const float *a, int64_t n) {
    float *b = malloc(sizeof *b * (size_t)(n > 0 ? n : 1));
    ck_assert(b);
    for (int64_t i = 0; i < n; i++) b[i] = fabsf(a[i]);
    return b;
}

/* got vs want against the bound above; mag = the kernel on |inputs|,
 * bias_mag = |bias| of the element's channel or 0. Returns the largest error
 * relative to mag. */
static double check_bound(const char *what, const float *got, const float *want, const float *mag, int64_t n,
                          int64_t k, const float *bias, int64_t bias_period, int64_t bias_n) {
    double worst = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double b = bias ? fabs(bias[(i / bias_period) % bias_n]) : 0.0;
        double bound = (2 * U_BF16 + U_BF16 * U_BF16) * mag[i] + (double)k * U_FP32 * (mag[i] + b) + 1e-30;
        double err = fabs((double)got[i] - (double)want[i]);
        ck_assert_msg(err <= bound, "%s: element %lld is %.8g, fp32 gives %.8g: error %.3g over the bf16 bound %.3g",
                      what, (long long)i, (double)got[i], (double)want[i], err, bound);
        if (mag[i] > 0) worst = fmax(worst, err / mag[i]);
    }
    ck_assert_msg(worst > MIN_BF16_ERROR,
                  "%s: largest error %.3g of the magnitudes: no bfloat16 rounding seen (ran in fp32?)", what, worst);
    return worst;
}

typedef struct conv_case {
    const char *name;
    int64_t n, c_in, h, w, c_out, k, stride, pad, groups;
    int bias;
} conv_case;

static const conv_case CASES[] = {
    {"3x3 s1 bias", 2, 32, 20, 20, 48, 3, 1, 1, 1, 1},
    {"1x1", 2, 64, 12, 12, 40, 1, 1, 0, 1, 0},
    {"3x3 s2", 1, 24, 17, 15, 32, 3, 2, 1, 1, 1},
    {"6x6 s2 stem", 1, 3, 32, 32, 16, 6, 2, 2, 1, 0},
    {"3x3 grouped", 2, 32, 10, 10, 32, 3, 1, 1, 4, 1},
};

static wb_conv_shape shape_of(const conv_case *cc) {
    wb_conv_shape s = {.n = cc->n, .c_in = cc->c_in, .h_in = cc->h, .w_in = cc->w, .c_out = cc->c_out,
                       .k_h = cc->k, .k_w = cc->k, .stride_h = cc->stride, .stride_w = cc->stride,
                       .pad_h = cc->pad, .pad_w = cc->pad, .dil_h = 1, .dil_w = 1, .groups = cc->groups};
    s.h_out = (s.h_in + 2 * s.pad_h - s.k_h) / s.stride_h + 1;
    s.w_out = (s.w_in + 2 * s.pad_w - s.k_w) / s.stride_w + 1;
    return s;
}

START_TEST(conv_passes_within_the_bf16_bound) {
    const conv_case *cc = &CASES[_i];
    const wb_conv_kernels *bf = wb_cpu_conv_bf16_kernels(), *ref = wb_ref_conv_kernels();
    wb_conv_shape s = shape_of(cc);
    int64_t nx = s.n * s.c_in * s.h_in * s.w_in, ny = s.n * s.c_out * s.h_out * s.w_out;
    int64_t nw = s.c_out * (s.c_in / s.groups) * s.k_h * s.k_w, k = (s.c_in / s.groups) * s.k_h * s.k_w;
    uint64_t rng = 1234 + (uint64_t)_i;
    float *x = random_array(nx, &rng), *w = random_array(nw, &rng), *dy = random_array(ny, &rng);
    float *b = cc->bias ? random_array(s.c_out, &rng) : NULL;
    float *ax = abs_copy(x, nx), *aw = abs_copy(w, nw), *ady = abs_copy(dy, ny);
    float *got = malloc(sizeof *got * (size_t)(nx + ny + nw)), *want = malloc(sizeof *want * (size_t)(nx + ny + nw));
    float *mag = malloc(sizeof *mag * (size_t)(nx + ny + nw));
    float gdb[64], wdb[64], mdb[64];
    ck_assert(got && want && mag && s.c_out <= 64);
    char what[96];
    double e;

    ck_assert_int_eq(bf->forward(&s, x, w, b, got), WB_OK);
    ck_assert_int_eq(ref->forward(&s, x, w, b, want), WB_OK);
    ck_assert_int_eq(ref->forward(&s, ax, aw, NULL, mag), WB_OK);
    snprintf(what, sizeof what, "%s forward", cc->name);
    e = check_bound(what, got, want, mag, ny, k, b, s.h_out * s.w_out, s.c_out);
    printf("%-14s forward         largest error %.2e of sum|x||w|\n", cc->name, e);

    ck_assert_int_eq(bf->backward_data(&s, dy, w, got), WB_OK);
    ck_assert_int_eq(ref->backward_data(&s, dy, w, want), WB_OK);
    ck_assert_int_eq(ref->backward_data(&s, ady, aw, mag), WB_OK);
    snprintf(what, sizeof what, "%s backward data", cc->name);
    e = check_bound(what, got, want, mag, nx, s.c_out / s.groups * s.k_h * s.k_w, NULL, 1, 1);
    printf("%-14s backward data   largest error %.2e of sum|dy||w|\n", cc->name, e);

    ck_assert_int_eq(bf->backward_weights(&s, x, dy, got, b ? gdb : NULL), WB_OK);
    ck_assert_int_eq(ref->backward_weights(&s, x, dy, want, b ? wdb : NULL), WB_OK);
    ck_assert_int_eq(ref->backward_weights(&s, ax, ady, mag, b ? mdb : NULL), WB_OK);
    snprintf(what, sizeof what, "%s backward weights", cc->name);
    int64_t kw = s.n * s.h_out * s.w_out;
    e = check_bound(what, got, want, mag, nw, kw, NULL, 1, 1);
    printf("%-14s backward weights largest error %.2e of sum|x||dy|\n", cc->name, e);
    if (b) { /* db = sum of dy: one bf16 rounding per term, so the same bound holds */
        snprintf(what, sizeof what, "%s bias gradient", cc->name);
        for (int64_t i = 0; i < s.c_out; i++) {
            double bound = (2 * U_BF16 + U_BF16 * U_BF16) * mdb[i] + (double)kw * U_FP32 * mdb[i] + 1e-30;
            ck_assert_msg(fabs(gdb[i] - wdb[i]) <= bound, "%s: channel %lld is %.8g, fp32 gives %.8g", what,
                          (long long)i, (double)gdb[i], (double)wdb[i]);
        }
    }
    free(x), free(w), free(dy), free(b), free(ax), free(aw), free(ady), free(got), free(want), free(mag);
}
END_TEST

/* C = op(A) op(B) with every transpose combination and row strides wider than the rows. */
START_TEST(gemm_within_the_bf16_bound) {
    int ta = _i & 1, tb = (_i >> 1) & 1;
    int64_t m = 37, n = 45, k = 300;
    int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
    int64_t na = (ta ? k : m) * lda, nb = (tb ? n : k) * ldb, nc = m * ldc;
    uint64_t rng = 99 + (uint64_t)_i;
    float *a = random_array(na, &rng), *b = random_array(nb, &rng);
    float *aa = abs_copy(a, na), *ab = abs_copy(b, nb);
    float *got = calloc((size_t)nc, sizeof *got), *want = calloc((size_t)nc, sizeof *want);
    float *mag = calloc((size_t)nc, sizeof *mag);
    ck_assert(got && want && mag);
    wb_cpu_gemm_bf16(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, got, ldc);
    wb_ref_gemm(ta, tb, m, n, k, 1.0f, a, lda, b, ldb, 0.0f, want, ldc);
    wb_ref_gemm(ta, tb, m, n, k, 1.0f, aa, lda, ab, ldb, 0.0f, mag, ldc);
    /* the padding columns of C stay untouched (calloc'd zeros on every side) */
    for (int64_t r = 0; r < m; r++)
        for (int64_t j = n; j < ldc; j++) ck_assert_float_eq(got[r * ldc + j], 0.0f);
    char what[64];
    snprintf(what, sizeof what, "gemm trans_a %d trans_b %d", ta, tb);
    double e = check_bound(what, got, want, mag, nc, k, NULL, 1, 1);
    printf("%s largest error %.2e of sum|a||b|\n", what, e);
    free(a), free(b), free(aa), free(ab), free(got), free(want), free(mag);
}
END_TEST

START_TEST(second_call_creates_no_primitive) {
    const conv_case *cc = &CASES[0];
    wb_conv_shape s = shape_of(cc);
    int64_t nx = s.n * s.c_in * s.h_in * s.w_in, ny = s.n * s.c_out * s.h_out * s.w_out;
    int64_t nw = s.c_out * s.c_in * s.k_h * s.k_w;
    uint64_t rng = 5;
    float *x = random_array(nx, &rng), *w = random_array(nw, &rng), *y = random_array(ny, &rng);
    float *a = random_array(40 * 50, &rng), *c = random_array(40 * 40, &rng);
    const wb_conv_kernels *bf = wb_cpu_conv_bf16_kernels();
    ck_assert_int_eq(bf->forward(&s, x, w, NULL, y), WB_OK);
    wb_cpu_gemm_bf16(0, 1, 40, 40, 50, 1.0f, a, 50, a, 50, 0.0f, c, 40);
    uint64_t after_first = wb_dnnl_primitives_created();
    ck_assert_int_eq(bf->forward(&s, x, w, NULL, y), WB_OK);
    wb_cpu_gemm_bf16(0, 1, 40, 40, 50, 1.0f, a, 50, a, 50, 0.0f, c, 40);
    ck_assert_uint_eq(wb_dnnl_primitives_created(), after_first);
    free(x), free(w), free(y), free(a), free(c);
}
END_TEST

int main(void) {
    char why[320];
    if (!wb_backend_cpu_bf16(why, sizeof why)) {
        printf("skipped: %s\n", why);
        return 77;
    }
    Suite *s = suite_create("bf16_kernels");
    TCase *tc = tcase_create("bf16_kernels");
    tcase_add_loop_test(tc, conv_passes_within_the_bf16_bound, 0, (int)(sizeof CASES / sizeof *CASES));
    tcase_add_loop_test(tc, gemm_within_the_bf16_bound, 0, 4);
    tcase_add_test(tc, second_call_creates_no_primitive);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
