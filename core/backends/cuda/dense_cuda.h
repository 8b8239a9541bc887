/* The CUDA dense family's matrix product (matmul_cublas.c), gathered into
 * the family table by dense_cuda.cu. */
#ifndef WB_CORE_CUDA_DENSE_CUDA_H
#define WB_CORE_CUDA_DENSE_CUDA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* kernels_dense.h's gemm on cuBLAS, on the compute stream. */
void wb_cuda_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                  int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

#ifdef __cplusplus
}
#endif

#endif
