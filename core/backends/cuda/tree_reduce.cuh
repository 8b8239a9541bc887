/* The device side of tree_reduce.h, for the CUDA kernel files (C++):
 * wb_tree_sum(segments, len, term, finish) with functors
 *   __device__ double term(int64_t segment, int64_t k) const;
 *   __device__ void finish(int64_t segment, double sum) const;
 * launched on the compute stream; pass-1 partial sums live in scratch. */
#ifndef WB_CORE_CUDA_TREE_REDUCE_CUH
#define WB_CORE_CUDA_TREE_REDUCE_CUH

#include "kernel_loop.cuh"
#include "tree_reduce.h"

template <class Term, class Finish>
__global__ void wb_tree_per_thread(int64_t segments, int64_t len, Term term, Finish finish) {
    WB_CUDA_FOR_EACH(j, segments) {
        double acc = 0.0;
        for (int64_t k = 0; k < len; k++) acc += term(j, k);
        finish(j, acc);
    }
}

/* Work item w = segment * chunks + c; finish gets w (the segment when chunks is 1). */
template <class Term, class Finish>
__global__ void wb_tree_blocks(int64_t segments, int64_t len, int64_t chunk_len, int64_t chunks, Term term,
                               Finish finish) {
    __shared__ double s[WB_TREE_BLOCK];
    int t = threadIdx.x;
    for (int64_t w = blockIdx.x; w < segments * chunks; w += gridDim.x) {
        int64_t seg = w / chunks, c = w % chunks;
        double acc = 0.0;
        for (int64_t m = 0; m < chunk_len / WB_TREE_BLOCK; m++) {
            int64_t k = wb_tree_index(c, chunk_len, t, m);
            if (k < len) acc += term(seg, k);
        }
        s[t] = acc;
        __syncthreads();
        for (int half = WB_TREE_BLOCK / 2; half > 0; half >>= 1) {
            wb_tree_fold(s, t, half);
            __syncthreads();
        }
        if (t == 0) finish(w, s[0]);
        __syncthreads(); /* s is reused by the next work item */
    }
}

struct wb_tree_store {
    double *partial;
    __device__ void operator()(int64_t w, double sum) const { partial[w] = sum; }
};

struct wb_tree_partials {
    const double *partial;
    int64_t chunks;
    __device__ double operator()(int64_t seg, int64_t k) const { return partial[seg * chunks + k]; }
};

/* The usual finish: y[segment] = scale * sum, rounded to float. */
struct wb_tree_store_float {
    float *y;
    float scale;
    __device__ void operator()(int64_t j, double sum) const { y[j] = (float)(scale * sum); }
};

static inline unsigned wb_tree_grid(int64_t work) {
    return work > WB_CUDA_MAX_BLOCKS ? WB_CUDA_MAX_BLOCKS : (unsigned)work;
}

template <class Term, class Finish>
static void wb_tree_sum(int64_t segments, int64_t len, Term term, Finish finish) {
    if (segments <= 0) return;
    wb_tree_plan p = wb_tree_plan_of(segments, len);
    cudaStream_t st = wb_cuda_compute_stream();
    if (p.chunks == 0) {
        wb_tree_per_thread<<<wb_cuda_blocks(segments), WB_CUDA_BLOCK, 0, st>>>(segments, len, term, finish);
        WB_CUDA_CHECK(cudaGetLastError());
        return;
    }
    if (p.chunks == 1) {
        wb_tree_blocks<<<wb_tree_grid(segments), WB_TREE_BLOCK, 0, st>>>(segments, len, WB_TREE_CHUNK, 1, term,
                                                                          finish);
        WB_CUDA_CHECK(cudaGetLastError());
        return;
    }
    size_t bytes = (size_t)(segments * p.chunks) * sizeof(double);
    double *partial = (double *)wb_cuda_scratch_alloc(bytes);
    wb_tree_blocks<<<wb_tree_grid(segments * p.chunks), WB_TREE_BLOCK, 0, st>>>(
        segments, len, WB_TREE_CHUNK, p.chunks, term, wb_tree_store{partial});
    WB_CUDA_CHECK(cudaGetLastError());
    wb_tree_blocks<<<wb_tree_grid(segments), WB_TREE_BLOCK, 0, st>>>(
        segments, p.chunks, wb_tree_whole(p.chunks), 1, wb_tree_partials{partial, p.chunks}, finish);
    WB_CUDA_CHECK(cudaGetLastError());
    /* Stream-ordered: later work on the compute stream may reuse it, after pass 2. */
    wb_cuda_scratch_free(partial, bytes);
}

#endif
