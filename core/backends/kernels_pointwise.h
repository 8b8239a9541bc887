/* Pointwise kernel family: activations, broadcast binary ops and
 * comparisons, elementwise math (exp, log, pow, clamp, ...), where, scaling, resize,
 * the copies behind the shape ops, and sum reductions. Pointers are device
 * pointers of the backend; descriptor structs and shape arrays are host
 * memory. Backward kernels overwrite their outputs. Semantics follow torch
 * (the index rules of resize are the inline helpers at the end, shared by
 * every backend so they cannot drift apart). */
#ifndef WB_CORE_KERNELS_POINTWISE_H
#define WB_CORE_KERNELS_POINTWISE_H

#include <math.h>
#include <stdint.h>
#include <workbench/types.h>
#include "hd.h"

typedef enum wb_act_kind {
    WB_ACT_RELU = 0,
    WB_ACT_LEAKY_RELU, /* alpha = negative slope */
    WB_ACT_SILU,
    WB_ACT_SIGMOID,
    WB_ACT_HARDSWISH,
    WB_ACT_HARDSIGMOID
} wb_act_kind;

/* Broadcast binary ops. The comparisons give 1.0f / 0.0f and have no
 * backward; the others' derivatives are in pointwise_math.h. */
typedef enum wb_binary_kind {
    WB_BINARY_ADD = 0,
    WB_BINARY_MUL,
    WB_BINARY_SUB,
    WB_BINARY_DIV,
    WB_BINARY_MIN,
    WB_BINARY_MAX,
    WB_BINARY_GT,
    WB_BINARY_GE,
    WB_BINARY_LT,
    WB_BINARY_LE,
    WB_BINARY_EQ,
    WB_BINARY_NE
} wb_binary_kind;

/* Elementwise math with up to two scalar arguments p, q. */
typedef enum wb_unary_kind {
    WB_UNARY_NEG = 0,
    WB_UNARY_EXP,        /* backward reads y */
    WB_UNARY_LOG,
    WB_UNARY_POW,        /* x ** p */
    WB_UNARY_ABS,
    WB_UNARY_CLAMP,      /* to [p, q]; an absent bound is -inf / +inf */
    WB_UNARY_ADD_SCALAR  /* x + p */
} wb_unary_kind;

/* Geometry of y = a (op) b under numpy broadcasting, with dims of size 1
 * dropped and neighbouring dims merged where both operands allow it. y is
 * contiguous in `shape`; an operand's stride is 0 on a dim it is broadcast
 * along. Every stride not 0 is the operand's own contiguous stride, so the
 * dims where a stride is not 0 enumerate that operand in memory order. */
typedef struct wb_bcast {
    int ndim; /* >= 1 */
    int64_t shape[WB_MAX_DIMS];
    int64_t a_stride[WB_MAX_DIMS];
    int64_t b_stride[WB_MAX_DIMS];
} wb_bcast;

/* The same for where(cond, a, b): stride[0] is cond's, [1] a's, [2] b's. */
typedef struct wb_bcast3 {
    int ndim; /* >= 1 */
    int64_t shape[WB_MAX_DIMS];
    int64_t stride[3][WB_MAX_DIMS];
} wb_bcast3;

struct wb_pointwise_kernels {
    void (*act_forward)(wb_act_kind kind, float alpha, const float *x, float *y, int64_t n);
    /* Gets both the input x and the output y but reads only the one torch
     * uses: y for relu and sigmoid, x for the others (the tape frees the other). */
    void (*act_backward)(wb_act_kind kind, float alpha, const float *x, const float *y,
                         const float *dy, float *dx, int64_t n);

    void (*binary_forward)(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                           float *y);
    /* da, db (either may be NULL): gradients summed over each operand's
     * broadcast dims, in the operand's own shape. */
    void (*binary_backward)(wb_binary_kind kind, const wb_bcast *g, const float *a, const float *b,
                            const float *dy, float *da, float *db);
    void (*scale)(const float *x, float s, float *y, int64_t n);

    void (*unary_forward)(wb_unary_kind kind, float p, float q, const float *x, float *y, int64_t n);
    /* Reads y for EXP, nothing for NEG and ADD_SCALAR, x for the others
     * (the tape frees what the kind does not read). */
    void (*unary_backward)(wb_unary_kind kind, float p, float q, const float *x, const float *y,
                           const float *dy, float *dx, int64_t n);
    /* y = cond != 0 ? a : b. */
    void (*where_forward)(const wb_bcast3 *g, const float *cond, const float *a, const float *b,
                          float *y);
    /* da, db (either may be NULL): dy where cond picks the operand, else 0,
     * summed over the operand's broadcast dims. Reads only cond. */
    void (*where_backward)(const wb_bcast3 *g, const float *cond, const float *dy, float *da,
                           float *db);

    /* Resize of `planes` (N*C) planes of in_h x in_w to out_h x out_w. */
    void (*nearest_forward)(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h,
                            int out_w);
    void (*nearest_backward)(const float *dy, int64_t planes, int in_h, int in_w, int out_h, int out_w,
                             float *dx);
    void (*bilinear_forward)(const float *x, int64_t planes, int in_h, int in_w, float *y, int out_h,
                             int out_w, int align_corners);
    void (*bilinear_backward)(const float *dy, int64_t planes, int in_h, int in_w, int out_h,
                              int out_w, int align_corners, float *dx);

    /* rows x cols block copy between row-major matrices with the given row
     * strides: concat, split and slice in both directions. */
    void (*copy_block)(float *dst, int64_t dst_stride, const float *src, int64_t src_stride,
                       int64_t rows, int64_t cols);
    /* y = x.permute(perm) made contiguous; shape is x's. */
    void (*permute)(const float *x, int ndim, const int64_t *shape, const int *perm, float *y);

    /* x viewed as [outer, len, inner]: y[o, i] = scale * sum_k x[o, k, i]. */
    void (*reduce_sum)(const float *x, int64_t outer, int64_t len, int64_t inner, float scale,
                       float *y);
    /* Backward of reduce_sum: dx[o, k, i] = scale * dy[o, i]. */
    void (*broadcast_axis)(const float *dy, int64_t outer, int64_t len, int64_t inner, float scale,
                           float *dx);
};

/* torch 'nearest' (upsample_nearest2d): copies when the size is unchanged,
 * halves at exactly 2x, else floor(dst * (in / out)) in float, clamped. */
static inline WB_HD int64_t wb_nearest_src(int64_t dst, int64_t in, int64_t out) {
    if (out == in) return dst;
    if (out == 2 * in) return dst >> 1;
    float scale = (float)in / (float)out;
    int64_t src = (int64_t)floorf((float)dst * scale);
    return src < in - 1 ? src : in - 1;
}

/* One output coordinate of torch's bilinear resize: the two source indices
 * and their weights (w0 + w1 = 1). */
typedef struct wb_lerp {
    int64_t i0, i1;
    float w0, w1;
} wb_lerp;

static inline WB_HD wb_lerp wb_bilinear_src(int64_t dst, int64_t in, int64_t out, int align_corners) {
    float src;
    if (align_corners) {
        float scale = out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
        src = scale * (float)dst;
    } else {
        /* Half-pixel centres; torch clamps negative source coordinates to 0. */
        float scale = (float)in / (float)out;
        src = scale * ((float)dst + 0.5f) - 0.5f;
        if (src < 0.0f) src = 0.0f;
    }
    wb_lerp l;
    l.i0 = (int64_t)src;
    l.i1 = l.i0 + (l.i0 < in - 1 ? 1 : 0);
    float frac = src - (float)l.i0;
    l.w1 = frac < 0.0f ? 0.0f : (frac > 1.0f ? 1.0f : frac);
    l.w0 = 1.0f - l.w1;
    return l;
}

#endif
