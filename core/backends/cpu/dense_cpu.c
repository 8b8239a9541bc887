/* The optimized CPU dense family table. */
#include "../families.h"
#include "dense_cpu.h"

static const wb_dense_kernels g_cpu_dense = {
    .bn_train_forward = wb_cpu_bn_train_forward,
    .bn_eval_forward = wb_cpu_bn_eval_forward,
    .bn_backward = wb_cpu_bn_backward,
    .max_pool_forward = wb_cpu_max_pool_forward,
    .max_pool_backward = wb_cpu_max_pool_backward,
    .avg_pool_forward = wb_cpu_avg_pool_forward,
    .avg_pool_backward = wb_cpu_avg_pool_backward,
    .gemm = wb_cpu_gemm,
    .add_row_bias = wb_cpu_add_row_bias,
    .sum_rows = wb_cpu_sum_rows,
    .bn_act_train_forward = wb_cpu_bn_act_train_forward,
    .bn_act_backward = wb_cpu_bn_act_backward,
};

const wb_dense_kernels *wb_cpu_dense_kernels(void) { return &g_cpu_dense; }
