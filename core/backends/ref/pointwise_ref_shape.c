/* Reference block copy, permute and sum reduction. Sums accumulate in
 * double so the reference is the most accurate value, not just a value. */
#include "pointwise_ref.h"

void wb_ref_copy_block(float *dst, int64_t dst_stride, const float *src, int64_t src_stride,
                       int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < cols; k++) dst[r * dst_stride + k] = src[r * src_stride + k];
}

void wb_ref_permute(const float *x, int ndim, const int64_t *shape, const int *perm, float *y) {
    int64_t in_stride[WB_MAX_DIMS], out_shape[WB_MAX_DIMS], n = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        in_stride[d] = n;
        n *= shape[d];
    }
    for (int d = 0; d < ndim; d++) out_shape[d] = shape[perm[d]];
    for (int64_t i = 0; i < n; i++) {
        int64_t rest = i, off = 0;
        for (int d = ndim - 1; d >= 0; d--) {
            off += (rest % out_shape[d]) * in_stride[perm[d]];
            rest /= out_shape[d];
        }
        y[i] = x[off];
    }
}

void wb_ref_reduce_sum(const float *x, int64_t outer, int64_t len, int64_t inner, float scale,
                       float *y) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double acc = 0.0;
            for (int64_t k = 0; k < len; k++) acc += x[(o * len + k) * inner + i];
            y[o * inner + i] = (float)(scale * acc);
        }
}

void wb_ref_broadcast_axis(const float *dy, int64_t outer, int64_t len, int64_t inner, float scale,
                           float *dx) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < len; k++)
            for (int64_t i = 0; i < inner; i++) dx[(o * len + k) * inner + i] = scale * dy[o * inner + i];
}
