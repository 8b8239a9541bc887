/* OpenMP block copy, permute and sum reduction (accumulating in double, like
 * the reference, so the two differ only by summation order). */
#include <string.h>
#include "pointwise_cpu.h"

void wb_cpu_copy_block(float *dst, int64_t dst_stride, const float *src, int64_t src_stride,
                       int64_t rows, int64_t cols) {
    if (rows == 0 || cols == 0) return;
#pragma omp parallel for schedule(static) if (rows * cols > WB_CPU_PARALLEL_MIN && rows > 1)
    for (int64_t r = 0; r < rows; r++) memcpy(dst + r * dst_stride, src + r * src_stride, (size_t)cols * sizeof *dst);
}

void wb_cpu_permute(const float *x, int ndim, const int64_t *shape, const int *perm, float *y) {
    if (ndim == 0) {
        y[0] = x[0];
        return;
    }
    int64_t in_stride[WB_MAX_DIMS], out_shape[WB_MAX_DIMS], n = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        in_stride[d] = n;
        n *= shape[d];
    }
    for (int d = 0; d < ndim; d++) out_shape[d] = shape[perm[d]];
    int last = ndim - 1;
    int64_t len = out_shape[last], step = in_stride[perm[last]], rows = len ? n / len : 0;
#pragma omp parallel for schedule(static) if (n > WB_CPU_PARALLEL_MIN)
    for (int64_t r = 0; r < rows; r++) {
        int64_t rest = r, off = 0;
        for (int d = last - 1; d >= 0; d--) {
            off += (rest % out_shape[d]) * in_stride[perm[d]];
            rest /= out_shape[d];
        }
        float *dst = y + r * len;
        for (int64_t i = 0; i < len; i++) dst[i] = x[off + i * step];
    }
}

/* Inner positions summed together per task: the accumulators stay in registers. */
#define BLOCK 64

void wb_cpu_reduce_sum(const float *x, int64_t outer, int64_t len, int64_t inner, float scale,
                       float *y) {
    if (inner == 1 && outer == 1) {
        double acc = 0.0;
#pragma omp parallel for simd schedule(static) reduction(+ : acc) if (len > WB_CPU_PARALLEL_MIN)
        for (int64_t k = 0; k < len; k++) acc += x[k];
        y[0] = (float)(scale * acc);
        return;
    }
    int64_t blocks = (inner + BLOCK - 1) / BLOCK;
#pragma omp parallel for collapse(2) schedule(static) if (outer * len * inner > WB_CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t blk = 0; blk < blocks; blk++) {
            int64_t i0 = blk * BLOCK, m = inner - i0 < BLOCK ? inner - i0 : BLOCK;
            double acc[BLOCK] = {0};
            const float *src = x + o * len * inner + i0;
            for (int64_t k = 0; k < len; k++)
                for (int64_t i = 0; i < m; i++) acc[i] += src[k * inner + i];
            for (int64_t i = 0; i < m; i++) y[o * inner + i0 + i] = (float)(scale * acc[i]);
        }
}

void wb_cpu_broadcast_axis(const float *dy, int64_t outer, int64_t len, int64_t inner, float scale,
                           float *dx) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * len * inner > WB_CPU_PARALLEL_MIN)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < len; k++) {
            const float *src = dy + o * inner;
            float *dst = dx + (o * len + k) * inner;
            for (int64_t i = 0; i < inner; i++) dst[i] = scale * src[i];
        }
}
