/* The CUDA box family: IoU, delta coding and anchors one thread per output
 * (pair, box, anchor), and NMS in torchvision's CUDA scheme over the math of
 * boxes_math.h: keys sorted by cub's radix sort (stable, so equal scores keep
 * ascending indices, as the host order), an IoU bitmask of 64-box column
 * words, one thread per word, then the sequential pass over the mask in a
 * single block whose threads share each kept row's words. Only the kept
 * count comes back to the host. */
#include <cub/device/device_radix_sort.cuh>
#include "../boxes_math.h"
#include "../kernels_boxes.h"
#include "cuda_families.h"
#include "kernel_loop.cuh"

namespace {

__global__ void iou_kernel(const float *a, int64_t na, const float *b, int64_t nb, float *out) {
    WB_CUDA_FOR_EACH(e, na * nb) out[e] = wb_box_iou_pair(a + 4 * (e / nb), b + 4 * (e % nb));
}

__global__ void encode_kernel(const float *anchors, const float *gt, int64_t n, wb_box_coder c, float *deltas) {
    WB_CUDA_FOR_EACH(i, n) wb_box_encode_one(anchors + 4 * i, gt + 4 * i, c.means, c.stds, deltas + 4 * i);
}

__global__ void decode_kernel(const float *anchors, const float *deltas, int64_t n, wb_box_coder c, float *boxes) {
    WB_CUDA_FOR_EACH(i, n) {
        wb_box_decode_one(anchors + 4 * i, deltas + 4 * i, c.means, c.stds, c.bound, c.clip_h, c.clip_w,
                          boxes + 4 * i);
    }
}

__global__ void grid_anchors_kernel(const float *base, int n_base, int64_t rows, int64_t feat_w, int stride,
                                    float *out) {
    WB_CUDA_FOR_EACH(r, rows) {
        wb_anchor_cell c = wb_anchor_cell_of(r, n_base, feat_w);
        wb_grid_anchor(base + 4 * c.a, c.x, c.y, stride, out + 4 * r);
    }
}

__global__ void nms_keys_kernel(const float *scores, int64_t n, uint32_t *keys, int32_t *order) {
    WB_CUDA_FOR_EACH(i, n) {
        keys[i] = wb_nms_order_key(scores[i]);
        order[i] = (int32_t)i;
    }
}

/* The candidates' boxes and labels in score order, so mask rows read
 * neighbouring memory. */
__global__ void nms_gather_kernel(const float *boxes, const float *labels, const int32_t *order, int64_t n,
                                  float *sorted_boxes, float *sorted_labels) {
    WB_CUDA_FOR_EACH(i, n) {
        for (int k = 0; k < 4; k++) sorted_boxes[4 * i + k] = boxes[4 * (int64_t)order[i] + k];
        if (labels) sorted_labels[i] = labels[order[i]];
    }
}

__global__ void nms_mask_kernel(const float *boxes, const float *labels, int64_t n, float thr, uint64_t *mask) {
    int64_t words = wb_nms_words(n);
    WB_CUDA_FOR_EACH(w, n * words) mask[w] = wb_nms_mask_word(boxes, labels, n, w / words, w % words, thr);
}

/* The pass over the mask in one block: every thread reads the same removed
 * bit after the barrier, so all take the same branch; a row only sets bits
 * after its own, so the word holding bit i reads the same whether its owner
 * has ORed row i into it yet or not. */
__global__ void nms_reduce_kernel(const uint64_t *mask, int64_t n, const int32_t *order, uint64_t *removed,
                                  float *keep, int64_t *count) {
    int64_t words = wb_nms_words(n), kept = 0;
    for (int64_t w = threadIdx.x; w < words; w += blockDim.x) removed[w] = 0;
    for (int64_t i = 0; i < n; i++) {
        __syncthreads();
        if (wb_nms_removed(removed, i)) continue;
        if (threadIdx.x == 0) keep[kept] = (float)order[i];
        kept++;
        wb_nms_absorb_row(removed, mask + i * words, i, words, threadIdx.x, blockDim.x);
    }
    if (threadIdx.x == 0) *count = kept;
}

void iou(const float *a, int64_t na, const float *b, int64_t nb, float *out) {
    wb_cuda_launch(iou_kernel, na * nb, a, na, b, nb, out);
}

void encode(const float *anchors, const float *gt, int64_t n, const wb_box_coder *c, float *deltas) {
    wb_cuda_launch(encode_kernel, n, anchors, gt, n, *c, deltas);
}

void decode(const float *anchors, const float *deltas, int64_t n, const wb_box_coder *c, float *boxes) {
    wb_cuda_launch(decode_kernel, n, anchors, deltas, n, *c, boxes);
}

void grid_anchors(const float *base, int n_base, int64_t feat_h, int64_t feat_w, int stride, float *out) {
    int64_t rows = feat_h * feat_w * n_base;
    wb_cuda_launch(grid_anchors_kernel, rows, base, n_base, rows, feat_w, stride, out);
}

/* One scratch block carved into the NMS buffers, 8-byte aligned each. */
struct nms_scratch {
    size_t bytes;
    char *base;
    uint32_t *keys, *sorted_keys;
    int32_t *order, *sorted_order;
    float *sorted_boxes, *sorted_labels;
    uint64_t *mask, *removed;
    int64_t *count;
    void *sort_temp;
    size_t sort_bytes;
};

size_t align8(size_t b) { return (b + 7) / 8 * 8; }

nms_scratch nms_scratch_take(int64_t n, bool labels) {
    nms_scratch s = {};
    size_t un = (size_t)n, words = (size_t)wb_nms_words(n);
    WB_CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(nullptr, s.sort_bytes, (const uint32_t *)nullptr,
                                                            (uint32_t *)nullptr, (const int32_t *)nullptr,
                                                            (int32_t *)nullptr, (int)n));
    size_t sizes[] = {un * 4, un * 4, un * 4, un * 4, un * 16, labels ? un * 4 : 0, un * words * 8, words * 8, 8,
                      s.sort_bytes};
    for (size_t b : sizes) s.bytes += align8(b);
    s.base = (char *)wb_cuda_scratch_or_fail(s.bytes, "nms scratch");
    char *p = s.base;
    void **slots[] = {(void **)&s.keys,          (void **)&s.sorted_keys,   (void **)&s.order,
                      (void **)&s.sorted_order,  (void **)&s.sorted_boxes,  (void **)&s.sorted_labels,
                      (void **)&s.mask,          (void **)&s.removed,       (void **)&s.count,
                      &s.sort_temp};
    for (int k = 0; k < 10; k++) {
        *slots[k] = sizes[k] ? p : nullptr;
        p += align8(sizes[k]);
    }
    return s;
}

int64_t nms(const float *boxes, const float *scores, const float *labels, int64_t n, float thr, float *keep) {
    if (n <= 0) return 0;
    cudaStream_t st = wb_cuda_compute_stream();
    nms_scratch s = nms_scratch_take(n, labels != nullptr);
    wb_cuda_launch(nms_keys_kernel, n, scores, n, s.keys, s.order);
    WB_CUDA_CHECK(cub::DeviceRadixSort::SortPairsDescending(s.sort_temp, s.sort_bytes, s.keys, s.sorted_keys,
                                                            s.order, s.sorted_order, (int)n, 0, 32, st));
    wb_cuda_launch(nms_gather_kernel, n, boxes, labels, s.sorted_order, n, s.sorted_boxes, s.sorted_labels);
    wb_cuda_launch(nms_mask_kernel, n * wb_nms_words(n), s.sorted_boxes, s.sorted_labels, n, thr, s.mask);
    nms_reduce_kernel<<<1, WB_CUDA_BLOCK, 0, st>>>(s.mask, n, s.sorted_order, s.removed, keep, s.count);
    WB_CUDA_CHECK(cudaGetLastError());
    int64_t count = 0;
    WB_CUDA_CHECK(cudaMemcpyAsync(&count, s.count, sizeof count, cudaMemcpyDeviceToHost, st));
    WB_CUDA_CHECK(cudaStreamSynchronize(st));
    wb_cuda_scratch_free(s.base, s.bytes);
    return count;
}

const wb_box_kernels g_cuda_boxes = {iou, encode, decode, grid_anchors, nms};

}  // namespace

extern "C" const wb_box_kernels *wb_cuda_box_kernels(void) { return &g_cuda_boxes; }
