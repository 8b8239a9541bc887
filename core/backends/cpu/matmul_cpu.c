/* Matrix product through oneDNN's sgemm (row-major, threaded with OpenMP),
 * and OpenMP bias kernels. */
#include <oneapi/dnnl/dnnl.h>
#include "../ref/dense_ref.h"
#include "dense_cpu.h"

void wb_cpu_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                 float *c, int64_t ldc) {
    if (m == 0 || n == 0) return;
    dnnl_status_t st = dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda,
                                  b, ldb, beta, c, ldc);
    /* sgemm only rejects malformed arguments, which the op front-ends rule
     * out; the reference still gives the right answer if that ever changes. */
    if (st != dnnl_success) wb_ref_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void wb_cpu_add_row_bias(float *y, const float *bias, int64_t rows, int64_t cols) {
#pragma omp parallel for schedule(static) if (rows * cols > WB_DENSE_PAR_MIN)
    for (int64_t r = 0; r < rows; r++) {
        float *yr = y + r * cols;
#pragma omp simd
        for (int64_t j = 0; j < cols; j++) yr[j] += bias[j];
    }
}

/* Column blocks per thread: each thread reads its block of every row. */
#define COL_BLOCK 256

void wb_cpu_sum_rows(const float *dy, int64_t rows, int64_t cols, float *db) {
    int64_t blocks = (cols + COL_BLOCK - 1) / COL_BLOCK;
#pragma omp parallel for schedule(static) if (rows * cols > WB_DENSE_PAR_MIN)
    for (int64_t blk = 0; blk < blocks; blk++) {
        int64_t j0 = blk * COL_BLOCK, j1 = j0 + COL_BLOCK < cols ? j0 + COL_BLOCK : cols;
        double acc[COL_BLOCK] = {0};
        for (int64_t r = 0; r < rows; r++) {
            const float *row = dy + r * cols;
#pragma omp simd
            for (int64_t j = j0; j < j1; j++) acc[j - j0] += (double)row[j];
        }
        for (int64_t j = j0; j < j1; j++) db[j] = (float)acc[j - j0];
    }
}
