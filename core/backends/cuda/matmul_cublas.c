/* kernels_dense.h's gemm on cuBLAS, one handle per process bound to the
 * compute stream. cuBLAS is column-major: a row-major matrix with row stride
 * ld is its column-major transpose with leading dimension ld, so row-major
 * C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T, the same call with
 * A and B (and m and n) swapped. fp32 stays fp32 (CUBLAS_DEFAULT_MATH never
 * rounds sgemm's inputs to TF32) unless wb_cuda_tf32() allows TF32
 * (CUBLAS_TF32_TENSOR_OP_MATH). */
#include <pthread.h>
#include <cublas_v2.h>
#include "cuda_context.h"
#include "dense_cuda.h"

static cublasHandle_t g_handle;
static cudaStream_t g_bound_stream;
static int g_tf32;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void check(cublasStatus_t st, const char *what, int line) {
    if (st != CUBLAS_STATUS_SUCCESS) wb_cuda_fail(what, cublasGetStatusString(st), __FILE__, line);
}
#define CUBLAS_CHECK(call) check((call), #call, __LINE__)

static void create_handle(void) {
    CUBLAS_CHECK(cublasCreate(&g_handle));
    CUBLAS_CHECK(cublasSetMathMode(g_handle, CUBLAS_DEFAULT_MATH));
}

/* The handle's math mode follows the switch (set only when it changed). */
static void follow_tf32(void) {
    int tf32 = wb_cuda_tf32() ? 1 : 0;
    if (tf32 == g_tf32) return;
    CUBLAS_CHECK(cublasSetMathMode(g_handle, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH));
    g_tf32 = tf32;
}

static cublasHandle_t handle(void) {
    pthread_once(&g_once, create_handle);
    cudaStream_t s = wb_cuda_compute_stream();
    /* Rebinding resets cuBLAS's workspace, so only when the stream changed. */
    if (s != g_bound_stream) {
        CUBLAS_CHECK(cublasSetStream(g_handle, s));
        g_bound_stream = s;
    }
    follow_tf32();
    return g_handle;
}

/* cuBLAS wants every leading dimension >= 1, also for a matrix it does not
 * read (k = 0: C = beta * C). */
static int64_t ld_of(int64_t ld) { return ld < 1 ? 1 : ld; }

void wb_cuda_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                  int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    CUBLAS_CHECK(cublasSgemm_64(handle(), trans_b ? CUBLAS_OP_T : CUBLAS_OP_N, trans_a ? CUBLAS_OP_T : CUBLAS_OP_N,
                                n, m, k, &alpha, b, ld_of(ldb), a, ld_of(lda), &beta, c, ld_of(ldc)));
}
