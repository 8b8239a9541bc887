/* CUDA pointwise kernels: grid-stride loops over the shared formulas
 * (pointwise_math.h) and index arithmetic (pointwise_index.h). Whatever sums
 * (gradients of broadcast operands, reduce_sum, resize backward) gathers
 * into its output in a fixed order instead of scattering with atomics, so
 * every result is independent of scheduling. */
#include "../pointwise_math.h"
#include "cuda_families.h"
#include "kernel_loop.cuh"
#include "pointwise_index.h"
#include "tree_reduce.cuh"

namespace {

__global__ void act_forward_k(wb_act_kind kind, float alpha, const float *x, float *y, int64_t n) {
    WB_CUDA_FOR_EACH(i, n) y[i] = wb_act_value(kind, alpha, x[i]);
}

/* Only one of x and y is still alive (see kernels_pointwise.h). */
__global__ void act_backward_k(wb_act_kind kind, float alpha, const float *x, const float *y, const float *dy,
                               float *dx, int64_t n) {
    bool from_y = wb_act_reads_output(kind);
    WB_CUDA_FOR_EACH(i, n) dx[i] = wb_act_grad(kind, alpha, from_y ? 0.0f : x[i], from_y ? y[i] : 0.0f, dy[i]);
}

__global__ void binary_forward_k(wb_binary_kind kind, wb_bcast g, const float *a, const float *b, float *y,
                                 int64_t n) {
    WB_CUDA_FOR_EACH(i, n) {
        int64_t oa, ob;
        wb_bcast_offsets(&g, i, &oa, &ob);
        y[i] = wb_binary_value(kind, a[oa], b[ob]);
    }
}

/* The gradient of an operand of the output's shape: one local gradient each. */
__global__ void binary_grad_k(wb_binary_kind kind, wb_bcast g, const float *a, const float *b, const float *dy,
                              float *d, bool for_a, int64_t n) {
    bool reads = wb_binary_backward_reads_operands(kind);
    WB_CUDA_FOR_EACH(i, n) {
        int64_t oa, ob;
        wb_bcast_offsets(&g, i, &oa, &ob);
        float av = reads ? a[oa] : 0.0f, bv = reads ? b[ob] : 0.0f;
        d[i] = for_a ? wb_binary_grad_a(kind, av, bv, dy[i]) : wb_binary_grad_b(kind, av, bv, dy[i]);
    }
}

/* Term k of element j of a broadcast operand's gradient (slots: dy, a, b). */
struct binary_grad_term {
    wb_binary_kind kind;
    wb_slices s;
    const float *a, *b, *dy;
    bool for_a, reads;
    __device__ double operator()(int64_t j, int64_t k) const {
        int64_t off[WB_SLICE_SLOTS];
        wb_slice_offsets(&s, j, k, off);
        float av = reads ? a[off[1]] : 0.0f, bv = reads ? b[off[2]] : 0.0f, g = dy[off[0]];
        return for_a ? wb_binary_grad_a(kind, av, bv, g) : wb_binary_grad_b(kind, av, bv, g);
    }
};

/* Term k of element j of where's broadcast operand gradient (slots: dy, cond, a, b). */
struct where_grad_term {
    wb_slices s;
    const float *cond, *dy;
    int pick_a;
    __device__ double operator()(int64_t j, int64_t k) const {
        int64_t off[WB_SLICE_SLOTS];
        wb_slice_offsets(&s, j, k, off);
        return wb_where_grad(cond[off[1]], dy[off[0]], pick_a);
    }
};

struct axis_term {
    const float *x;
    int64_t len, inner;
    __device__ double operator()(int64_t j, int64_t k) const { return x[wb_axis_term(j, k, len, inner)]; }
};

__global__ void scale_k(const float *x, float s, float *y, int64_t n) {
    WB_CUDA_FOR_EACH(i, n) y[i] = s * x[i];
}

__global__ void unary_forward_k(wb_unary_kind kind, float p, float q, const float *x, float *y, int64_t n) {
    WB_CUDA_FOR_EACH(i, n) y[i] = wb_unary_value(kind, p, q, x[i]);
}

/* Only what the kind reads is still alive (see kernels_pointwise.h). */
__global__ void unary_backward_k(wb_unary_kind kind, float p, float q, const float *x, const float *y,
                                 const float *dy, float *dx, int64_t n) {
    bool rx = wb_unary_reads_input(kind), ry = wb_unary_reads_output(kind);
    WB_CUDA_FOR_EACH(i, n) dx[i] = wb_unary_grad(kind, p, q, rx ? x[i] : 0.0f, ry ? y[i] : 0.0f, dy[i]);
}

__global__ void where_forward_k(wb_bcast3 g, const float *cond, const float *a, const float *b, float *y,
                                int64_t n) {
    WB_CUDA_FOR_EACH(i, n) {
        int64_t off[3];
        wb_bcast3_offsets(&g, i, off);
        y[i] = cond[off[0]] != 0.0f ? a[off[1]] : b[off[2]];
    }
}

__global__ void where_grad_k(wb_bcast3 g, const float *cond, const float *dy, float *d, int pick_a, int64_t n) {
    WB_CUDA_FOR_EACH(i, n) {
        int64_t off[3];
        wb_bcast3_offsets(&g, i, off);
        d[i] = wb_where_grad(cond[off[0]], dy[i], pick_a);
    }
}

__global__ void nearest_forward_k(const float *x, int in_h, int in_w, float *y, int out_h, int out_w, int64_t n) {
    WB_CUDA_FOR_EACH(i, n) y[i] = wb_nearest_at(x, i, in_h, in_w, out_h, out_w);
}

__global__ void nearest_backward_k(const float *dy, int in_h, int in_w, int out_h, int out_w, float *dx,
                                   int64_t n) {
    WB_CUDA_FOR_EACH(i, n) dx[i] = wb_nearest_grad_at(dy, i, in_h, in_w, out_h, out_w);
}

__global__ void bilinear_forward_k(const float *x, int in_h, int in_w, float *y, int out_h, int out_w, int ac,
                                   int64_t n) {
    WB_CUDA_FOR_EACH(i, n) y[i] = wb_bilinear_at(x, i, in_h, in_w, out_h, out_w, ac);
}

__global__ void bilinear_backward_k(const float *dy, int in_h, int in_w, int out_h, int out_w, int ac, float *dx,
                                    int64_t n) {
    WB_CUDA_FOR_EACH(i, n) dx[i] = wb_bilinear_grad_at(dy, i, in_h, in_w, out_h, out_w, ac);
}

__global__ void copy_block_k(float *dst, int64_t dst_stride, const float *src, int64_t src_stride, int64_t cols,
                             int64_t n) {
    WB_CUDA_FOR_EACH(i, n) {
        int64_t s, d;
        wb_block_offsets(i, cols, src_stride, dst_stride, &s, &d);
        dst[d] = src[s];
    }
}

__global__ void permute_k(const float *x, wb_permute_geom g, float *y, int64_t n) {
    WB_CUDA_FOR_EACH(i, n) y[i] = x[wb_permute_src(&g, i)];
}

__global__ void broadcast_axis_k(const float *dy, int64_t len, int64_t inner, float scale, float *dx, int64_t n) {
    WB_CUDA_FOR_EACH(i, n) dx[i] = scale * dy[wb_axis_source(i, len, inner)];
}

void act_forward(wb_act_kind kind, float alpha, const float *x, float *y, int64_t n) {
    wb_cuda_launch(act_forward_k, n, kind, alpha, x, y, n);
}

void act_backward(wb_act_kind kind, float alpha, const float *x, const float *y, const float *dy, float *dx,
                  int64_t n) {
    wb_cuda_launch(act_backward_k, n, kind, alpha, x, y, dy, dx, n);
}

void binary_forward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b, float *y) {
    int64_t n = wb_shape_numel(g->ndim, g->shape);
    wb_cuda_launch(binary_forward_k, n, kind, *g, a, b, y, n);
}

/* An operand of the output's shape gets one local gradient per element; a
 * broadcast one sums its slices of local gradients over the tree. */
void binary_operand_grad(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b, const float *dy,
                         float *d, bool for_a) {
    const int64_t *strides[2] = {g->a_stride, g->b_stride};
    wb_slices s;
    wb_slices_of(g->ndim, g->shape, 2, strides, for_a ? 0 : 1, &s);
    if (s.nr == 0) {
        wb_cuda_launch(binary_grad_k, s.count, kind, *g, a, b, dy, d, for_a, s.count);
        return;
    }
    bool reads = wb_binary_backward_reads_operands(kind);
    wb_tree_sum(s.count, s.len, binary_grad_term{kind, s, a, b, dy, for_a, reads}, wb_tree_store_float{d, 1.0f});
}

void binary_backward(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b, const float *dy,
                     float *da, float *db) {
    if (da) binary_operand_grad(kind, g, a, b, dy, da, true);
    if (db) binary_operand_grad(kind, g, a, b, dy, db, false);
}

void scale(const float *x, float s, float *y, int64_t n) { wb_cuda_launch(scale_k, n, x, s, y, n); }

void unary_forward(wb_unary_kind kind, float p, float q, const float *x, float *y, int64_t n) {
    wb_cuda_launch(unary_forward_k, n, kind, p, q, x, y, n);
}

void unary_backward(wb_unary_kind kind, float p, float q, const float *x, const float *y, const float *dy,
                    float *dx, int64_t n) {
    wb_cuda_launch(unary_backward_k, n, kind, p, q, x, y, dy, dx, n);
}

void where_forward(const wb_bcast3 *g, const float *cond, const float *a, const float *b, float *y) {
    int64_t n = wb_shape_numel(g->ndim, g->shape);
    wb_cuda_launch(where_forward_k, n, *g, cond, a, b, y, n);
}

/* The same for where's operand k (1: a, 2: b). */
void where_operand_grad(const wb_bcast3 *g, int k, const float *cond, const float *dy, float *d) {
    const int64_t *strides[3] = {g->stride[0], g->stride[1], g->stride[2]};
    wb_slices s;
    wb_slices_of(g->ndim, g->shape, 3, strides, k, &s);
    int pick_a = k == 1;
    if (s.nr == 0) {
        wb_cuda_launch(where_grad_k, s.count, *g, cond, dy, d, pick_a, s.count);
        return;
    }
    wb_tree_sum(s.count, s.len, where_grad_term{s, cond, dy, pick_a}, wb_tree_store_float{d, 1.0f});
}

void where_backward(const wb_bcast3 *g, const float *cond, const float *dy, float *da, float *db) {
    if (da) where_operand_grad(g, 1, cond, dy, da);
    if (db) where_operand_grad(g, 2, cond, dy, db);
}

void nearest_forward(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h, int out_w) {
    int64_t n = planes * out_h * out_w;
    wb_cuda_launch(nearest_forward_k, n, x, in_h, in_w, y, out_h, out_w, n);
}

void nearest_backward(const float *dy, int64_t planes, int in_h, int in_w, int out_h, int out_w, float *dx) {
    int64_t n = planes * in_h * in_w;
    wb_cuda_launch(nearest_backward_k, n, dy, in_h, in_w, out_h, out_w, dx, n);
}

void bilinear_forward(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h, int out_w,
                      int align_corners) {
    int64_t n = planes * out_h * out_w;
    wb_cuda_launch(bilinear_forward_k, n, x, in_h, in_w, y, out_h, out_w, align_corners, n);
}

void bilinear_backward(const float *dy, int64_t planes, int in_h, int in_w, int out_h, int out_w,
                       int align_corners, float *dx) {
    int64_t n = planes * in_h * in_w;
    wb_cuda_launch(bilinear_backward_k, n, dy, in_h, in_w, out_h, out_w, align_corners, dx, n);
}

void copy_block(float *dst, int64_t dst_stride, const float *src, int64_t src_stride, int64_t rows,
                int64_t cols) {
    int64_t n = rows * cols;
    wb_cuda_launch(copy_block_k, n, dst, dst_stride, src, src_stride, cols, n);
}

void permute(const float *x, int ndim, const int64_t *shape, const int *perm, float *y) {
    int64_t n = wb_shape_numel(ndim, shape);
    wb_cuda_launch(permute_k, n, x, wb_permute_geom_of(ndim, shape, perm), y, n);
}

void reduce_sum(const float *x, int64_t outer, int64_t len, int64_t inner, float s, float *y) {
    wb_tree_sum(outer * inner, len, axis_term{x, len, inner}, wb_tree_store_float{y, s});
}

void broadcast_axis(const float *dy, int64_t outer, int64_t len, int64_t inner, float s, float *dx) {
    int64_t n = outer * len * inner;
    wb_cuda_launch(broadcast_axis_k, n, dy, len, inner, s, dx, n);
}

const wb_pointwise_kernels g_cuda_pointwise = {
    .act_forward = act_forward,
    .act_backward = act_backward,
    .binary_forward = binary_forward,
    .binary_backward = binary_backward,
    .scale = scale,
    .unary_forward = unary_forward,
    .unary_backward = unary_backward,
    .where_forward = where_forward,
    .where_backward = where_backward,
    .nearest_forward = nearest_forward,
    .nearest_backward = nearest_backward,
    .bilinear_forward = bilinear_forward,
    .bilinear_backward = bilinear_backward,
    .copy_block = copy_block,
    .permute = permute,
    .reduce_sum = reduce_sum,
    .broadcast_axis = broadcast_axis,
};

} // namespace

const wb_pointwise_kernels *wb_cuda_pointwise_kernels(void) { return &g_cuda_pointwise; }
