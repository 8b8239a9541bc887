/* The reference pointwise family table. */
#include "../families.h"
#include "pointwise_ref.h"

static const wb_pointwise_kernels g_ref_pointwise = {
    .act_forward = wb_ref_act_forward,
    .act_backward = wb_ref_act_backward,
    .binary_forward = wb_ref_binary_forward,
    .binary_backward = wb_ref_binary_backward,
    .scale = wb_ref_scale,
    .unary_forward = wb_ref_unary_forward,
    .unary_backward = wb_ref_unary_backward,
    .where_forward = wb_ref_where_forward,
    .where_backward = wb_ref_where_backward,
    .nearest_forward = wb_ref_nearest_forward,
    .nearest_backward = wb_ref_nearest_backward,
    .bilinear_forward = wb_ref_bilinear_forward,
    .bilinear_backward = wb_ref_bilinear_backward,
    .copy_block = wb_ref_copy_block,
    .permute = wb_ref_permute,
    .reduce_sum = wb_ref_reduce_sum,
    .broadcast_axis = wb_ref_broadcast_axis,
};

const wb_pointwise_kernels *wb_ref_pointwise_kernels(void) { return &g_ref_pointwise; }
