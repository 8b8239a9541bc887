/* Helpers of the test_cuda_math_* programs, which run the CUDA kernels'
 * WB_HD math on the host against the reference backend: data, comparisons,
 * and the host replay of segment_reduce.cu's block sums (level 1 of the
 * deterministic reductions, in the order segment_reduce.h states). */
#ifndef WB_TEST_CUDA_MATH_TESTING_H
#define WB_TEST_CUDA_MATH_TESTING_H

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "backends/cuda/segment_reduce.h"
#include "wbtest.h"

/* Uniform values in [lo, hi) from a 64-bit LCG (deterministic across runs). */
static inline float *cm_random(int64_t n, float lo, float hi, uint64_t *rng) {
    float *v = malloc((size_t)(n > 0 ? n : 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (int64_t i = 0; i < n; i++) {
        *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = lo + (hi - lo) * (float)((*rng >> 40) * 0x1.0p-24);
    }
    return v;
}

static inline float *cm_zeros(int64_t n) {
    float *v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);
    ck_assert_ptr_nonnull(v);
    return v;
}

/* Bit-for-bit equality (NaNs of the same payload included), naming the
 * first element that differs. */
static inline void cm_assert_identical(const char *what, const float *got, const float *want, int64_t n) {
    int64_t i = 0;
    while (i < n && memcmp(&got[i], &want[i], sizeof *got) == 0) i++;
    ck_assert_msg(i == n, "%s: element %lld is %.9g, expected %.9g (bit for bit)", what, (long long)i,
                  i < n ? (double)got[i] : 0.0, i < n ? (double)want[i] : 0.0);
}

static inline void cm_assert_same_ints(const char *what, const int32_t *got, const int32_t *want, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == want[i], "%s: element %lld is %d, expected %d", what, (long long)i, got[i], want[i]);
}

/* |got - want| <= atol + rtol * |want|, or both the same non-finite value. */
static inline void cm_assert_close(const char *what, const float *got, const float *want, int64_t n, double atol,
                                   double rtol) {
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(want[i]) || !isfinite(got[i])) {
            ck_assert_msg(memcmp(&got[i], &want[i], sizeof *got) == 0, "%s: element %lld is %.9g, expected %.9g",
                          what, (long long)i, (double)got[i], (double)want[i]);
            continue;
        }
        double d = fabs((double)got[i] - (double)want[i]);
        ck_assert_msg(d <= atol + rtol * fabs((double)want[i]),
                      "%s: element %lld is %.9g, expected %.9g (atol %g, rtol %g)", what, (long long)i, (double)got[i],
                      (double)want[i], atol, rtol);
    }
}

/* segment_reduce.cu's level 1 replayed: every block's threads sum their
 * share (wb_red_thread_sums), then the block halves its array of sums.
 * Statistics per segment / stat_div: mean_d (double) or mean_f and invstd_f
 * (the saved floats), NULL where the kind reads none. */
static inline double *cm_partials(const wb_segments *g, wb_red_kind kind, const float *x, const float *dy,
                                  const double *mean_d, const float *mean_f, const float *invstd_f) {
    int64_t chunks = wb_segment_chunks(g);
    double *partials = malloc((size_t)(g->count * chunks > 0 ? g->count * chunks : 1) * 2 * sizeof *partials);
    ck_assert_ptr_nonnull(partials);
    double v0[WB_RED_THREADS], v1[WB_RED_THREADS];
    for (int64_t s = 0; s < g->count; s++) {
        int64_t st = s / g->stat_div;
        double m = mean_d ? mean_d[st] : (mean_f ? (double)mean_f[st] : 0.0);
        double r = invstd_f ? (double)invstd_f[st] : 0.0;
        for (int64_t c = 0; c < chunks; c++) {
            for (int t = 0; t < WB_RED_THREADS; t++) {
                v0[t] = v1[t] = 0.0;
                wb_red_thread_sums(g, kind, x, dy, m, r, s, c, t, &v0[t], &v1[t]);
            }
            for (int w = WB_RED_THREADS / 2; w > 0; w >>= 1)
                for (int t = 0; t < w; t++) {
                    v0[t] += v0[t + w];
                    v1[t] += v1[t + w];
                }
            partials[(s * chunks + c) * 2] = v0[0];
            partials[(s * chunks + c) * 2 + 1] = v1[0];
        }
    }
    return partials;
}

#endif
