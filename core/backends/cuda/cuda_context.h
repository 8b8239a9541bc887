/* What every kernel file of the CUDA backend shares with the module's
 * runtime (cuda_module.c, cuda_allocator.c): the compute stream all kernels
 * are launched on (in order, so the tape's order is the device's order),
 * short-lived scratch from the caching allocator, stream-ordered on that
 * stream, and the error check. */
#ifndef WB_CORE_CUDA_CONTEXT_H
#define WB_CORE_CUDA_CONTEXT_H

#include <stddef.h>
#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

cudaStream_t wb_cuda_compute_stream(void);
/* Scratch (cuDNN workspaces, reduction partials): freed blocks are reused by
 * later launches on the compute stream without synchronising. */
void *wb_cuda_scratch_alloc(size_t bytes);
void wb_cuda_scratch_free(void *ptr, size_t bytes);
/* A failed CUDA, cuBLAS or cuDNN call is a bug or a lost device: report what
 * failed where and end the process (exit 1). */
void wb_cuda_fail(const char *what, const char *detail, const char *file, int line);
#define WB_CUDA_CHECK(call)                                                                    \
    do {                                                                                       \
        cudaError_t wb_cuda_err_ = (call);                                                     \
        if (wb_cuda_err_ != cudaSuccess)                                                       \
            wb_cuda_fail(#call, cudaGetErrorString(wb_cuda_err_), __FILE__, __LINE__);         \
    } while (0)

/* TF32 tensor-core math for fp32 convolutions and matrix products: off by
 * default, so fp32 results match the CPU's to fp32 rounding; the conv and
 * matmul files ask before choosing their math mode. */
int wb_cuda_tf32(void);
void wb_cuda_set_tf32(int on);

#ifdef __cplusplus
}
#endif

#endif
