/* CUDA loss kernels: one thread per element (classification, smooth L1) or
 * per row (softmax cross-entropy, IoU) over the shared math of loss_math.h
 * and loss_rows.h; sum is the fixed-order tree of tree_reduce.h. */
#include "cuda_families.h"
#include "kernel_loop.cuh"
#include "loss_rows.h"
#include "tree_reduce.cuh"

namespace {

__global__ void focal_k(const float *x, const float *t, const float *w, int64_t n, float gamma, float alpha,
                        float *loss) {
    WB_CUDA_FOR_EACH(i, n) loss[i] = wb_focal_elem(x[i], t[i], gamma, alpha) * wb_loss_weight(w, i);
}

__global__ void focal_backward_k(const float *x, const float *t, const float *w, int64_t n, float gamma,
                                 float alpha, wb_loss_grad gy, float *gx) {
    WB_CUDA_FOR_EACH(i, n)
    gx[i] = wb_focal_grad(x[i], t[i], gamma, alpha) * wb_loss_weight(w, i) * wb_loss_upstream(gy, i);
}

__global__ void bce_k(const float *x, const float *t, const float *w, int64_t n, float *loss) {
    WB_CUDA_FOR_EACH(i, n) loss[i] = wb_bce_elem(x[i], t[i]) * wb_loss_weight(w, i);
}

__global__ void bce_backward_k(const float *x, const float *t, const float *w, int64_t n, wb_loss_grad gy,
                               float *gx) {
    WB_CUDA_FOR_EACH(i, n) gx[i] = wb_bce_grad(x[i], t[i]) * wb_loss_weight(w, i) * wb_loss_upstream(gy, i);
}

/* counters[0]: rows counted; counters[1]: the first bad row (starts at the
 * maximum). Integer atomics: exact, so the result is still deterministic. */
__global__ void softmax_ce_k(const float *x, const float *labels, const float *w, int64_t n, int64_t c,
                             float *loss, unsigned long long *counters) {
    WB_CUDA_FOR_EACH(i, n) {
        wb_ce_row r = wb_softmax_ce_at(x, labels, w, i, c, loss);
        if (r == WB_CE_COUNTED) atomicAdd(&counters[0], 1ull);
        else if (r == WB_CE_BAD_LABEL) atomicMin(&counters[1], (unsigned long long)i);
    }
}

__global__ void softmax_ce_backward_k(const float *x, const float *labels, const float *w, int64_t n, int64_t c,
                                      wb_loss_grad gy, float *gx) {
    WB_CUDA_FOR_EACH(i, n) wb_softmax_ce_grad_at(x, labels, w, i, c, gy, gx);
}

__global__ void smooth_l1_k(const float *p, const float *t, const float *w, int64_t n, float beta, float *loss) {
    WB_CUDA_FOR_EACH(i, n) loss[i] = wb_smooth_l1_elem(p[i] - t[i], beta) * wb_loss_weight(w, i);
}

__global__ void smooth_l1_backward_k(const float *p, const float *t, const float *w, int64_t n, float beta,
                                     wb_loss_grad gy, float *gp, float *gt) {
    WB_CUDA_FOR_EACH(i, n) {
        float g = wb_smooth_l1_grad(p[i] - t[i], beta) * wb_loss_weight(w, i) * wb_loss_upstream(gy, i);
        if (gp) gp[i] = g;
        if (gt) gt[i] = -g;
    }
}

__global__ void iou_k(const float *p, const float *t, const float *w, int64_t n, wb_iou_mode mode, float eps,
                      float *loss) {
    WB_CUDA_FOR_EACH(i, n) loss[i] = wb_iou_at(p, t, w, i, mode, eps);
}

__global__ void iou_backward_k(const float *p, const float *t, const float *w, int64_t n, wb_iou_mode mode,
                               float eps, wb_loss_grad gy, float *gp, float *gt) {
    WB_CUDA_FOR_EACH(i, n) wb_iou_grad_at(p, t, w, i, mode, eps, gy, gp, gt);
}

struct value_term {
    const float *x;
    __device__ double operator()(int64_t, int64_t k) const { return x[k]; }
};

void focal(const float *x, const float *t, const float *w, int64_t n, float gamma, float alpha, float *loss) {
    wb_cuda_launch(focal_k, n, x, t, w, n, gamma, alpha, loss);
}

void focal_backward(const float *x, const float *t, const float *w, int64_t n, float gamma, float alpha,
                    wb_loss_grad gy, float *gx) {
    wb_cuda_launch(focal_backward_k, n, x, t, w, n, gamma, alpha, gy, gx);
}

void bce(const float *x, const float *t, const float *w, int64_t n, float *loss) {
    wb_cuda_launch(bce_k, n, x, t, w, n, loss);
}

void bce_backward(const float *x, const float *t, const float *w, int64_t n, wb_loss_grad gy, float *gx) {
    wb_cuda_launch(bce_backward_k, n, x, t, w, n, gy, gx);
}

/* The count and the first bad row are host values: this waits for the
 * compute stream (the front-end needs them before it goes on). */
int64_t softmax_ce(const float *x, const float *labels, const float *w, int64_t n, int64_t c, float *loss,
                   int64_t *bad_row) {
    *bad_row = -1;
    if (n <= 0) return 0;
    cudaStream_t st = wb_cuda_compute_stream();
    unsigned long long host[2];
    const size_t bytes = sizeof host;
    unsigned long long *counters = (unsigned long long *)wb_cuda_scratch_alloc(bytes);
    WB_CUDA_CHECK(cudaMemsetAsync(counters, 0, sizeof counters[0], st));
    WB_CUDA_CHECK(cudaMemsetAsync(counters + 1, 0xff, sizeof counters[1], st));
    wb_cuda_launch(softmax_ce_k, n, x, labels, w, n, c, loss, counters);
    WB_CUDA_CHECK(cudaMemcpyAsync(host, counters, bytes, cudaMemcpyDeviceToHost, st));
    WB_CUDA_CHECK(cudaStreamSynchronize(st));
    wb_cuda_scratch_free(counters, bytes);
    if (host[1] != ~0ull) *bad_row = (int64_t)host[1];
    return (int64_t)host[0];
}

void softmax_ce_backward(const float *x, const float *labels, const float *w, int64_t n, int64_t c,
                         wb_loss_grad gy, float *gx) {
    wb_cuda_launch(softmax_ce_backward_k, n, x, labels, w, n, c, gy, gx);
}

void smooth_l1(const float *p, const float *t, const float *w, int64_t n, float beta, float *loss) {
    wb_cuda_launch(smooth_l1_k, n, p, t, w, n, beta, loss);
}

void smooth_l1_backward(const float *p, const float *t, const float *w, int64_t n, float beta, wb_loss_grad gy,
                        float *gp, float *gt) {
    wb_cuda_launch(smooth_l1_backward_k, n, p, t, w, n, beta, gy, gp, gt);
}

void iou(const float *p, const float *t, const float *w, int64_t n, wb_iou_mode mode, float eps, float *loss) {
    wb_cuda_launch(iou_k, n, p, t, w, n, mode, eps, loss);
}

void iou_backward(const float *p, const float *t, const float *w, int64_t n, wb_iou_mode mode, float eps,
                  wb_loss_grad gy, float *gp, float *gt) {
    wb_cuda_launch(iou_backward_k, n, p, t, w, n, mode, eps, gy, gp, gt);
}

void sum(const float *x, int64_t n, float scale, float *out) {
    wb_tree_sum(1, n, value_term{x}, wb_tree_store_float{out, scale});
}

const wb_loss_kernels g_cuda_loss = {
    .sigmoid_focal = focal,
    .sigmoid_focal_backward = focal_backward,
    .bce_with_logits = bce,
    .bce_with_logits_backward = bce_backward,
    .softmax_ce = softmax_ce,
    .softmax_ce_backward = softmax_ce_backward,
    .smooth_l1 = smooth_l1,
    .smooth_l1_backward = smooth_l1_backward,
    .iou = iou,
    .iou_backward = iou_backward,
    .sum = sum,
};

} // namespace

const wb_loss_kernels *wb_cuda_loss_kernels(void) { return &g_cuda_loss; }
