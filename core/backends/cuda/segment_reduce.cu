/* Level 1 of the segment sums: one block per (segment, chunk), each thread's
 * share from wb_red_thread_sums, then a fixed halving tree in shared memory
 * (the order segment_reduce.h states). Blocks beyond the grid limit are
 * covered by a block-stride loop. */
#include "cuda_context.h"
#include "cuda_launch.h"
#include "segment_reduce_cuda.h"

namespace {

template <typename Stat>
__global__ void partials_kernel(wb_segments g, wb_red_kind kind, const float *x, const float *dy, const Stat *mean,
                                const float *invstd, double *partials) {
    __shared__ double v0[WB_RED_THREADS], v1[WB_RED_THREADS];
    int t = (int)threadIdx.x;
    int64_t chunks = wb_segment_chunks(&g), blocks = g.count * chunks;
    for (int64_t b = blockIdx.x; b < blocks; b += gridDim.x) {
        int64_t s = b / chunks, c = b % chunks;
        double m = mean ? (double)mean[s / g.stat_div] : 0.0;
        double r = invstd ? (double)invstd[s / g.stat_div] : 0.0;
        double t0 = 0.0, t1 = 0.0;
        wb_red_thread_sums(&g, kind, x, dy, m, r, s, c, t, &t0, &t1);
        v0[t] = t0;
        v1[t] = t1;
        __syncthreads();
        for (int w = WB_RED_THREADS / 2; w > 0; w >>= 1) {
            if (t < w) {
                v0[t] += v0[t + w];
                v1[t] += v1[t + w];
            }
            __syncthreads();
        }
        if (t == 0) {
            partials[b * 2] = v0[0];
            partials[b * 2 + 1] = v1[0];
        }
        /* v0/v1 are refilled by the next block of this loop. */
        __syncthreads();
    }
}

template <typename Stat>
void launch(const wb_segments *g, wb_red_kind kind, const float *x, const float *dy, const Stat *mean,
            const float *invstd, double *partials) {
    int64_t blocks = g->count * wb_segment_chunks(g);
    if (blocks <= 0) return;
    unsigned grid = blocks > WB_CUDA_MAX_BLOCKS ? WB_CUDA_MAX_BLOCKS : (unsigned)blocks;
    partials_kernel<Stat><<<grid, WB_RED_THREADS, 0, wb_cuda_compute_stream()>>>(*g, kind, x, dy, mean, invstd,
                                                                                   partials);
    WB_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

extern "C" void wb_cuda_segment_sums(const wb_segments *g, const float *x, double *partials) {
    launch<double>(g, WB_RED_SUM, x, nullptr, nullptr, nullptr, partials);
}

extern "C" void wb_cuda_segment_sqdev(const wb_segments *g, const float *x, const double *mean, double *partials) {
    launch<double>(g, WB_RED_SQDEV, x, nullptr, mean, nullptr, partials);
}

extern "C" void wb_cuda_segment_grad_sums(const wb_segments *g, const float *dy, const float *x, const float *mean,
                                          const float *invstd, double *partials) {
    launch<float>(g, WB_RED_DY_XHAT, x, dy, mean, invstd, partials);
}
