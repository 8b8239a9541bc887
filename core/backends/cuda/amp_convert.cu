/* amp's conversions between fp32 and the 16-bit formats, one element per
 * loop step; the rounding is amp_math.h's, the code test_cuda_math_amp
 * checks against torch on the CPU. */
#include "amp_cuda.h"
#include "amp_math.h"
#include "kernel_loop.cuh"

__global__ static void narrow_bf16(const float *src, uint16_t *dst, int64_t n) {
    WB_CUDA_FOR_EACH(i, n) dst[i] = wb_amp_to_bf16(src[i]);
}

__global__ static void narrow_half(const float *src, uint16_t *dst, int64_t n) {
    WB_CUDA_FOR_EACH(i, n) dst[i] = wb_amp_to_half(src[i]);
}

__global__ static void widen_bf16(const uint16_t *src, float *dst, int64_t n) {
    WB_CUDA_FOR_EACH(i, n) dst[i] = wb_amp_from_bf16(src[i]);
}

__global__ static void widen_half(const uint16_t *src, float *dst, int64_t n) {
    WB_CUDA_FOR_EACH(i, n) dst[i] = wb_amp_from_half(src[i]);
}

extern "C" void wb_cuda_amp_narrow(wb_cuda_amp format, const float *src, uint16_t *dst, int64_t n) {
    wb_cuda_launch(format == WB_CUDA_AMP_BF16 ? narrow_bf16 : narrow_half, n, src, dst, n);
}

extern "C" void wb_cuda_amp_widen(wb_cuda_amp format, const uint16_t *src, float *dst, int64_t n) {
    wb_cuda_launch(format == WB_CUDA_AMP_BF16 ? widen_bf16 : widen_half, n, src, dst, n);
}
