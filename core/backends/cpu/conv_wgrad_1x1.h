/* The weight (and bias) gradient of a plain 1x1 conv: stride 1, no padding,
 * one group (conv_wgrad_1x1.c). */
#ifndef WB_CORE_CONV_WGRAD_1X1_H
#define WB_CORE_CONV_WGRAD_1X1_H

#include <oneapi/dnnl/dnnl.h>
#include "../kernels_conv.h"

/* dw = sum over images of dy_n x_n^T, db (NULL: none) = dy summed per
 * output channel; dnnl_unimplemented where oneDNN's matmul lacks the shape
 * (the caller then runs the convolution primitive). */
dnnl_status_t wb_cpu_conv_wgrad_1x1(const wb_conv_shape *s, const float *x, const float *dy, float *dw, float *db);

/* The pixels of one chunk for maps of hw pixels: the longest divisor of hw
 * in [1024, 8192], or hw itself where it has none or is no longer. */
int64_t wb_cpu_conv_wgrad_1x1_chunk(int64_t hw);

#endif
