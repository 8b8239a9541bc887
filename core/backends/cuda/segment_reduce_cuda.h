/* Level 1 of the deterministic segment sums (segment_reduce.h) on the
 * compute stream, shared by the batch norm (dense_cuda.cu) and group norm
 * (norm_cuda.cu) kernels. partials: device doubles [count][chunks][2], of
 * wb_segment_partials_bytes(g); the caller adds them up with wb_red_total. */
#ifndef WB_CORE_CUDA_SEGMENT_REDUCE_CUDA_H
#define WB_CORE_CUDA_SEGMENT_REDUCE_CUDA_H

#include <stddef.h>
#include "segment_reduce.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline size_t wb_segment_partials_bytes(const wb_segments *g) {
    return (size_t)(g->count * wb_segment_chunks(g)) * 2 * sizeof(double);
}

/* sum x */
void wb_cuda_segment_sums(const wb_segments *g, const float *x, double *partials);
/* sum (x - mean)^2, mean per segment in double (a level-2 result) */
void wb_cuda_segment_sqdev(const wb_segments *g, const float *x, const double *mean, double *partials);
/* sum dy and sum dy * xhat, with the saved float statistics of the forward */
void wb_cuda_segment_grad_sums(const wb_segments *g, const float *dy, const float *x, const float *mean,
                               const float *invstd, double *partials);

#ifdef __cplusplus
}
#endif

#endif
