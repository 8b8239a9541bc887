#include "devsim_backend.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "backends/kernels_boxes.h"
#include "backends/kernels_conv.h"
#include "backends/kernels_dense.h"
#include "backends/kernels_gather.h"
#include "backends/kernels_loss.h"
#include "backends/kernels_norm.h"
#include "backends/kernels_optim.h"
#include "backends/kernels_pointwise.h"

/* Every live allocation: its mapping is readable only between enter() and leave(). */
typedef struct mapping {
    void *p;
    size_t bytes;
} mapping;

static mapping *g_maps;
static int g_n, g_cap, g_depth;
static size_t g_live;

static void protect_all(int prot) {
    for (int i = 0; i < g_n; i++)
        if (mprotect(g_maps[i].p, g_maps[i].bytes, prot) != 0) abort();
}

static void enter(void) {
    if (g_depth++ == 0) protect_all(PROT_READ | PROT_WRITE);
}

static void leave(void) {
    if (--g_depth == 0) protect_all(PROT_NONE);
}

static size_t page_round(size_t n) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (n + page - 1) / page * page;
}

static void *ds_alloc(size_t bytes, wb_buffer_usage usage) {
    (void)usage;
    size_t n = page_round(bytes ? bytes : 1);
    if (g_n == g_cap) {
        int cap = g_cap ? 2 * g_cap : 64;
        mapping *grown = realloc(g_maps, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        g_maps = grown, g_cap = cap;
    }
    void *p = mmap(NULL, n, g_depth ? PROT_READ | PROT_WRITE : PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) return NULL;
    g_maps[g_n++] = (mapping){p, n};
    g_live += n;
    return p;
}

static void ds_free(void *ptr, wb_buffer_usage usage) {
    (void)usage;
    for (int i = 0; ptr && i < g_n; i++)
        if (g_maps[i].p == ptr) {
            munmap(ptr, g_maps[i].bytes);
            g_live -= g_maps[i].bytes;
            g_maps[i] = g_maps[--g_n];
            return;
        }
    if (ptr) abort(); /* not devsim memory: a host pointer given to the device */
}

static void ds_copy(void *dst, const void *src, size_t bytes) {
    enter();
    memmove(dst, src, bytes);
    leave();
}

static void ds_zero(void *dst, size_t bytes) {
    enter();
    memset(dst, 0, bytes);
    leave();
}

static void ds_sync(void) {}

static const wb_backend *ref(void) { return wb_backend_ref(); }

/* Each kernel: open the device memory, run the reference kernel, close it. */
#define KV(fam, name, params, args)                                                                                   \
    static void fam##_##name params {                                                                                 \
        enter();                                                                                                      \
        ref()->fam->name args;                                                                                        \
        leave();                                                                                                      \
    }
#define KR(type, fam, name, params, args)                                                                             \
    static type fam##_##name params {                                                                                 \
        enter();                                                                                                      \
        type r = ref()->fam->name args;                                                                               \
        leave();                                                                                                      \
        return r;                                                                                                     \
    }

KR(wb_status, conv, forward, (const wb_conv_shape *s, const float *x, const float *w, const float *b, float *y),
   (s, x, w, b, y))
KR(wb_status, conv, backward_data, (const wb_conv_shape *s, const float *dy, const float *w, float *dx),
   (s, dy, w, dx))
KR(wb_status, conv, backward_weights,
   (const wb_conv_shape *s, const float *x, const float *dy, float *dw, float *db), (s, x, dy, dw, db))

KV(dense, bn_train_forward,
   (const float *x, const float *g, const float *b, float *rm, float *rv, const wb_bn_args *a, float *y, float *sm,
    float *si),
   (x, g, b, rm, rv, a, y, sm, si))
KV(dense, bn_eval_forward,
   (const float *x, const float *g, const float *b, const float *rm, const float *rv, const wb_bn_args *a, float *y,
    float *sm, float *si),
   (x, g, b, rm, rv, a, y, sm, si))
KV(dense, bn_backward,
   (const float *dy, const float *x, const float *g, const float *sm, const float *si, const wb_bn_args *a, int tr,
    float *dx, float *dg, float *db),
   (dy, x, g, sm, si, a, tr, dx, dg, db))
KV(dense, max_pool_forward, (const float *x, const wb_pool_args *a, float *y, int32_t *am), (x, a, y, am))
KV(dense, max_pool_backward, (const float *dy, const int32_t *am, const wb_pool_args *a, float *dx), (dy, am, a, dx))
KV(dense, avg_pool_forward, (const float *x, const wb_pool_args *a, float *y), (x, a, y))
KV(dense, avg_pool_backward, (const float *dy, const wb_pool_args *a, float *dx), (dy, a, dx))
KV(dense, gemm,
   (int ta, int tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda, const float *b,
    int64_t ldb, float beta, float *c, int64_t ldc),
   (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc))
KV(dense, add_row_bias, (float *y, const float *bias, int64_t rows, int64_t cols), (y, bias, rows, cols))
KV(dense, sum_rows, (const float *dy, int64_t rows, int64_t cols, float *db), (dy, rows, cols, db))

KV(pointwise, act_forward, (wb_act_kind k, float al, const float *x, float *y, int64_t n), (k, al, x, y, n))
KV(pointwise, act_backward,
   (wb_act_kind k, float al, const float *x, const float *y, const float *dy, float *dx, int64_t n),
   (k, al, x, y, dy, dx, n))
KV(pointwise, binary_forward, (wb_binary_kind k, const wb_bcast *g, const float *a, const float *b, float *y),
   (k, g, a, b, y))
KV(pointwise, binary_backward,
   (wb_binary_kind k, const wb_bcast *g, const float *a, const float *b, const float *dy, float *da, float *db),
   (k, g, a, b, dy, da, db))
KV(pointwise, scale, (const float *x, float s, float *y, int64_t n), (x, s, y, n))
KV(pointwise, unary_forward, (wb_unary_kind k, float p, float q, const float *x, float *y, int64_t n),
   (k, p, q, x, y, n))
KV(pointwise, unary_backward,
   (wb_unary_kind k, float p, float q, const float *x, const float *y, const float *dy, float *dx, int64_t n),
   (k, p, q, x, y, dy, dx, n))
KV(pointwise, where_forward, (const wb_bcast3 *g, const float *c, const float *a, const float *b, float *y),
   (g, c, a, b, y))
KV(pointwise, where_backward, (const wb_bcast3 *g, const float *c, const float *dy, float *da, float *db),
   (g, c, dy, da, db))
KV(pointwise, nearest_forward, (const float *x, int64_t p, int ih, int iw, float *y, int oh, int ow),
   (x, p, ih, iw, y, oh, ow))
KV(pointwise, nearest_backward, (const float *dy, int64_t p, int ih, int iw, int oh, int ow, float *dx),
   (dy, p, ih, iw, oh, ow, dx))
KV(pointwise, bilinear_forward, (const float *x, int64_t p, int ih, int iw, float *y, int oh, int ow, int ac),
   (x, p, ih, iw, y, oh, ow, ac))
KV(pointwise, bilinear_backward, (const float *dy, int64_t p, int ih, int iw, int oh, int ow, int ac, float *dx),
   (dy, p, ih, iw, oh, ow, ac, dx))
KV(pointwise, copy_block, (float *d, int64_t ds, const float *s, int64_t ss, int64_t rows, int64_t cols),
   (d, ds, s, ss, rows, cols))
KV(pointwise, permute, (const float *x, int nd, const int64_t *shape, const int *perm, float *y),
   (x, nd, shape, perm, y))
KV(pointwise, reduce_sum, (const float *x, int64_t o, int64_t l, int64_t i, float s, float *y), (x, o, l, i, s, y))
KV(pointwise, broadcast_axis, (const float *dy, int64_t o, int64_t l, int64_t i, float s, float *dx),
   (dy, o, l, i, s, dx))

KV(loss, sigmoid_focal, (const float *x, const float *t, const float *w, int64_t n, float g, float a, float *l),
   (x, t, w, n, g, a, l))
KV(loss, sigmoid_focal_backward,
   (const float *x, const float *t, const float *w, int64_t n, float g, float a, wb_loss_grad gy, float *gx),
   (x, t, w, n, g, a, gy, gx))
KV(loss, bce_with_logits, (const float *x, const float *t, const float *w, int64_t n, float *l), (x, t, w, n, l))
KV(loss, bce_with_logits_backward,
   (const float *x, const float *t, const float *w, int64_t n, wb_loss_grad gy, float *gx), (x, t, w, n, gy, gx))
KR(int64_t, loss, softmax_ce,
   (const float *x, const float *lab, const float *w, int64_t n, int64_t c, float *l, int64_t *bad),
   (x, lab, w, n, c, l, bad))
KV(loss, softmax_ce_backward,
   (const float *x, const float *lab, const float *w, int64_t n, int64_t c, wb_loss_grad gy, float *gx),
   (x, lab, w, n, c, gy, gx))
KV(loss, smooth_l1, (const float *p, const float *t, const float *w, int64_t n, float b, float *l), (p, t, w, n, b, l))
KV(loss, smooth_l1_backward,
   (const float *p, const float *t, const float *w, int64_t n, float b, wb_loss_grad gy, float *gp, float *gt),
   (p, t, w, n, b, gy, gp, gt))
KV(loss, iou, (const float *p, const float *t, const float *w, int64_t n, wb_iou_mode m, float e, float *l),
   (p, t, w, n, m, e, l))
KV(loss, iou_backward,
   (const float *p, const float *t, const float *w, int64_t n, wb_iou_mode m, float e, wb_loss_grad gy, float *gp,
    float *gt),
   (p, t, w, n, m, e, gy, gp, gt))
KV(loss, sum, (const float *x, int64_t n, float s, float *out), (x, n, s, out))

KV(optim, sgd, (float *p, const float *g, float *mb, int64_t n, const wb_sgd_args *a), (p, g, mb, n, a))
KV(optim, adamw, (float *p, const float *g, float *m, float *v, int64_t n, const wb_adamw_args *a),
   (p, g, m, v, n, a))
KR(double, optim, sum_squares, (const float *x, int64_t n), (x, n))
KV(optim, scale, (float *x, int64_t n, float s), (x, n, s))
KV(optim, ema, (float *avg, const float *x, int64_t n, float m), (avg, x, n, m))

KV(gather, roi_align_forward, (const float *f, const float *r, const wb_roi_args *a, float *y), (f, r, a, y))
KV(gather, roi_align_backward, (const float *dy, const float *r, const wb_roi_args *a, float *df), (dy, r, a, df))
KV(gather, roi_pool_forward, (const float *f, const float *r, const wb_roi_args *a, float *y, int32_t *am),
   (f, r, a, y, am))
KV(gather, roi_pool_backward, (const float *dy, const float *r, const int32_t *am, const wb_roi_args *a, float *df),
   (dy, r, am, a, df))
KV(gather, index_select_forward,
   (const float *x, int64_t o, int64_t l, int64_t i, const int64_t *idx, int64_t n, float *y),
   (x, o, l, i, idx, n, y))
KV(gather, index_select_backward,
   (const float *dy, int64_t o, int64_t l, int64_t i, const int64_t *idx, int64_t n, float *dx),
   (dy, o, l, i, idx, n, dx))

KV(norm, group_norm_forward,
   (const float *x, const float *g, const float *b, const wb_gn_args *a, float *y, float *m, float *r),
   (x, g, b, a, y, m, r))
KV(norm, group_norm_backward,
   (const float *dy, const float *x, const float *g, const float *m, const float *r, const wb_gn_args *a, float *dx,
    float *dg, float *db),
   (dy, x, g, m, r, a, dx, dg, db))
KV(norm, group_norm_backward_from_output,
   (const float *dy, const float *y, const float *g, const float *b, const float *r, const wb_gn_args *a, float *dx,
    float *dg, float *db),
   (dy, y, g, b, r, a, dx, dg, db))

KV(boxes, iou, (const float *a, int64_t na, const float *b, int64_t nb, float *out), (a, na, b, nb, out))
KV(boxes, encode, (const float *a, const float *g, int64_t n, const wb_box_coder *c, float *d), (a, g, n, c, d))
KV(boxes, decode, (const float *a, const float *d, int64_t n, const wb_box_coder *c, float *b), (a, d, n, c, b))
KV(boxes, grid_anchors, (const float *b, int nb, int64_t h, int64_t w, int s, float *out), (b, nb, h, w, s, out))
KR(int64_t, boxes, nms, (const float *b, const float *s, const float *l, int64_t n, float t, float *k),
   (b, s, l, n, t, k))

static const wb_conv_kernels g_conv = {conv_forward, conv_backward_data, conv_backward_weights, NULL, NULL, NULL};
static const wb_dense_kernels g_dense = {dense_bn_train_forward, dense_bn_eval_forward, dense_bn_backward,
                                         dense_max_pool_forward, dense_max_pool_backward, dense_avg_pool_forward,
                                         dense_avg_pool_backward, dense_gemm, dense_add_row_bias, dense_sum_rows,
                                         NULL, NULL};
static const wb_pointwise_kernels g_pointwise = {
    pointwise_act_forward,     pointwise_act_backward,    pointwise_binary_forward,  pointwise_binary_backward,
    pointwise_scale,           pointwise_unary_forward,   pointwise_unary_backward,  pointwise_where_forward,
    pointwise_where_backward,  pointwise_nearest_forward, pointwise_nearest_backward, pointwise_bilinear_forward,
    pointwise_bilinear_backward, pointwise_copy_block,    pointwise_permute,         pointwise_reduce_sum,
    pointwise_broadcast_axis};
static const wb_loss_kernels g_loss = {loss_sigmoid_focal, loss_sigmoid_focal_backward, loss_bce_with_logits,
                                       loss_bce_with_logits_backward, loss_softmax_ce, loss_softmax_ce_backward,
                                       loss_smooth_l1, loss_smooth_l1_backward, loss_iou, loss_iou_backward,
                                       loss_sum};
static const wb_optim_kernels g_optim = {optim_sgd, optim_adamw, optim_sum_squares, optim_scale, optim_ema};
static const wb_gather_kernels g_gather = {gather_roi_align_forward, gather_roi_align_backward,
                                           gather_roi_pool_forward,  gather_roi_pool_backward,
                                           gather_index_select_forward, gather_index_select_backward};
static const wb_norm_kernels g_norm = {norm_group_norm_forward, norm_group_norm_backward,
                                       norm_group_norm_backward_from_output, NULL, NULL};
static const wb_box_kernels g_boxes = {boxes_iou, boxes_encode, boxes_decode, boxes_grid_anchors, boxes_nms};

static const wb_backend g_devsim = {
    .name = "devsim",
    .device = WB_DEVICE_CUDA,
    .alloc = ds_alloc,
    .free = ds_free,
    .upload = ds_copy,
    .download = ds_copy,
    .copy = ds_copy,
    .zero = ds_zero,
    .synchronize = ds_sync,
    .conv = &g_conv,
    .dense = &g_dense,
    .pointwise = &g_pointwise,
    .loss = &g_loss,
    .optim = &g_optim,
    .gather = &g_gather,
    .norm = &g_norm,
    .boxes = &g_boxes,
};

const wb_backend *wbt_devsim_backend(void) { return &g_devsim; }

size_t wbt_devsim_live_bytes(void) { return g_live; }
