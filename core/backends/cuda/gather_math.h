/* RoIAlign, RoIPool and index_select per output element in the CUDA
 * kernels, from roi_geometry.h as the reference (ref/roi_ref.c,
 * ref/index_select_ref.c) with its order of summation. Plain C (WB_HD) so
 * test_cuda_math_gather runs it on the host. */
#ifndef WB_CORE_CUDA_GATHER_MATH_H
#define WB_CORE_CUDA_GATHER_MATH_H

#include <float.h>
#include "../hd.h"
#include "../roi_geometry.h"

/* Output o of [K, C, out_h, out_w]. */
typedef struct wb_roi_out {
    int64_t k, ch;
    int ph, pw;
} wb_roi_out;

WB_HD static inline wb_roi_out wb_roi_out_at(const wb_roi_args *a, int64_t o) {
    wb_roi_out r;
    r.pw = (int)(o % a->out_w);
    o /= a->out_w;
    r.ph = (int)(o % a->out_h);
    o /= a->out_h;
    r.ch = o % a->c;
    r.k = o / a->c;
    return r;
}

/* The feature plane (batch, ch) of a [N, C, H, W] map. */
WB_HD static inline int64_t wb_roi_plane_offset(const wb_roi_args *a, int64_t batch, int64_t ch) {
    return (batch * a->c + ch) * a->h * a->w;
}

/* RoIAlign output bin (ph, pw) of box b over one feature plane. */
WB_HD static inline float wb_roi_align_at(const float *plane, const wb_roi_args *a, const wb_roi_box *b, int ph,
                                          int pw) {
    float sum = 0.0f;
    for (int iy = 0; iy < b->grid_h; iy++) {
        wb_roi_lerp ly = wb_roi_lerp_at(wb_roi_sample_at(b->start_h, b->bin_h, b->grid_h, ph, iy), a->h);
        for (int ix = 0; ix < b->grid_w; ix++) {
            wb_roi_lerp lx = wb_roi_lerp_at(wb_roi_sample_at(b->start_w, b->bin_w, b->grid_w, pw, ix), a->w);
            if (!ly.valid || !lx.valid) continue;
            sum += ly.w_lo * lx.w_lo * plane[ly.lo * a->w + lx.lo] + ly.w_lo * lx.w_hi * plane[ly.lo * a->w + lx.hi] +
                   ly.w_hi * lx.w_lo * plane[ly.hi * a->w + lx.lo] + ly.w_hi * lx.w_hi * plane[ly.hi * a->w + lx.hi];
        }
    }
    return sum / b->count;
}

/* Sampling point (iy, ix) of bin (ph, pw): the four plane cells it reads
 * and their bilinear weights; false when it lies outside the map. */
typedef struct wb_roi_taps {
    int64_t at[4];
    float w[4];
} wb_roi_taps;

WB_HD static inline bool wb_roi_align_taps(const wb_roi_args *a, const wb_roi_box *b, int ph, int pw, int iy, int ix,
                                           wb_roi_taps *t) {
    wb_roi_lerp ly = wb_roi_lerp_at(wb_roi_sample_at(b->start_h, b->bin_h, b->grid_h, ph, iy), a->h);
    wb_roi_lerp lx = wb_roi_lerp_at(wb_roi_sample_at(b->start_w, b->bin_w, b->grid_w, pw, ix), a->w);
    if (!ly.valid || !lx.valid) return false;
    t->at[0] = ly.lo * a->w + lx.lo;
    t->at[1] = ly.lo * a->w + lx.hi;
    t->at[2] = ly.hi * a->w + lx.lo;
    t->at[3] = ly.hi * a->w + lx.hi;
    t->w[0] = ly.w_lo * lx.w_lo;
    t->w[1] = ly.w_lo * lx.w_hi;
    t->w[2] = ly.w_hi * lx.w_lo;
    t->w[3] = ly.w_hi * lx.w_hi;
    return true;
}

/* What a tap adds to the feature gradient for the output gradient g. */
WB_HD static inline float wb_roi_align_tap_grad(float g, float weight, const wb_roi_box *b) {
    return g * weight / b->count;
}

/* RoIPool output over bin b of one feature plane; *argmax gets the cell
 * (torchvision: strict '>', so the first maximum wins and NaN never does),
 * -1 and 0 for an empty bin. */
WB_HD static inline float wb_roi_pool_at(const float *plane, const wb_roi_args *a, const wb_roi_pool_bin *b,
                                         int32_t *argmax) {
    bool empty = b->h1 <= b->h0 || b->w1 <= b->w0;
    float best = empty ? 0.0f : -FLT_MAX;
    int64_t best_at = -1;
    for (int64_t h = b->h0; h < b->h1; h++)
        for (int64_t w = b->w0; w < b->w1; w++)
            if (plane[h * a->w + w] > best) {
                best = plane[h * a->w + w];
                best_at = h * a->w + w;
            }
    *argmax = (int32_t)best_at;
    return best;
}

/* index_select over x viewed as [outer, len, inner]: output element e of
 * [outer, n_index, inner] reads (and its gradient goes to) this x element. */
WB_HD static inline int64_t wb_index_select_source(int64_t e, int64_t len, int64_t inner, const int64_t *index,
                                                   int64_t n_index) {
    int64_t i = e % inner, j = (e / inner) % n_index, o = e / (inner * n_index);
    return (o * len + index[j]) * inner + i;
}

#endif
