/* Reference activations, elementwise, with torch's derivatives at the kinks:
 * relu'(0) = 0, leaky_relu'(0) = slope, hardswish'(-3) = -0.5 and
 * hardswish'(3) = 1. For hardswish that is what torch 1.13's vectorized CPU
 * kernel returns, i.e. for every tensor of 16 or more elements (its scalar
 * tail loop says 1.5 at x = 3). hardsigmoid'(+-3) = 0: torch passes the
 * gradient on the open interval only. */
#include <math.h>
#include <stdbool.h>
#include "pointwise_ref.h"

static float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

static float act(wb_act_kind kind, float alpha, float x) {
    switch (kind) {
    case WB_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case WB_ACT_LEAKY_RELU: return x > 0.0f ? x : alpha * x;
    case WB_ACT_SILU: return x * sigmoidf(x);
    case WB_ACT_SIGMOID: return sigmoidf(x);
    case WB_ACT_HARDSWISH: return x * fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    case WB_ACT_HARDSIGMOID: return fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    }
    return NAN;
}

static float act_grad(wb_act_kind kind, float alpha, float x, float y, float dy) {
    switch (kind) {
    case WB_ACT_RELU: return y > 0.0f ? dy : 0.0f;
    case WB_ACT_LEAKY_RELU: return x > 0.0f ? dy : alpha * dy;
    case WB_ACT_SILU: {
        float s = sigmoidf(x);
        return dy * s * (1.0f + x * (1.0f - s));
    }
    case WB_ACT_SIGMOID: return dy * y * (1.0f - y);
    case WB_ACT_HARDSWISH:
        if (x < -3.0f) return 0.0f;
        if (x < 3.0f) return dy * (x / 3.0f + 0.5f);
        return dy;
    case WB_ACT_HARDSIGMOID: return x > -3.0f && x < 3.0f ? dy / 6.0f : 0.0f;
    }
    return NAN;
}

void wb_ref_act_forward(wb_act_kind kind, float alpha, const float *x, float *y, int64_t n) {
    for (int64_t i = 0; i < n; i++) y[i] = act(kind, alpha, x[i]);
}

void wb_ref_act_backward(wb_act_kind kind, float alpha, const float *x, const float *y,
                         const float *dy, float *dx, int64_t n) {
    /* Only one of x and y is still alive (see kernels_pointwise.h). */
    bool from_y = kind == WB_ACT_RELU || kind == WB_ACT_SIGMOID;
    for (int64_t i = 0; i < n; i++)
        dx[i] = act_grad(kind, alpha, from_y ? 0.0f : x[i], from_y ? y[i] : 0.0f, dy[i]);
}
