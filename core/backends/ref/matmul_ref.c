/* Reference matrix product and bias kernels: dot products in double. */
#include "dense_ref.h"

void wb_ref_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                 const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                 float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            double dot = 0.0;
            for (int64_t p = 0; p < k; p++) {
                float av = trans_a ? a[p * lda + i] : a[i * lda + p];
                float bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                dot += (double)av * bv;
            }
            float old = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
            c[i * ldc + j] = (float)(alpha * dot) + old;
        }
    }
}

void wb_ref_add_row_bias(float *y, const float *bias, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < cols; j++) y[r * cols + j] += bias[j];
}

void wb_ref_sum_rows(const float *dy, int64_t rows, int64_t cols, float *db) {
    for (int64_t j = 0; j < cols; j++) {
        double s = 0.0;
        for (int64_t r = 0; r < rows; r++) s += dy[r * cols + j];
        db[j] = (float)s;
    }
}
