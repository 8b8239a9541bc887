/* OpenMP activations: one loop per kind so each compiles to a branch-free
 * vector body. Same formulas and kink conventions as the reference. */
#include <math.h>
#include "pointwise_cpu.h"
#include "silu_dnnl.h"

/* From this length SiLU runs on oneDNN (vector exponential); below it the
 * primitive call costs more than the loop. */
#define SILU_DNNL_MIN 4096

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

void wb_cpu_act_forward(wb_act_kind kind, float alpha, const float *restrict x, float *restrict y,
                        int64_t n) {
    switch (kind) {
    case WB_ACT_RELU:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case WB_ACT_LEAKY_RELU:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : alpha * x[i];
        break;
    case WB_ACT_SILU:
        if (n >= SILU_DNNL_MIN && wb_silu_dnnl_forward(x, y, n)) break;
#pragma omp parallel for schedule(static) if (n > WB_CPU_PARALLEL_MIN / 8)
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * sigmoidf(x[i]);
        break;
    case WB_ACT_SIGMOID:
#pragma omp parallel for schedule(static) if (n > WB_CPU_PARALLEL_MIN / 8)
        for (int64_t i = 0; i < n; i++) y[i] = sigmoidf(x[i]);
        break;
    case WB_ACT_HARDSWISH:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = x[i] * fminf(fmaxf(x[i] + 3.0f, 0.0f), 6.0f) / 6.0f;
        break;
    case WB_ACT_HARDSIGMOID:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) y[i] = fminf(fmaxf(x[i] + 3.0f, 0.0f), 6.0f) / 6.0f;
        break;
    }
}

void wb_cpu_act_backward(wb_act_kind kind, float alpha, const float *restrict x, const float *restrict y,
                         const float *restrict dy, float *restrict dx, int64_t n) {
    switch (kind) {
    case WB_ACT_RELU:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case WB_ACT_LEAKY_RELU:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] = x[i] > 0.0f ? dy[i] : alpha * dy[i];
        break;
    case WB_ACT_SILU:
        if (n >= SILU_DNNL_MIN && wb_silu_dnnl_backward(x, dy, dx, n)) break;
#pragma omp parallel for schedule(static) if (n > WB_CPU_PARALLEL_MIN / 8)
        for (int64_t i = 0; i < n; i++) {
            float s = sigmoidf(x[i]);
            dx[i] = dy[i] * s * (1.0f + x[i] * (1.0f - s));
        }
        break;
    case WB_ACT_SIGMOID:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case WB_ACT_HARDSWISH:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) {
            float v = x[i];
            dx[i] = v < -3.0f ? 0.0f : (v < 3.0f ? dy[i] * (v / 3.0f + 0.5f) : dy[i]);
        }
        break;
    case WB_ACT_HARDSIGMOID:
#pragma omp parallel for simd schedule(static) if (n > WB_CPU_PARALLEL_MIN)
        for (int64_t i = 0; i < n; i++) dx[i] = x[i] > -3.0f && x[i] < 3.0f ? dy[i] / 6.0f : 0.0f;
        break;
    }
}
