/* Launch geometry of the CUDA backend's elementwise kernels: 1-D grid-stride
 * loops over 64-bit indices, so sizes past 2^31 elements work and the grid
 * stays within the device limit. Plain C: the CPU tests check the edge sizes
 * (0 elements launch nothing). Kernels loop
 *   for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
 *        i += (int64_t)gridDim.x * blockDim.x)                                */
#ifndef WB_CORE_CUDA_LAUNCH_H
#define WB_CORE_CUDA_LAUNCH_H

#include <stdint.h>

#define WB_CUDA_BLOCK 256
/* Enough blocks to fill any current GPU many times over; more only adds
 * scheduling cost, the grid-stride loop covers the rest. */
#define WB_CUDA_MAX_BLOCKS 65536

/* Blocks for n elements: 0 when n <= 0 (the caller skips the launch). */
static inline unsigned wb_cuda_blocks(int64_t n) {
    if (n <= 0) return 0;
    int64_t b = n / WB_CUDA_BLOCK + (n % WB_CUDA_BLOCK != 0); /* n + BLOCK - 1 would overflow near INT64_MAX */
    return b > WB_CUDA_MAX_BLOCKS ? WB_CUDA_MAX_BLOCKS : (unsigned)b;
}

#endif
