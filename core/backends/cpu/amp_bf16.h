/* The CPU backend's bfloat16 kernels for amp = "bf16" (see backend_cpu_bf16.c). */
#ifndef WB_CORE_AMP_BF16_H
#define WB_CORE_AMP_BF16_H

#include <stdint.h>
#include "../backend.h"
#include "../kernels_conv.h"

/* conv2d with bf16 inputs, fp32 outputs and fp32 accumulation (conv_dnnl.c). */
const wb_conv_kernels *wb_cpu_conv_bf16_kernels(void);

/* The dense table's gemm with bf16 operands and an fp32 result; alpha other
 * than 1 or beta other than 0 run in fp32 (no caller asks for them). */
void wb_cpu_gemm_bf16(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                      const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                      float *c, int64_t ldc);

#endif
