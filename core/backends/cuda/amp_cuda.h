/* The CUDA backend's mixed precision (amp = "bf16" or "fp16"): the
 * convolutions and matrix products take 16-bit copies of their fp32 inputs
 * (made by amp_convert.cu into scratch) and accumulate in fp32; everything
 * else, and the master weights, stays fp32. cuda_module.c swaps these
 * tables in when the core opens the module with an amp choice. */
#ifndef WB_CORE_CUDA_AMP_CUDA_H
#define WB_CORE_CUDA_AMP_CUDA_H

#include <stdint.h>
#include "../backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum wb_cuda_amp { WB_CUDA_AMP_BF16 = 0, WB_CUDA_AMP_F16 = 1 } wb_cuda_amp;

/* n floats to 16-bit values in `format` (round to nearest even, amp_math.h),
 * and back; on the compute stream. */
void wb_cuda_amp_narrow(wb_cuda_amp format, const float *src, uint16_t *dst, int64_t n);
void wb_cuda_amp_widen(wb_cuda_amp format, const uint16_t *src, float *dst, int64_t n);

/* conv2d with 16-bit x, w and dy, fp32 accumulation; y, dx and dw come back
 * as fp32 after one rounding to the 16-bit format (cuDNN's legacy API keeps
 * a convolution's tensors in one type); bias and its gradient in fp32. */
const wb_conv_kernels *wb_cuda_amp_conv_kernels(wb_cuda_amp format); /* amp_conv_cudnn.c */

/* The dense table's gemm with 16-bit operands, fp32 accumulation and an
 * fp32 C (cublasGemmEx, CUBLAS_COMPUTE_32F). */
typedef void (*wb_cuda_gemm_fn)(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                                const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                                int64_t ldc);
wb_cuda_gemm_fn wb_cuda_amp_gemm(wb_cuda_amp format); /* amp_gemm_cublas.c */

#ifdef __cplusplus
}
#endif

#endif
