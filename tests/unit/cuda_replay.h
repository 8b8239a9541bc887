/* Helpers of test_cuda_math_pointwise/_loss/_optim: they run the CUDA
 * kernels' WB_HD code on the CPU exactly as a launch would (the grid-stride
 * loop of cuda_launch.h's geometry, the block structure and fold order of
 * cuda/tree_reduce.h) so it can be compared with the reference backend.
 * No CUDA needed. */
#ifndef WB_TEST_CUDA_REPLAY_H
#define WB_TEST_CUDA_REPLAY_H

#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "backends/cuda/cuda_launch.h"
#include "backends/cuda/tree_reduce.h"

/* Every index a launch over n elements visits, in thread order: block b,
 * thread t, then its grid-stride steps. */
typedef void (*cr_body)(void *ctx, int64_t i);

static inline void cr_grid(int64_t n, cr_body body, void *ctx) {
    int64_t blocks = wb_cuda_blocks(n), stride = blocks * WB_CUDA_BLOCK;
    for (int64_t b = 0; b < blocks; b++)
        for (int64_t t = 0; t < WB_CUDA_BLOCK; t++)
            for (int64_t i = b * WB_CUDA_BLOCK + t; i < n; i += stride) body(ctx, i);
}

/* Term k of segment j of a reduction. */
typedef double (*cr_term)(const void *ctx, int64_t j, int64_t k);

/* One block's sum over chunk c of segment seg (tree_reduce.cuh's wb_tree_blocks). */
static inline double cr_block(cr_term term, const void *ctx, int64_t seg, int64_t c, int64_t chunk_len,
                              int64_t len) {
    double s[WB_TREE_BLOCK];
    for (int t = 0; t < WB_TREE_BLOCK; t++) {
        double acc = 0.0;
        for (int64_t m = 0; m < chunk_len / WB_TREE_BLOCK; m++) {
            int64_t k = wb_tree_index(c, chunk_len, t, m);
            if (k < len) acc += term(ctx, seg, k);
        }
        s[t] = acc;
    }
    /* A level's writes (s[t], t < half) never touch its reads (s[t + half]),
     * so any thread order within a level gives the device's result. */
    for (int half = WB_TREE_BLOCK / 2; half > 0; half >>= 1)
        for (int t = 0; t < WB_TREE_BLOCK; t++) wb_tree_fold(s, t, half);
    return s[0];
}

typedef struct cr_partials {
    const double *partial;
    int64_t chunks;
} cr_partials;

static inline double cr_partial_term(const void *ctx, int64_t j, int64_t k) {
    const cr_partials *p = (const cr_partials *)ctx;
    return p->partial[j * p->chunks + k];
}

/* wb_tree_sum on the host: out[j] = the double sum the device forms. */
static inline void cr_tree(int64_t segments, int64_t len, cr_term term, const void *ctx, double *out) {
    wb_tree_plan p = wb_tree_plan_of(segments, len);
    if (p.chunks == 0) {
        for (int64_t j = 0; j < segments; j++) {
            double acc = 0.0;
            for (int64_t k = 0; k < len; k++) acc += term(ctx, j, k);
            out[j] = acc;
        }
        return;
    }
    double *partial = (double *)malloc((size_t)(segments * p.chunks) * sizeof *partial);
    ck_assert_ptr_nonnull(partial);
    for (int64_t w = 0; w < segments * p.chunks; w++)
        partial[w] = cr_block(term, ctx, w / p.chunks, w % p.chunks, WB_TREE_CHUNK, len);
    cr_partials pp = {partial, p.chunks};
    for (int64_t j = 0; j < segments; j++)
        out[j] = p.chunks == 1 ? partial[j]
                               : cr_block(cr_partial_term, &pp, j, 0, wb_tree_whole(p.chunks), p.chunks);
    free(partial);
}

/* Deterministic test data: uniform in [lo, hi). */
static inline float cr_uniform(uint64_t *state, float lo, float hi) {
    *state = *state * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (float)((*state >> 40) * 0x1.0p-24);
}

static inline float *cr_random(int64_t n, float lo, float hi, uint64_t seed) {
    float *x = (float *)malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < n; i++) x[i] = cr_uniform(&seed, lo, hi);
    return x;
}

/* The same value: NaN matches NaN, and -0 matches 0 (a reference kernel
 * that adds into a zeroed buffer turns a -0 gradient into 0). */
static inline int cr_same(float a, float b) { return a == b || (isnan(a) && isnan(b)); }

/* Per-element checks call ck_abort_msg only on a failure: every passing
 * ck_assert records its location through Check's pipe, which costs more
 * than the math under test. */
static inline void cr_assert_same(const char *what, const float *got, const float *want, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!cr_same(got[i], want[i]))
            ck_abort_msg("%s: element %lld is %.9g, the reference says %.9g", what, (long long)i, (double)got[i],
                         (double)want[i]);
}

/* Distance in units in the last place between two finite floats. */
static inline int64_t cr_ulps(float a, float b) {
    int32_t ia, ib;
    memcpy(&ia, &a, sizeof ia);
    memcpy(&ib, &b, sizeof ib);
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia, lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return la > lb ? la - lb : lb - la;
}

#endif
