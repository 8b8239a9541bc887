/* Index arithmetic of the CUDA pointwise kernels: which input elements one
 * output element (one thread's index) reads. Plain C with WB_HD, so
 * tests/unit/test_cuda_math_pointwise.c runs exactly this code on the CPU
 * against the reference backend. Functions without WB_HD run on the host
 * when a kernel is planned. */
#ifndef WB_CORE_CUDA_POINTWISE_INDEX_H
#define WB_CORE_CUDA_POINTWISE_INDEX_H

#include <stdint.h>
#include "../hd.h"
#include "../kernels_pointwise.h"

static inline int64_t wb_shape_numel(int ndim, const int64_t *shape) {
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

/* Offsets into a and b of output element i of a broadcast. */
static inline WB_HD void wb_bcast_offsets(const wb_bcast *g, int64_t i, int64_t *oa, int64_t *ob) {
    *oa = 0;
    *ob = 0;
    for (int d = g->ndim - 1; d >= 0; d--) {
        int64_t idx = i % g->shape[d];
        i /= g->shape[d];
        *oa += idx * g->a_stride[d];
        *ob += idx * g->b_stride[d];
    }
}

/* Offsets into cond, a and b of output element i of where. */
static inline WB_HD void wb_bcast3_offsets(const wb_bcast3 *g, int64_t i, int64_t off[3]) {
    off[0] = off[1] = off[2] = 0;
    for (int d = g->ndim - 1; d >= 0; d--) {
        int64_t idx = i % g->shape[d];
        i /= g->shape[d];
        for (int k = 0; k < 3; k++) off[k] += idx * g->stride[k][d];
    }
}

/* The gradient of a broadcast operand as `count` independent sums: element
 * j of the operand sums `len` terms, term k walking the operand's broadcast
 * (reduced) dims in row-major order, i.e. in the output's memory order.
 * Offsets are kept for the output (slot 0) and each operand (slots 1..). */
#define WB_SLICE_SLOTS 4

typedef struct wb_slices {
    int nk, nr;
    int64_t count, len;
    int64_t kshape[WB_MAX_DIMS], rshape[WB_MAX_DIMS];
    int64_t kstride[WB_SLICE_SLOTS][WB_MAX_DIMS], rstride[WB_SLICE_SLOTS][WB_MAX_DIMS];
} wb_slices;

/* The slices of operand `which` (0-based among the nops <= 3 operands whose
 * strides are op_stride[]) of a broadcast over `shape`. */
static inline void wb_slices_of(int ndim, const int64_t *shape, int nops, const int64_t *const *op_stride,
                                int which, wb_slices *s) {
    int64_t y_stride[WB_MAX_DIMS], n = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        y_stride[d] = n;
        n *= shape[d];
    }
    s->nk = s->nr = 0;
    s->count = s->len = 1;
    for (int d = 0; d < ndim; d++) {
        int kept = op_stride[which][d] != 0;
        int at = kept ? s->nk++ : s->nr++;
        (kept ? s->kshape : s->rshape)[at] = shape[d];
        *(kept ? &s->count : &s->len) *= shape[d];
        for (int q = 0; q < WB_SLICE_SLOTS; q++) {
            int64_t st = q == 0 ? y_stride[d] : (q <= nops ? op_stride[q - 1][d] : 0);
            (kept ? s->kstride : s->rstride)[q][at] = st;
        }
    }
}

/* Offsets (output, then each operand) of term k of slice j. */
static inline WB_HD void wb_slice_offsets(const wb_slices *s, int64_t j, int64_t k,
                                          int64_t off[WB_SLICE_SLOTS]) {
    for (int q = 0; q < WB_SLICE_SLOTS; q++) off[q] = 0;
    for (int d = s->nk - 1; d >= 0; d--) {
        int64_t idx = j % s->kshape[d];
        j /= s->kshape[d];
        for (int q = 0; q < WB_SLICE_SLOTS; q++) off[q] += idx * s->kstride[q][d];
    }
    for (int d = s->nr - 1; d >= 0; d--) {
        int64_t idx = k % s->rshape[d];
        k /= s->rshape[d];
        for (int q = 0; q < WB_SLICE_SLOTS; q++) off[q] += idx * s->rstride[q][d];
    }
}

/* y = x.permute(perm): output element i reads x at the sum of its
 * coordinates times src_stride (x's stride of the dim each output dim is). */
typedef struct wb_permute_geom {
    int ndim;
    int64_t out_shape[WB_MAX_DIMS], src_stride[WB_MAX_DIMS];
} wb_permute_geom;

static inline wb_permute_geom wb_permute_geom_of(int ndim, const int64_t *shape, const int *perm) {
    wb_permute_geom g;
    int64_t in_stride[WB_MAX_DIMS], n = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        in_stride[d] = n;
        n *= shape[d];
    }
    g.ndim = ndim;
    for (int d = 0; d < ndim; d++) {
        g.out_shape[d] = shape[perm[d]];
        g.src_stride[d] = in_stride[perm[d]];
    }
    return g;
}

static inline WB_HD int64_t wb_permute_src(const wb_permute_geom *g, int64_t i) {
    int64_t off = 0;
    for (int d = g->ndim - 1; d >= 0; d--) {
        off += (i % g->out_shape[d]) * g->src_stride[d];
        i /= g->out_shape[d];
    }
    return off;
}

/* copy_block: element i of the rows x cols block, as (source, destination) offsets. */
static inline WB_HD void wb_block_offsets(int64_t i, int64_t cols, int64_t src_stride, int64_t dst_stride,
                                          int64_t *src, int64_t *dst) {
    int64_t r = i / cols, k = i % cols;
    *src = r * src_stride + k;
    *dst = r * dst_stride + k;
}

/* [outer, len, inner]: where term k of reduced element j = (o, i) lies, and
 * which dy element broadcast_axis's output element i reads. */
static inline WB_HD int64_t wb_axis_term(int64_t j, int64_t k, int64_t len, int64_t inner) {
    return ((j / inner) * len + k) * inner + j % inner;
}

static inline WB_HD int64_t wb_axis_source(int64_t i, int64_t len, int64_t inner) {
    return (i / (len * inner)) * inner + i % inner;
}

/* where's backward: dy where the condition picks the operand (pick_a for a). */
static inline WB_HD float wb_where_grad(float cond, float dy, int pick_a) {
    return (cond != 0.0f) == (pick_a != 0) ? dy : 0.0f;
}

/* Resize forward: output element i of planes x out_h x out_w, with the
 * reference's expressions. */
static inline WB_HD float wb_nearest_at(const float *x, int64_t i, int in_h, int in_w, int out_h, int out_w) {
    int64_t ox = i % out_w, oy = (i / out_w) % out_h, p = i / ((int64_t)out_w * out_h);
    int64_t sy = wb_nearest_src(oy, in_h, out_h), sx = wb_nearest_src(ox, in_w, out_w);
    return x[(p * in_h + sy) * in_w + sx];
}

static inline WB_HD float wb_bilinear_at(const float *x, int64_t i, int in_h, int in_w, int out_h, int out_w,
                                         int align_corners) {
    int64_t ox = i % out_w, oy = (i / out_w) % out_h, p = i / ((int64_t)out_w * out_h);
    const float *xp = x + p * in_h * in_w;
    wb_lerp ly = wb_bilinear_src(oy, in_h, out_h, align_corners);
    wb_lerp lx = wb_bilinear_src(ox, in_w, out_w, align_corners);
    return ly.w0 * (lx.w0 * xp[ly.i0 * in_w + lx.i0] + lx.w1 * xp[ly.i0 * in_w + lx.i1]) +
           ly.w1 * (lx.w0 * xp[ly.i1 * in_w + lx.i0] + lx.w1 * xp[ly.i1 * in_w + lx.i1]);
}

/* Resize backward gathers instead of scattering (no float atomics, so the
 * result does not depend on scheduling): input pixel s of an axis receives
 * from the contiguous run of output indices whose source index is s, since
 * every source index rule is non-decreasing in the output index. */
typedef enum wb_src_rule { WB_SRC_NEAREST, WB_SRC_LERP_I0, WB_SRC_LERP_I1 } wb_src_rule;

static inline WB_HD int64_t wb_src_of(wb_src_rule r, int64_t dst, int64_t in, int64_t out, int align_corners) {
    if (r == WB_SRC_NEAREST) return wb_nearest_src(dst, in, out);
    wb_lerp l = wb_bilinear_src(dst, in, out, align_corners);
    return r == WB_SRC_LERP_I0 ? l.i0 : l.i1;
}

/* The first output index in [0, out] whose source index under r is >= s. */
static inline WB_HD int64_t wb_first_dst_from(wb_src_rule r, int64_t s, int64_t in, int64_t out,
                                              int align_corners) {
    int64_t lo = 0, hi = out;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (wb_src_of(r, mid, in, out, align_corners) >= s) hi = mid;
        else lo = mid + 1;
    }
    return lo;
}

/* dx of input element i: dy summed over the outputs read from it, in the
 * reference's order (rows, then columns), so the float sum is the same. */
static inline WB_HD float wb_nearest_grad_at(const float *dy, int64_t i, int in_h, int in_w, int out_h,
                                             int out_w) {
    int64_t ix = i % in_w, iy = (i / in_w) % in_h, p = i / ((int64_t)in_w * in_h);
    int64_t y0 = wb_first_dst_from(WB_SRC_NEAREST, iy, in_h, out_h, 0);
    int64_t y1 = wb_first_dst_from(WB_SRC_NEAREST, iy + 1, in_h, out_h, 0);
    int64_t x0 = wb_first_dst_from(WB_SRC_NEAREST, ix, in_w, out_w, 0);
    int64_t x1 = wb_first_dst_from(WB_SRC_NEAREST, ix + 1, in_w, out_w, 0);
    float acc = 0.0f;
    for (int64_t oy = y0; oy < y1; oy++)
        for (int64_t ox = x0; ox < x1; ox++) acc += dy[(p * out_h + oy) * out_w + ox];
    return acc;
}

/* Outputs reading pixel s through i0 or i1: from the first with i1 >= s up
 * to the last with i0 <= s (i0 <= i1 <= i0 + 1). Each output's four terms
 * are added in the reference's order with its products. */
static inline WB_HD float wb_bilinear_grad_at(const float *dy, int64_t i, int in_h, int in_w, int out_h,
                                              int out_w, int ac) {
    int64_t ix = i % in_w, iy = (i / in_w) % in_h, p = i / ((int64_t)in_w * in_h);
    int64_t y0 = wb_first_dst_from(WB_SRC_LERP_I1, iy, in_h, out_h, ac);
    int64_t y1 = wb_first_dst_from(WB_SRC_LERP_I0, iy + 1, in_h, out_h, ac);
    int64_t x0 = wb_first_dst_from(WB_SRC_LERP_I1, ix, in_w, out_w, ac);
    int64_t x1 = wb_first_dst_from(WB_SRC_LERP_I0, ix + 1, in_w, out_w, ac);
    float acc = 0.0f;
    for (int64_t oy = y0; oy < y1; oy++) {
        wb_lerp ly = wb_bilinear_src(oy, in_h, out_h, ac);
        for (int64_t ox = x0; ox < x1; ox++) {
            wb_lerp lx = wb_bilinear_src(ox, in_w, out_w, ac);
            float g = dy[(p * out_h + oy) * out_w + ox];
            if (ly.i0 == iy && lx.i0 == ix) acc += ly.w0 * lx.w0 * g;
            if (ly.i0 == iy && lx.i1 == ix) acc += ly.w0 * lx.w1 * g;
            if (ly.i1 == iy && lx.i0 == ix) acc += ly.w1 * lx.w0 * g;
            if (ly.i1 == iy && lx.i1 == ix) acc += ly.w1 * lx.w1 * g;
        }
    }
    return acc;
}

#endif
