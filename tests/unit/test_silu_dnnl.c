/* SiLU on oneDNN's eltwise swish (the CPU backend's path from 4096 elements):
 * values and gradients against the formula in double precision over the
 * whole float range that matters, saturating tails included (|x| up to 100,
 * where exp overflows or the result is denormal), and no new primitive on a
 * second call of the same length. */
#include <math.h>
#include <stdlib.h>
#include "backends/cpu/dnnl_common.h"
#include "backends/cpu/silu_dnnl.h"
#include "wbtest.h"

enum { N = 40000 };

/* x from -100 to 100, denser near 0 where the curve bends. */
static float input(int i) {
    double t = -1.0 + 2.0 * i / (N - 1);
    return (float)(100.0 * t * t * t);
}

START_TEST(values_and_gradients_match_the_formula) {
    float *x = malloc(sizeof *x * N), *y = malloc(sizeof *y * N), *dy = malloc(sizeof *dy * N);
    float *dx = malloc(sizeof *dx * N);
    ck_assert(x && y && dy && dx);
    for (int i = 0; i < N; i++) x[i] = input(i), dy[i] = 0.5f + (float)(i % 7) * 0.25f;
    ck_assert(wb_silu_dnnl_forward(x, y, N));
    ck_assert(wb_silu_dnnl_backward(x, dy, dx, N));
    for (int i = 0; i < N; i++) {
        double v = x[i], s = 1.0 / (1.0 + exp(-v));
        double want_y = v * s, want_dx = dy[i] * s * (1.0 + v * (1.0 - s));
        ck_assert_msg(fabs(y[i] - want_y) <= 1e-7 + 1e-6 * fabs(want_y), "silu(%.9g) = %.9g, want %.9g", v, y[i],
                      want_y);
        ck_assert_msg(fabs(dx[i] - want_dx) <= 1e-7 + 1e-6 * fabs(want_dx), "silu'(%.9g) * %g = %.9g, want %.9g", v,
                      dy[i], dx[i], want_dx);
    }
    free(x), free(y), free(dy), free(dx);
}
END_TEST

START_TEST(second_call_of_a_length_creates_no_primitive) {
    float *x = calloc(N, sizeof *x), *y = malloc(sizeof *y * N);
    ck_assert(x && y);
    ck_assert(wb_silu_dnnl_forward(x, y, N - 1));
    uint64_t after_first = wb_dnnl_primitives_created();
    ck_assert(wb_silu_dnnl_forward(x, y, N - 1));
    ck_assert_uint_eq(wb_dnnl_primitives_created(), after_first);
    free(x), free(y);
}
END_TEST

int main(void) {
    Suite *s = suite_create("silu_dnnl");
    TCase *tc = tcase_create("silu_dnnl");
    tcase_add_test(tc, values_and_gradients_match_the_formula);
    tcase_add_test(tc, second_call_of_a_length_creates_no_primitive);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
