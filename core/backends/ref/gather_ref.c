/* The reference gather family table. */
#include "../families.h"
#include "gather_ref.h"

static const wb_gather_kernels g_ref_gather = {
    .roi_align_forward = wb_ref_roi_align_forward,
    .roi_align_backward = wb_ref_roi_align_backward,
    .roi_pool_forward = wb_ref_roi_pool_forward,
    .roi_pool_backward = wb_ref_roi_pool_backward,
    .index_select_forward = wb_ref_index_select_forward,
    .index_select_backward = wb_ref_index_select_backward,
};

const wb_gather_kernels *wb_ref_gather_kernels(void) { return &g_ref_gather; }
