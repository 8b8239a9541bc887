/* The CUDA backend's launch geometry (core/backends/cuda/cuda_launch.h) on
 * edge sizes, and the grid-stride loop its kernels run, simulated on the
 * host with the same 64-bit index arithmetic: every index below n is
 * visited exactly once, none at or past n. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include "backends/cuda/cuda_launch.h"
#include "wbtest.h"

/* The kernels' loop: i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x. */
static void grid_stride_visits(int64_t n, unsigned grid, unsigned char *visits) {
    int64_t stride = (int64_t)grid * WB_CUDA_BLOCK;
    for (unsigned block = 0; block < grid; block++)
        for (unsigned thread = 0; thread < WB_CUDA_BLOCK; thread++)
            for (int64_t i = block * (int64_t)WB_CUDA_BLOCK + thread; i < n; i += stride) visits[i]++;
}

START_TEST(test_blocks_for_edge_sizes) {
    ck_assert_uint_eq(wb_cuda_blocks(0), 0); /* nothing to launch: the caller skips it */
    ck_assert_uint_eq(wb_cuda_blocks(-1), 0);
    ck_assert_uint_eq(wb_cuda_blocks(INT64_MIN), 0);
    ck_assert_uint_eq(wb_cuda_blocks(1), 1);
    ck_assert_uint_eq(wb_cuda_blocks(255), 1);
    ck_assert_uint_eq(wb_cuda_blocks(256), 1);
    ck_assert_uint_eq(wb_cuda_blocks(257), 2);
    ck_assert_uint_eq(wb_cuda_blocks((int64_t)WB_CUDA_MAX_BLOCKS * WB_CUDA_BLOCK), WB_CUDA_MAX_BLOCKS);
    ck_assert_uint_eq(wb_cuda_blocks((int64_t)WB_CUDA_MAX_BLOCKS * WB_CUDA_BLOCK - 1), WB_CUDA_MAX_BLOCKS);
    ck_assert_uint_eq(wb_cuda_blocks((int64_t)(WB_CUDA_MAX_BLOCKS - 1) * WB_CUDA_BLOCK), WB_CUDA_MAX_BLOCKS - 1);
    /* past the cap the grid stays at it and the loop strides over the rest */
    ck_assert_uint_eq(wb_cuda_blocks((int64_t)WB_CUDA_MAX_BLOCKS * WB_CUDA_BLOCK + 1), WB_CUDA_MAX_BLOCKS);
    ck_assert_uint_eq(wb_cuda_blocks(((int64_t)1 << 31) + 1), WB_CUDA_MAX_BLOCKS);
    ck_assert_uint_eq(wb_cuda_blocks(INT64_MAX), WB_CUDA_MAX_BLOCKS);
    /* within every device's grid limit (2^31 - 1 blocks in x) */
    ck_assert_uint_le(WB_CUDA_MAX_BLOCKS, 2147483647u);
}
END_TEST

START_TEST(test_grid_stride_covers_each_index_once) {
    static const int64_t sizes[] = { 1, 255, 256, 257, 1000003,
                                     /* capped grid: two and a bit passes of the loop */
                                     (int64_t)WB_CUDA_MAX_BLOCKS * WB_CUDA_BLOCK * 2 + 17 };
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int64_t n = sizes[k];
        unsigned char *visits = calloc((size_t)n, 1);
        ck_assert_ptr_nonnull(visits);
        grid_stride_visits(n, wb_cuda_blocks(n), visits);
        int64_t first_bad = -1;
        for (int64_t i = 0; i < n && first_bad < 0; i++)
            if (visits[i] != 1) first_bad = i;
        ck_assert_msg(first_bad < 0, "n = %lld: index %lld visited %d times", (long long)n, (long long)first_bad,
                      first_bad < 0 ? 1 : visits[first_bad]);
        free(visits);
    }
}
END_TEST

/* 2^31 + 1 elements: too many to mark one by one here, so count instead.
 * Thread t of the capped grid visits t, t + S, ... below n, that is
 * ceil((n - t) / S) indices; the counts add up to n, and the last index a
 * thread reaches is past INT32_MAX (a 32-bit index would wrap there). */
START_TEST(test_grid_stride_past_2_31) {
    int64_t n = ((int64_t)1 << 31) + 1;
    unsigned grid = wb_cuda_blocks(n);
    int64_t stride = (int64_t)grid * WB_CUDA_BLOCK, total = 0, last = -1;
    for (int64_t t = 0; t < stride; t++) {
        int64_t count = t < n ? (n - t + stride - 1) / stride : 0;
        total += count;
        if (count && t + (count - 1) * stride > last) last = t + (count - 1) * stride;
    }
    ck_assert_int_eq(total, n);
    ck_assert_int_eq(last, n - 1);
    ck_assert_int_gt(last, INT32_MAX);
}
END_TEST

int main(void) {
    Suite *s = suite_create("cuda_launch");
    TCase *t = tcase_create("launch");
    tcase_add_test(t, test_blocks_for_edge_sizes);
    tcase_add_test(t, test_grid_stride_covers_each_index_once);
    tcase_add_test(t, test_grid_stride_past_2_31);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
