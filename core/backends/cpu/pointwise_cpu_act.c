/* OpenMP activations: one loop per kind so each compiles to a branch-free
 * vector body (the kind is a constant in each, so pointwise_math.h's switch
 * folds away). The formulas are the reference's, from pointwise_math.h. */
#include "../pointwise_math.h"
#include "pointwise_cpu.h"
#include "silu_dnnl.h"

/* From this length SiLU runs on oneDNN (vector exponential); below it the
 * primitive call costs more than the loop. */
#define SILU_DNNL_MIN 4096

void wb_cpu_act_forward(wb_act_kind kind, float alpha, const float *restrict x, float *restrict y,
                        int64_t n) {
    switch (kind) {
    case WB_ACT_RELU:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = wb_act_value(WB_ACT_RELU, alpha, x[i]);
        break;
    case WB_ACT_LEAKY_RELU:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = wb_act_value(WB_ACT_LEAKY_RELU, alpha, x[i]);
        break;
    case WB_ACT_SILU:
        if (n >= SILU_DNNL_MIN && wb_silu_dnnl_forward(x, y, n)) break;
#pragma omp parallel for schedule(static) if (n > WB_CPU_PARALLEL_MIN / 8)
        for (int64_t i = 0; i < n; i++) y[i] = wb_act_value(WB_ACT_SILU, alpha, x[i]);
        break;
    case WB_ACT_SIGMOID:
#pragma omp parallel for schedule(static) if (n > WB_CPU_PARALLEL_MIN / 8)
        for (int64_t i = 0; i < n; i++) y[i] = wb_act_value(WB_ACT_SIGMOID, alpha, x[i]);
        break;
    case WB_ACT_HARDSWISH:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = wb_act_value(WB_ACT_HARDSWISH, alpha, x[i]);
        break;
    case WB_ACT_HARDSIGMOID:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = wb_act_value(WB_ACT_HARDSIGMOID, alpha, x[i]);
        break;
    }
}

void wb_cpu_act_backward(wb_act_kind kind, float alpha, const float *restrict x, const float *restrict y,
                         const float *restrict dy, float *restrict dx, int64_t n) {
    switch (kind) {
    case WB_ACT_RELU:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] = wb_act_grad(WB_ACT_RELU, alpha, 0.0f, y[i], dy[i]);
        break;
    case WB_ACT_LEAKY_RELU:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] = wb_act_grad(WB_ACT_LEAKY_RELU, alpha, x[i], 0.0f, dy[i]);
        break;
    case WB_ACT_SILU:
        if (n >= SILU_DNNL_MIN && wb_silu_dnnl_backward(x, dy, dx, n)) break;
#pragma omp parallel for schedule(static) if (n > WB_CPU_PARALLEL_MIN / 8)
        for (int64_t i = 0; i < n; i++) dx[i] = wb_act_grad(WB_ACT_SILU, alpha, x[i], 0.0f, dy[i]);
        break;
    case WB_ACT_SIGMOID:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] = wb_act_grad(WB_ACT_SIGMOID, alpha, 0.0f, y[i], dy[i]);
        break;
    case WB_ACT_HARDSWISH:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        /* The shared formula's early returns vectorize ~15% slower here: the same value as one select. */
        for (int64_t i = 0; i < n; i++) {
            float v = x[i];
            dx[i] = v < -3.0f ? 0.0f : (v < 3.0f ? dy[i] * (v / 3.0f + 0.5f) : dy[i]);
        }
        break;
    case WB_ACT_HARDSIGMOID:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] = wb_act_grad(WB_ACT_HARDSIGMOID, alpha, x[i], 0.0f, dy[i]);
        break;
    }
}
