/* Reference index_select and its scatter-add backward. */
#include <string.h>
#include "gather_ref.h"

void wb_ref_index_select_forward(const float *x, int64_t outer, int64_t len, int64_t inner,
                                 const int64_t *index, int64_t n_index, float *y) {
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < n_index; j++)
            for (int64_t i = 0; i < inner; i++)
                y[(o * n_index + j) * inner + i] = x[(o * len + index[j]) * inner + i];
}

void wb_ref_index_select_backward(const float *dy, int64_t outer, int64_t len, int64_t inner,
                                  const int64_t *index, int64_t n_index, float *dx) {
    memset(dx, 0, (size_t)(outer * len * inner) * sizeof(float));
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < n_index; j++)
            for (int64_t i = 0; i < inner; i++)
                dx[(o * len + index[j]) * inner + i] += dy[(o * n_index + j) * inner + i];
}
