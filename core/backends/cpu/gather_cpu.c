/* The optimized CPU gather family table. */
#include "../families.h"
#include "gather_cpu.h"

static const wb_gather_kernels g_cpu_gather = {
    .roi_align_forward = wb_cpu_roi_align_forward,
    .roi_align_backward = wb_cpu_roi_align_backward,
    .roi_pool_forward = wb_cpu_roi_pool_forward,
    .roi_pool_backward = wb_cpu_roi_pool_backward,
    .index_select_forward = wb_cpu_index_select_forward,
    .index_select_backward = wb_cpu_index_select_backward,
};

const wb_gather_kernels *wb_cpu_gather_kernels(void) { return &g_cpu_gather; }
