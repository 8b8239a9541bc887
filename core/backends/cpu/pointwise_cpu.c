/* The OpenMP pointwise family table. */
#include "../families.h"
#include "pointwise_cpu.h"

static const wb_pointwise_kernels g_cpu_pointwise = {
    .act_forward = wb_cpu_act_forward,
    .act_backward = wb_cpu_act_backward,
    .binary_forward = wb_cpu_binary_forward,
    .binary_backward = wb_cpu_binary_backward,
    .scale = wb_cpu_scale,
    .unary_forward = wb_cpu_unary_forward,
    .unary_backward = wb_cpu_unary_backward,
    .where_forward = wb_cpu_where_forward,
    .where_backward = wb_cpu_where_backward,
    .nearest_forward = wb_cpu_nearest_forward,
    .nearest_backward = wb_cpu_nearest_backward,
    .bilinear_forward = wb_cpu_bilinear_forward,
    .bilinear_backward = wb_cpu_bilinear_backward,
    .copy_block = wb_cpu_copy_block,
    .permute = wb_cpu_permute,
    .reduce_sum = wb_cpu_reduce_sum,
    .broadcast_axis = wb_cpu_broadcast_axis,
};

const wb_pointwise_kernels *wb_cpu_pointwise_kernels(void) { return &g_cpu_pointwise; }
