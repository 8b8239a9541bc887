/* Host side of the cuDNN convolutions that needs no CUDA (so
 * test_cuda_conv_plan runs it here): the legacy descriptors' int dimensions
 * from a wb_conv_shape, and the per-(shape, pass) plan cache. */
#ifndef WB_CORE_CUDA_CONV_PLAN_CACHE_H
#define WB_CORE_CUDA_CONV_PLAN_CACHE_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "../kernels_conv.h"

enum { WB_CONV_PASS_FORWARD = 0, WB_CONV_PASS_BACKWARD_DATA = 1, WB_CONV_PASS_BACKWARD_WEIGHTS = 2 };

/* What cuDNN's 4-d tensor, filter and 2-d convolution descriptors take. */
typedef struct wb_cudnn_dims {
    int x[4], y[4], w[4]; /* NCHW, NCHW, KCRS (= OIHW with C = c_in / groups) */
    int pad[2], stride[2], dil[2];
    int groups;
} wb_cudnn_dims;

/* Output size along one axis, as cudnnGetConvolution2dForwardOutputDim and torch compute it. */
static inline int64_t wb_conv_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
    return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

static inline bool wb_fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }

/* False when a shape is beyond the legacy API (a size or a tensor's element
 * count past INT_MAX, its strides are ints) or its output size is not the
 * convolution's (a front-end bug cuDNN would only report as BAD_PARAM). */
static inline bool wb_cudnn_dims_of(const wb_conv_shape *s, wb_cudnn_dims *d) {
    const int64_t v[] = {s->n, s->c_in, s->h_in, s->w_in, s->c_out, s->h_out, s->w_out, s->k_h, s->k_w,
                         s->stride_h, s->stride_w, s->pad_h, s->pad_w, s->dil_h, s->dil_w, s->groups,
                         s->n * s->c_in * s->h_in * s->w_in, s->n * s->c_out * s->h_out * s->w_out,
                         s->c_out * s->c_in * s->k_h * s->k_w};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!wb_fits_int(v[i])) return false;
    if (s->groups < 1 || s->c_in % s->groups || s->c_out % s->groups || s->stride_h < 1 || s->stride_w < 1 ||
        s->dil_h < 1 || s->dil_w < 1)
        return false;
    if (s->h_out != wb_conv_out_size(s->h_in, s->k_h, s->stride_h, s->pad_h, s->dil_h) ||
        s->w_out != wb_conv_out_size(s->w_in, s->k_w, s->stride_w, s->pad_w, s->dil_w))
        return false;
    *d = (wb_cudnn_dims){
        .x = {(int)s->n, (int)s->c_in, (int)s->h_in, (int)s->w_in},
        .y = {(int)s->n, (int)s->c_out, (int)s->h_out, (int)s->w_out},
        .w = {(int)s->c_out, (int)(s->c_in / s->groups), (int)s->k_h, (int)s->k_w},
        .pad = {(int)s->pad_h, (int)s->pad_w},
        .stride = {(int)s->stride_h, (int)s->stride_w},
        .dil = {(int)s->dil_h, (int)s->dil_w},
        .groups = (int)s->groups,
    };
    return true;
}

/* A plan is found by its shape, pass and math (TF32 allowed or not); all
 * int64_t: no padding, so the key's bytes are its value. */
typedef struct wb_conv_plan_key {
    wb_conv_shape shape;
    int64_t pass;
    int64_t tf32;
} wb_conv_plan_key;

/* Open addressing over a fixed table. When it is three-quarters full
 * (multi-scale training meeting ever new input sizes) it is emptied and
 * refilled: a plan costs one heuristics query to remake. */
#define WB_CONV_PLAN_SLOTS 1024

typedef struct wb_conv_plan_cache {
    wb_conv_plan_key keys[WB_CONV_PLAN_SLOTS];
    void *plans[WB_CONV_PLAN_SLOTS]; /* NULL: empty slot */
    int used;
    void (*destroy)(void *plan);
} wb_conv_plan_cache;

/* FNV-1a over the key's bytes. */
static inline uint64_t wb_conv_plan_hash(const wb_conv_plan_key *k) {
    const unsigned char *p = (const unsigned char *)k;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < sizeof *k; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* The slot holding k, or the empty slot where it belongs. */
static inline int wb_conv_plan_slot(const wb_conv_plan_cache *c, const wb_conv_plan_key *k) {
    int i = (int)(wb_conv_plan_hash(k) % WB_CONV_PLAN_SLOTS);
    while (c->plans[i] && memcmp(&c->keys[i], k, sizeof *k) != 0) i = (i + 1) % WB_CONV_PLAN_SLOTS;
    return i;
}

static inline void *wb_conv_plan_find(const wb_conv_plan_cache *c, const wb_conv_plan_key *k) {
    return c->plans[wb_conv_plan_slot(c, k)];
}

static inline void wb_conv_plan_clear(wb_conv_plan_cache *c) {
    for (int i = 0; i < WB_CONV_PLAN_SLOTS; i++) {
        if (c->plans[i]) c->destroy(c->plans[i]);
        c->plans[i] = NULL;
    }
    c->used = 0;
}

/* Stores plan under k (not yet in the cache). */
static inline void wb_conv_plan_insert(wb_conv_plan_cache *c, const wb_conv_plan_key *k, void *plan) {
    if (c->used >= WB_CONV_PLAN_SLOTS * 3 / 4) wb_conv_plan_clear(c);
    int i = wb_conv_plan_slot(c, k);
    c->keys[i] = *k;
    c->plans[i] = plan;
    c->used++;
}

#endif
