/* The dense table's gemm for amp: A and B narrowed into scratch, one
 * cublasGemmEx with 16-bit operands, an fp32 C and CUBLAS_COMPUTE_32F (fp32
 * accumulation on tensor cores), so alpha and beta act in fp32 as in the fp32
 * gemm. Row-major as matmul_cublas.c: the column-major call with A and B
 * (and m and n) swapped. Its own handle on the compute stream, default math
 * (16-bit operands use tensor cores in any math mode). */
#include <pthread.h>
#include <cublas_v2.h>
#include "amp_cuda.h"
#include "cuda_context.h"
#include "dense_cuda.h"

static cublasHandle_t g_handle;
static cudaStream_t g_bound_stream;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void check(cublasStatus_t st, const char *what, int line) {
    if (st != CUBLAS_STATUS_SUCCESS) wb_cuda_fail(what, cublasGetStatusString(st), __FILE__, line);
}
#define CUBLAS_CHECK(call) check((call), #call, __LINE__)

static void create_handle(void) { CUBLAS_CHECK(cublasCreate(&g_handle)); }

static cublasHandle_t handle(void) {
    pthread_once(&g_once, create_handle);
    cudaStream_t s = wb_cuda_compute_stream();
    if (s != g_bound_stream) { /* rebinding resets cuBLAS's workspace: only on a change */
        CUBLAS_CHECK(cublasSetStream(g_handle, s));
        g_bound_stream = s;
    }
    return g_handle;
}

/* Elements a row-major rows x cols matrix with row stride ld spans. */
static int64_t span(int64_t rows, int64_t cols, int64_t ld) { return (rows - 1) * ld + cols; }

static void gemm_amp(wb_cuda_amp f, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) { /* C = beta C: nothing to round, and no operand to narrow */
        wb_cuda_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    int64_t na = trans_a ? span(k, m, lda) : span(m, k, lda), nb = trans_b ? span(n, k, ldb) : span(k, n, ldb);
    size_t bytes_a = (size_t)na * sizeof(uint16_t), bytes_b = (size_t)nb * sizeof(uint16_t);
    uint16_t *a16 = wb_cuda_scratch_alloc(bytes_a), *b16 = a16 ? wb_cuda_scratch_alloc(bytes_b) : NULL;
    if (!b16) wb_cuda_fail("amp gemm", "out of device memory for its 16-bit operands", __FILE__, __LINE__);
    wb_cuda_amp_narrow(f, a, a16, na);
    wb_cuda_amp_narrow(f, b, b16, nb);
    cudaDataType_t t = f == WB_CUDA_AMP_BF16 ? CUDA_R_16BF : CUDA_R_16F;
    CUBLAS_CHECK(cublasGemmEx_64(handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                                 n, m, k, &alpha, b16, t, ldb, a16, t, lda, &beta, c, CUDA_R_32F, ldc,
                                 CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    wb_cuda_scratch_free(b16, bytes_b);
    wb_cuda_scratch_free(a16, bytes_a);
}

static void gemm_bf16(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                      int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    gemm_amp(WB_CUDA_AMP_BF16, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

static void gemm_f16(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                     int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    gemm_amp(WB_CUDA_AMP_F16, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

wb_cuda_gemm_fn wb_cuda_amp_gemm(wb_cuda_amp format) { return format == WB_CUDA_AMP_BF16 ? gemm_bf16 : gemm_f16; }
