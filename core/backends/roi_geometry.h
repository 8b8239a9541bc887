/* Where RoIAlign samples and which cells a RoIPool bin covers, exactly as
 * torchvision 0.14's CPU kernels compute them (same float expressions, so
 * results agree to rounding). Shared by every backend, the CUDA kernels
 * included (WB_HD), so they cannot drift. */
#ifndef WB_CORE_ROI_GEOMETRY_H
#define WB_CORE_ROI_GEOMETRY_H

#include <math.h>
#include <stdbool.h>
#include "hd.h"
#include "kernels_gather.h"

/* One RoI of RoIAlign in feature-map coordinates. */
typedef struct wb_roi_box {
    int64_t batch;
    float start_h, start_w;
    float bin_h, bin_w;     /* bin size */
    int grid_h, grid_w;     /* sampling points per bin */
    float count;            /* points averaged per bin, >= 1 */
} wb_roi_box;

WB_HD static inline wb_roi_box wb_roi_align_box(const float *roi, const wb_roi_args *a) {
    float offset = a->aligned ? 0.5f : 0.0f, s = a->spatial_scale;
    wb_roi_box b;
    b.batch = (int64_t)roi[0];
    b.start_w = roi[1] * s - offset;
    b.start_h = roi[2] * s - offset;
    float roi_w = (roi[3] * s - offset) - b.start_w, roi_h = (roi[4] * s - offset) - b.start_h;
    if (!a->aligned) {
        /* The legacy rule: a RoI is at least one feature cell. */
        roi_w = fmaxf(roi_w, 1.0f);
        roi_h = fmaxf(roi_h, 1.0f);
    }
    b.bin_h = roi_h / (float)a->out_h;
    b.bin_w = roi_w / (float)a->out_w;
    b.grid_h = a->sampling_ratio > 0 ? a->sampling_ratio : (int)ceilf(roi_h / (float)a->out_h);
    b.grid_w = a->sampling_ratio > 0 ? a->sampling_ratio : (int)ceilf(roi_w / (float)a->out_w);
    int count = b.grid_h * b.grid_w;
    b.count = (float)(count > 1 ? count : 1);
    return b;
}

/* Coordinate of sampling point i of bin p along one axis. */
WB_HD static inline float wb_roi_sample_at(float start, float bin, int grid, int p, int i) {
    return start + (float)p * bin + ((float)i + 0.5f) * bin / (float)grid;
}

/* One axis of a bilinear sample: the two neighbouring cells and their
 * weights. valid is false when the point lies more than one cell outside
 * the map (the sample then contributes nothing). */
typedef struct wb_roi_lerp {
    int64_t lo, hi;
    float w_lo, w_hi;
    bool valid;
} wb_roi_lerp;

WB_HD static inline wb_roi_lerp wb_roi_lerp_at(float v, int64_t size) {
    wb_roi_lerp l = {0, 0, 0.0f, 0.0f, false};
    if (v < -1.0f || v > (float)size) return l;
    if (v <= 0.0f) v = 0.0f;
    l.lo = (int64_t)v;
    if (l.lo >= size - 1) {
        l.lo = l.hi = size - 1;
        v = (float)l.lo;
    } else {
        l.hi = l.lo + 1;
    }
    l.w_hi = v - (float)l.lo;
    l.w_lo = 1.0f - l.w_hi;
    l.valid = true;
    return l;
}

/* The cells [h0, h1) x [w0, w1) of RoIPool bin (ph, pw); empty when h1 <= h0 or w1 <= w0. */
typedef struct wb_roi_pool_bin {
    int64_t batch, h0, h1, w0, w1;
} wb_roi_pool_bin;

WB_HD static inline int64_t wb_roi_clip(int64_t v, int64_t size) { return v < 0 ? 0 : (v > size ? size : v); }

WB_HD static inline wb_roi_pool_bin wb_roi_pool_bin_at(const float *roi, const wb_roi_args *a, int ph, int pw) {
    float s = a->spatial_scale;
    int64_t start_w = (int64_t)roundf(roi[1] * s), start_h = (int64_t)roundf(roi[2] * s);
    int64_t end_w = (int64_t)roundf(roi[3] * s), end_h = (int64_t)roundf(roi[4] * s);
    int64_t roi_w = end_w - start_w + 1, roi_h = end_h - start_h + 1;
    float bin_h = (float)(roi_h > 1 ? roi_h : 1) / (float)a->out_h;
    float bin_w = (float)(roi_w > 1 ? roi_w : 1) / (float)a->out_w;
    wb_roi_pool_bin b;
    b.batch = (int64_t)roi[0];
    b.h0 = wb_roi_clip((int64_t)floorf((float)ph * bin_h) + start_h, a->h);
    b.h1 = wb_roi_clip((int64_t)ceilf((float)(ph + 1) * bin_h) + start_h, a->h);
    b.w0 = wb_roi_clip((int64_t)floorf((float)pw * bin_w) + start_w, a->w);
    b.w1 = wb_roi_clip((int64_t)ceilf((float)(pw + 1) * bin_w) + start_w, a->w);
    return b;
}

#endif
