/* The linear layer's bias kernels per element (add_row_bias) and per column
 * (sum_rows, in double in row order as the reference). Plain C (WB_HD) so
 * test_cuda_math_dense runs it on the host. */
#ifndef WB_CORE_CUDA_BIAS_MATH_H
#define WB_CORE_CUDA_BIAS_MATH_H

#include <stdint.h>
#include "../hd.h"

WB_HD static inline float wb_column_sum(const float *dy, int64_t rows, int64_t cols, int64_t j) {
    double s = 0.0;
    for (int64_t r = 0; r < rows; r++) s += dy[r * cols + j];
    return (float)s;
}

#endif
