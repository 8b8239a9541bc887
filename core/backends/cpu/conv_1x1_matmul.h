/* The forward and backward-data of a plain 1x1 conv: stride 1, no padding,
 * one group (conv_1x1_matmul.c). */
#ifndef WB_CORE_CONV_1X1_MATMUL_H
#define WB_CORE_CONV_1X1_MATMUL_H

#include <stdbool.h>
#include <oneapi/dnnl/dnnl.h>
#include "../kernels_conv.h"

/* y = conv(x, w) + b, NCHW; dnnl_unimplemented with a bias, where both
 * sides have more than 32 channels (the convolution primitive is as fast
 * there) or where oneDNN's matmul lacks the shape (the caller then runs the
 * convolution primitive). */
dnnl_status_t wb_cpu_conv_1x1_forward(const wb_conv_shape *s, const float *x, const float *w, const float *b,
                                      float *y);

/* dx = (or, where adds, dx +=) the gradient of x from dy; as above. */
dnnl_status_t wb_cpu_conv_1x1_backward_data(const wb_conv_shape *s, const float *dy, const float *w, float *dx,
                                            bool adds);

#endif
