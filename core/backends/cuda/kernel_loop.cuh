/* What the CUDA kernel files of the dense, gather and norm families share:
 * the grid-stride loop of cuda_launch.h and launches on the compute stream
 * that skip empty work. */
#ifndef WB_CORE_CUDA_KERNEL_LOOP_CUH
#define WB_CORE_CUDA_KERNEL_LOOP_CUH

#include "cuda_context.h"
#include "cuda_launch.h"

#define WB_CUDA_FOR_EACH(i, n)                                                              \
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < (n);               \
         i += (int64_t)gridDim.x * blockDim.x)

/* kernel<<<blocks for n, WB_CUDA_BLOCK>>>(args...) on the compute stream; nothing for n <= 0. */
template <typename... Params, typename... Args>
static void wb_cuda_launch(void (*kernel)(Params...), int64_t n, Args... args) {
    unsigned blocks = wb_cuda_blocks(n);
    if (blocks == 0) return;
    kernel<<<blocks, WB_CUDA_BLOCK, 0, wb_cuda_compute_stream()>>>(args...);
    WB_CUDA_CHECK(cudaGetLastError());
}

/* Scratch that must exist: a kernel with nowhere to put its partial sums
 * cannot do its job. */
static inline void *wb_cuda_scratch_or_fail(size_t bytes, const char *what) {
    void *p = wb_cuda_scratch_alloc(bytes);
    if (!p && bytes > 0) wb_cuda_fail(what, "out of device memory for scratch", __FILE__, __LINE__);
    return p;
}

#endif
