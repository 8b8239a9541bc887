/* The scalar formulas of the elementwise ops, shared by every backend so the
 * values and torch 1.13's conventions at the edges cannot drift apart (WB_HD:
 * the CUDA kernels run the same source):
 *   minimum / maximum propagate NaN and split the gradient half / half on a
 *     tie (torch's derivatives.yaml: where(a == b, g / 2, g), masked where the
 *     other operand wins);
 *   abs'(0) = 0; clamp passes the gradient on the closed interval [lo, hi]
 *     and, when lo > hi, gives hi everywhere (torch: min(max(x, lo), hi));
 *   pow's derivative is p * x ** (p - 1), and 0 for p = 0;
 *   pow by 2, 3, 0.5, -0.5, -1 and -2 are computed as torch's kernel does
 *     (products, sqrt, reciprocals), not by powf. */
#ifndef WB_CORE_POINTWISE_MATH_H
#define WB_CORE_POINTWISE_MATH_H

#include <math.h>
#include <stdbool.h>
#include "hd.h"
#include "kernels_pointwise.h"

static inline WB_HD float wb_binary_value(wb_binary_kind k, float a, float b) {
    switch (k) {
    case WB_BINARY_ADD: return a + b;
    case WB_BINARY_MUL: return a * b;
    case WB_BINARY_SUB: return a - b;
    case WB_BINARY_DIV: return a / b;
    case WB_BINARY_MIN: return (a < b || a != a) ? a : b;
    case WB_BINARY_MAX: return (a > b || a != a) ? a : b;
    case WB_BINARY_GT: return a > b ? 1.0f : 0.0f;
    case WB_BINARY_GE: return a >= b ? 1.0f : 0.0f;
    case WB_BINARY_LT: return a < b ? 1.0f : 0.0f;
    case WB_BINARY_LE: return a <= b ? 1.0f : 0.0f;
    case WB_BINARY_EQ: return a == b ? 1.0f : 0.0f;
    case WB_BINARY_NE: return a != b ? 1.0f : 0.0f;
    }
    return NAN;
}

static inline WB_HD bool wb_binary_is_comparison(wb_binary_kind k) { return k >= WB_BINARY_GT; }

/* Whether the backward reads the operands' values (add and sub need only dy;
 * the tape frees what is not read, so the others must not touch it). */
static inline WB_HD bool wb_binary_backward_reads_operands(wb_binary_kind k) {
    return k == WB_BINARY_MUL || k == WB_BINARY_DIV || k == WB_BINARY_MIN || k == WB_BINARY_MAX;
}

/* dy * d(a op b)/da, and the same for b. */
static inline WB_HD float wb_binary_grad_a(wb_binary_kind k, float a, float b, float dy) {
    switch (k) {
    case WB_BINARY_ADD:
    case WB_BINARY_SUB: return dy;
    case WB_BINARY_MUL: return dy * b;
    case WB_BINARY_DIV: return dy / b;
    case WB_BINARY_MIN: return a > b ? 0.0f : (a == b ? 0.5f * dy : dy);
    case WB_BINARY_MAX: return a < b ? 0.0f : (a == b ? 0.5f * dy : dy);
    default: return 0.0f;
    }
}

static inline WB_HD float wb_binary_grad_b(wb_binary_kind k, float a, float b, float dy) {
    switch (k) {
    case WB_BINARY_ADD: return dy;
    case WB_BINARY_SUB: return -dy;
    case WB_BINARY_MUL: return dy * a;
    case WB_BINARY_DIV: return -dy * (a / b / b);
    case WB_BINARY_MIN: return a < b ? 0.0f : (a == b ? 0.5f * dy : dy);
    case WB_BINARY_MAX: return a > b ? 0.0f : (a == b ? 0.5f * dy : dy);
    default: return 0.0f;
    }
}

static inline WB_HD float wb_pow_like_torch(float x, float p) {
    if (p == 2.0f) return x * x;
    if (p == 3.0f) return x * x * x;
    if (p == 0.5f) return sqrtf(x);
    if (p == -0.5f) return 1.0f / sqrtf(x);
    if (p == -1.0f) return 1.0f / x;
    if (p == -2.0f) return 1.0f / (x * x);
    return powf(x, p);
}

static inline WB_HD float wb_unary_value(wb_unary_kind k, float p, float q, float x) {
    switch (k) {
    case WB_UNARY_NEG: return -x;
    case WB_UNARY_EXP: return expf(x);
    case WB_UNARY_LOG: return logf(x);
    case WB_UNARY_POW: return wb_pow_like_torch(x, p);
    case WB_UNARY_ABS: return fabsf(x);
    case WB_UNARY_CLAMP: {
        /* Comparisons, not fminf/fmaxf, so a NaN x stays NaN as in torch. */
        float v = x < p ? p : x;
        return v > q ? q : v;
    }
    case WB_UNARY_ADD_SCALAR: return x + p;
    }
    return NAN;
}

/* dy * dy/dx from x or from the output y (EXP). */
static inline WB_HD float wb_unary_grad(wb_unary_kind k, float p, float q, float x, float y,
                                       float dy) {
    switch (k) {
    case WB_UNARY_NEG: return -dy;
    case WB_UNARY_EXP: return dy * y;
    case WB_UNARY_LOG: return dy / x;
    case WB_UNARY_POW: return p == 0.0f ? 0.0f : dy * (p * wb_pow_like_torch(x, p - 1.0f));
    case WB_UNARY_ABS: return x > 0.0f ? dy : (x < 0.0f ? -dy : 0.0f);
    case WB_UNARY_CLAMP: return x >= p && x <= q ? dy : 0.0f;
    case WB_UNARY_ADD_SCALAR: return dy;
    }
    return NAN;
}

static inline WB_HD bool wb_unary_reads_output(wb_unary_kind k) { return k == WB_UNARY_EXP; }
static inline WB_HD bool wb_unary_reads_input(wb_unary_kind k) {
    return k != WB_UNARY_EXP && k != WB_UNARY_NEG && k != WB_UNARY_ADD_SCALAR;
}

/* Activations, the same expressions as the reference kernels
 * (ref/pointwise_ref_act.c, which documents the kink conventions); the CUDA
 * kernels call these and tests/unit/test_cuda_math_pointwise.c holds them to
 * the reference bit for bit. */
static inline WB_HD float wb_act_sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

static inline WB_HD float wb_act_value(wb_act_kind kind, float alpha, float x) {
    switch (kind) {
    case WB_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case WB_ACT_LEAKY_RELU: return x > 0.0f ? x : alpha * x;
    case WB_ACT_SILU: return x * wb_act_sigmoid(x);
    case WB_ACT_SIGMOID: return wb_act_sigmoid(x);
    case WB_ACT_HARDSWISH: return x * fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    case WB_ACT_HARDSIGMOID: return fminf(fmaxf(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    }
    return NAN;
}

/* relu and sigmoid differentiate from the output y, the others from x. */
static inline WB_HD bool wb_act_reads_output(wb_act_kind k) {
    return k == WB_ACT_RELU || k == WB_ACT_SIGMOID;
}

static inline WB_HD float wb_act_grad(wb_act_kind kind, float alpha, float x, float y, float dy) {
    switch (kind) {
    case WB_ACT_RELU: return y > 0.0f ? dy : 0.0f;
    case WB_ACT_LEAKY_RELU: return x > 0.0f ? dy : alpha * dy;
    case WB_ACT_SILU: {
        float s = wb_act_sigmoid(x);
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

#endif
