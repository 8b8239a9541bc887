/* SiLU forward and backward on oneDNN's eltwise swish (alpha 1), for large
 * tensors: its JIT kernels vectorize the exponential, which the OpenMP loop
 * calls one element at a time through libm (a third of yolov5s's inference
 * went there). */
#ifndef WB_CORE_SILU_DNNL_H
#define WB_CORE_SILU_DNNL_H

#include <stdbool.h>
#include <stdint.h>

/* y = x * sigmoid(x); false when oneDNN could not run it (nothing written
 * that the caller's own loop will not overwrite). */
bool wb_silu_dnnl_forward(const float *x, float *y, int64_t n);
/* dx = dy * d/dx silu(x); false as above. */
bool wb_silu_dnnl_backward(const float *x, const float *dy, float *dx, int64_t n);

#endif
