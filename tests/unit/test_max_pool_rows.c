/* The CPU max pool runs each plane in two passes (column maxima, then maxima
 * of those; row maxima first where the plane holds a NaN): its values and
 * argmax must be the reference's window-by-window loop's exactly, where it is
 * hardest to get right: many ties (the first maximum in row-major order wins,
 * -0 and +0 included: its sign is the first's) and NaNs (the last NaN wins),
 * over overlapping, strided, padded, ceil-mode and rectangular windows. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "backends/families.h"
#include "backends/kernels_dense.h"
#include "ops/ops.h"
#include "wbtest.h"

/* torch's output size, ceil_mode as pool.c computes it. */
static int64_t out_size(int64_t in, int k, int s, int p, int ceil_mode) {
    int64_t span = in + 2 * p - k;
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + p) o--; /* the last window must start inside input + left pad */
    return o;
}

/* Values from 4 levels, -1, -0, +0 and 1 (ties everywhere), and in every
 * other plane about 1 in 16 NaN: the NaN-free planes take the column-maxima
 * path, the others the row-maxima one. */
static void fill(float *x, int64_t planes, int64_t plane, uint64_t *rng) {
    static const float levels[4] = {-1.0f, -0.0f, 0.0f, 1.0f};
    for (int64_t i = 0; i < planes * plane; i++) {
        float u = wb_rng_uniform(rng);
        x[i] = (i / plane) % 2 && u < 0.0625f ? NAN : levels[(int)(u * 4.0f) & 3];
    }
}

START_TEST(max_pool_rows_match_reference) {
    /* kh, kw, sh, sw, ph, pw, ceil_mode */
    static const int cases[][7] = {
        {5, 5, 1, 1, 2, 2, 0}, /* yolov5's SPPF */
        {3, 3, 2, 2, 1, 1, 1}, /* ResNet's stem pool, ceil */
        {2, 2, 2, 2, 0, 0, 1},
        {5, 4, 3, 2, 2, 1, 1},
        {1, 3, 1, 1, 0, 1, 0},
        {4, 1, 2, 1, 2, 0, 0},
    };
    const wb_dense_kernels *cpu = wb_cpu_dense_kernels(), *ref = wb_ref_dense_kernels();
    uint64_t rng = 5;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const int *k = cases[c];
        wb_pool_args a = {.planes = 2 * 40, .ih = 13, .iw = c % 2 ? 17 : 38, .kh = k[0], .kw = k[1], .sh = k[2], .sw = k[3],
                          .ph = k[4], .pw = k[5]};
        a.oh = out_size(a.ih, a.kh, a.sh, a.ph, k[6]);
        a.ow = out_size(a.iw, a.kw, a.sw, a.pw, k[6]);
        int64_t n_in = a.planes * a.ih * a.iw, n_out = a.planes * a.oh * a.ow;
        float *x = malloc((size_t)n_in * sizeof *x), *y[2];
        int32_t *arg[2];
        fill(x, a.planes, a.ih * a.iw, &rng);
        for (int b = 0; b < 2; b++) {
            y[b] = malloc((size_t)n_out * sizeof(float));
            arg[b] = malloc((size_t)n_out * sizeof(int32_t));
            (b ? cpu : ref)->max_pool_forward(x, &a, y[b], arg[b]);
        }
        int64_t nans = 0;
        for (int64_t i = 0; i < n_out; i++) {
            ck_assert_msg(arg[1][i] == arg[0][i], "case %zu output %lld: argmax %d, reference %d", c, (long long)i,
                          arg[1][i], arg[0][i]);
            bool same = isnan(y[1][i]) ? isnan(y[0][i]) : y[1][i] == y[0][i] && !signbit(y[1][i]) == !signbit(y[0][i]);
            ck_assert_msg(same, "case %zu output %lld: %g, reference %g", c, (long long)i, y[1][i], y[0][i]);
            nans += isnan(y[0][i]);
        }
        fprintf(stderr, "  case %zu: %lld outputs (%lld NaN) equal with their argmax\n", c, (long long)n_out,
                (long long)nans);
        ck_assert_msg(nans > 0 && nans < n_out, "case %zu: the data must give NaN and number windows", c);
        for (int b = 0; b < 2; b++) free(y[b]), free(arg[b]);
        free(x);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("max_pool_rows");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, max_pool_rows_match_reference);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
