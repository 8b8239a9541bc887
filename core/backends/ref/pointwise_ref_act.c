/* Reference activations, elementwise, with torch's derivatives at the kinks:
 * relu'(0) = 0, leaky_relu'(0) = slope, hardswish'(-3) = -0.5 and
 * hardswish'(3) = 1. For hardswish that is what torch 1.13's vectorized CPU
 * kernel returns, i.e. for every tensor of 16 or more elements (its scalar
 * tail loop says 1.5 at x = 3). hardsigmoid'(+-3) = 0: torch passes the
 * gradient on the open interval only. The formulas live in pointwise_math.h,
 * shared with the CPU and CUDA kernels. */
#include <stdbool.h>
#include "../pointwise_math.h"
#include "pointwise_ref.h"

void wb_ref_act_forward(wb_act_kind kind, float alpha, const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = wb_act_value(kind, alpha, x[i]);
}

void wb_ref_act_backward(wb_act_kind kind, float alpha, const float *x, const float *y,
                         const float *dy, float *dx, int64_t n) {
    /* Only one of x and y is still alive (see kernels_pointwise.h). */
    bool from_y = wb_act_reads_output(kind);
    for (int64_t i = 0; i < n; i++)
        dx[i] = wb_act_grad(kind, alpha, from_y ? 0.0f : x[i], from_y ? y[i] : 0.0f, dy[i]);
}
