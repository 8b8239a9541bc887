/* OpenMP index_select: rows copied in parallel; the scatter-add backward
 * splits the destination into (outer, column block) tiles that each
 * thread owns, adding the picked rows in index order as the reference. */
#include <string.h>
#include "gather_cpu.h"

#define COLS_PER_TILE 256
#define PAR_MIN 16384

void wb_cpu_index_select_forward(const float *x, int64_t outer, int64_t len, int64_t inner,
                                 const int64_t *index, int64_t n_index, float *y) {
#pragma omp parallel for collapse(2) schedule(static) if (outer * n_index * inner > PAR_MIN)
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < n_index; j++)
            memcpy(y + (o * n_index + j) * inner, x + (o * len + index[j]) * inner, (size_t)inner * sizeof(float));
}

void wb_cpu_index_select_backward(const float *dy, int64_t outer, int64_t len, int64_t inner,
                                  const int64_t *index, int64_t n_index, float *dx) {
    int64_t tiles = (inner + COLS_PER_TILE - 1) / COLS_PER_TILE;
#pragma omp parallel for collapse(2) schedule(static) if (outer * (len + n_index) * inner > PAR_MIN)
    for (int64_t o = 0; o < outer; o++) {
        for (int64_t t = 0; t < tiles; t++) {
            int64_t i0 = t * COLS_PER_TILE, i1 = i0 + COLS_PER_TILE < inner ? i0 + COLS_PER_TILE : inner;
            for (int64_t r = 0; r < len; r++) memset(dx + (o * len + r) * inner + i0, 0, (size_t)(i1 - i0) * sizeof(float));
            for (int64_t j = 0; j < n_index; j++) {
                float *dst = dx + (o * len + index[j]) * inner;
                const float *src = dy + (o * n_index + j) * inner;
#pragma omp simd
                for (int64_t i = i0; i < i1; i++) dst[i] += src[i];
            }
        }
    }
}
