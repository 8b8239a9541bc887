/* The reference dense family table. */
#include "../families.h"
#include "dense_ref.h"

static const wb_dense_kernels g_ref_dense = {
    .bn_train_forward = wb_ref_bn_train_forward,
    .bn_eval_forward = wb_ref_bn_eval_forward,
    .bn_backward = wb_ref_bn_backward,
    .max_pool_forward = wb_ref_max_pool_forward,
    .max_pool_backward = wb_ref_max_pool_backward,
    .avg_pool_forward = wb_ref_avg_pool_forward,
    .avg_pool_backward = wb_ref_avg_pool_backward,
    .gemm = wb_ref_gemm,
    .add_row_bias = wb_ref_add_row_bias,
    .sum_rows = wb_ref_sum_rows,
};

const wb_dense_kernels *wb_ref_dense_kernels(void) { return &g_ref_dense; }
