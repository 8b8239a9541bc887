/* The CUDA gather family: RoIAlign, RoIPool and index_select, one thread per
 * output element with the math of gather_math.h / roi_geometry.h. Their
 * backwards scatter-add into the zeroed input gradient with float atomicAdd,
 * as torchvision's and torch's CUDA kernels do: where RoIs overlap (or an
 * index repeats) the order of the additions, and so the last bits of the
 * sums, vary from run to run. */
#include "cuda_families.h"
#include "gather_math.h"
#include "kernel_loop.cuh"

namespace {

__global__ void roi_align_forward_kernel(wb_roi_args a, const float *feat, const float *rois, float *y) {
    WB_CUDA_FOR_EACH(o, a.k * a.c * a.out_h * a.out_w) {
        wb_roi_out at = wb_roi_out_at(&a, o);
        wb_roi_box b = wb_roi_align_box(rois + 5 * at.k, &a);
        y[o] = wb_roi_align_at(feat + wb_roi_plane_offset(&a, b.batch, at.ch), &a, &b, at.ph, at.pw);
    }
}

__global__ void roi_align_backward_kernel(wb_roi_args a, const float *dy, const float *rois, float *dfeat) {
    WB_CUDA_FOR_EACH(o, a.k * a.c * a.out_h * a.out_w) {
        wb_roi_out at = wb_roi_out_at(&a, o);
        wb_roi_box b = wb_roi_align_box(rois + 5 * at.k, &a);
        float *plane = dfeat + wb_roi_plane_offset(&a, b.batch, at.ch), g = dy[o];
        for (int iy = 0; iy < b.grid_h; iy++) {
            for (int ix = 0; ix < b.grid_w; ix++) {
                wb_roi_taps t;
                if (!wb_roi_align_taps(&a, &b, at.ph, at.pw, iy, ix, &t)) continue;
                for (int q = 0; q < 4; q++) atomicAdd(plane + t.at[q], wb_roi_align_tap_grad(g, t.w[q], &b));
            }
        }
    }
}

__global__ void roi_pool_forward_kernel(wb_roi_args a, const float *feat, const float *rois, float *y,
                                        int32_t *argmax) {
    WB_CUDA_FOR_EACH(o, a.k * a.c * a.out_h * a.out_w) {
        wb_roi_out at = wb_roi_out_at(&a, o);
        wb_roi_pool_bin b = wb_roi_pool_bin_at(rois + 5 * at.k, &a, at.ph, at.pw);
        y[o] = wb_roi_pool_at(feat + wb_roi_plane_offset(&a, b.batch, at.ch), &a, &b, &argmax[o]);
    }
}

__global__ void roi_pool_backward_kernel(wb_roi_args a, const float *dy, const float *rois, const int32_t *argmax,
                                         float *dfeat) {
    WB_CUDA_FOR_EACH(o, a.k * a.c * a.out_h * a.out_w) {
        if (argmax[o] < 0) continue;
        wb_roi_out at = wb_roi_out_at(&a, o);
        int64_t batch = (int64_t)rois[5 * at.k];
        atomicAdd(dfeat + wb_roi_plane_offset(&a, batch, at.ch) + argmax[o], dy[o]);
    }
}

__global__ void index_select_forward_kernel(const float *x, int64_t outer, int64_t len, int64_t inner,
                                            const int64_t *index, int64_t n_index, float *y) {
    WB_CUDA_FOR_EACH(e, outer * n_index * inner) y[e] = x[wb_index_select_source(e, len, inner, index, n_index)];
}

__global__ void index_select_backward_kernel(const float *dy, int64_t outer, int64_t len, int64_t inner,
                                             const int64_t *index, int64_t n_index, float *dx) {
    WB_CUDA_FOR_EACH(e, outer * n_index * inner) {
        atomicAdd(dx + wb_index_select_source(e, len, inner, index, n_index), dy[e]);
    }
}

void zero(float *p, int64_t n) {
    if (n > 0) WB_CUDA_CHECK(cudaMemsetAsync(p, 0, (size_t)n * sizeof(float), wb_cuda_compute_stream()));
}

int64_t outputs(const wb_roi_args *a) { return a->k * a->c * a->out_h * a->out_w; }

void roi_align_forward(const float *feat, const float *rois, const wb_roi_args *a, float *y) {
    wb_cuda_launch(roi_align_forward_kernel, outputs(a), *a, feat, rois, y);
}

void roi_align_backward(const float *dy, const float *rois, const wb_roi_args *a, float *dfeat) {
    zero(dfeat, a->n * a->c * a->h * a->w);
    wb_cuda_launch(roi_align_backward_kernel, outputs(a), *a, dy, rois, dfeat);
}

void roi_pool_forward(const float *feat, const float *rois, const wb_roi_args *a, float *y, int32_t *argmax) {
    wb_cuda_launch(roi_pool_forward_kernel, outputs(a), *a, feat, rois, y, argmax);
}

void roi_pool_backward(const float *dy, const float *rois, const int32_t *argmax, const wb_roi_args *a,
                       float *dfeat) {
    zero(dfeat, a->n * a->c * a->h * a->w);
    wb_cuda_launch(roi_pool_backward_kernel, outputs(a), *a, dy, rois, argmax, dfeat);
}

void index_select_forward(const float *x, int64_t outer, int64_t len, int64_t inner, const int64_t *index,
                          int64_t n_index, float *y) {
    wb_cuda_launch(index_select_forward_kernel, outer * n_index * inner, x, outer, len, inner, index, n_index, y);
}

void index_select_backward(const float *dy, int64_t outer, int64_t len, int64_t inner, const int64_t *index,
                           int64_t n_index, float *dx) {
    zero(dx, outer * len * inner);
    wb_cuda_launch(index_select_backward_kernel, outer * n_index * inner, dy, outer, len, inner, index, n_index,
                   dx);
}

const wb_gather_kernels g_cuda_gather = {
    roi_align_forward, roi_align_backward, roi_pool_forward, roi_pool_backward,
    index_select_forward, index_select_backward,
};

}  // namespace

extern "C" const wb_gather_kernels *wb_cuda_gather_kernels(void) { return &g_cuda_gather; }
