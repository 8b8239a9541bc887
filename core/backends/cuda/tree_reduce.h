/* The summation order of every CUDA reduction (sum, reduce_sum, gradients of
 * broadcast operands, sum_squares): `segments` independent sums of `len`
 * terms each, accumulated in double in an order fixed by the shape alone,
 * so results never depend on scheduling and no float atomics are needed.
 *   Short segments, or so many that they fill the GPU: one thread sums one
 *     segment, terms in order.
 *   Otherwise pass 1: one block sums a chunk of WB_TREE_CHUNK terms of a
 *     segment. Thread t adds terms t, t + WB_TREE_BLOCK, ... of the chunk in
 *     order, then the block folds its sums pairwise (s[t] += s[t + half],
 *     half = WB_TREE_BLOCK / 2 down to 1).
 *   Pass 2, when a segment has several chunks: one block per segment sums
 *     the chunk sums the same way, as a single chunk.
 * Plain C with WB_HD: tree_reduce.cuh runs it on the device, the CPU tests
 * replay it on the host. */
#ifndef WB_CORE_CUDA_TREE_REDUCE_H
#define WB_CORE_CUDA_TREE_REDUCE_H

#include <stdint.h>
#include "../hd.h"

#define WB_TREE_BLOCK 256 /* threads per block, a power of two */
#define WB_TREE_CHUNK (16 * WB_TREE_BLOCK)
#define WB_TREE_SHORT 32    /* at most this many terms: one thread per segment */
#define WB_TREE_MANY 16384  /* at least this many segments: one thread per segment */

typedef struct wb_tree_plan {
    int64_t segments, len;
    int64_t chunks; /* pass-1 chunks per segment; 0: one thread per segment */
} wb_tree_plan;

static inline wb_tree_plan wb_tree_plan_of(int64_t segments, int64_t len) {
    wb_tree_plan p = {segments, len, 0};
    if (len > WB_TREE_SHORT && segments < WB_TREE_MANY) p.chunks = (len + WB_TREE_CHUNK - 1) / WB_TREE_CHUNK;
    return p;
}

/* Chunk length of pass 2: all chunk sums of a segment, whole block steps. */
static inline int64_t wb_tree_whole(int64_t n) {
    return (n + WB_TREE_BLOCK - 1) / WB_TREE_BLOCK * WB_TREE_BLOCK;
}

/* The term thread t adds in step m of chunk c (chunk_len a multiple of
 * WB_TREE_BLOCK); the caller skips it when it is >= len. */
static inline WB_HD int64_t wb_tree_index(int64_t c, int64_t chunk_len, int t, int64_t m) {
    return c * chunk_len + t + m * WB_TREE_BLOCK;
}

/* One thread's share of one level of the block's fold. */
static inline WB_HD void wb_tree_fold(double *s, int t, int half) {
    if (t < half) s[t] += s[t + half];
}

#endif
