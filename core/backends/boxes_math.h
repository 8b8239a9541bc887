/* The math of the box utilities, one box (or pair, or anchor element, or NMS
 * mask word) at a time: the host utilities (core/ops/boxes.c, anchors.c,
 * nms.c), the reference kernels (ref/boxes_ref.c) and the CUDA kernels
 * (cuda/boxes_cuda.cu) all run these, so there is one formula for each.
 * Plain C (WB_HD): test_cuda_math_boxes replays the CUDA kernels' loops with
 * them on the host. Boxes are x1, y1, x2, y2. */
#ifndef WB_CORE_BOXES_MATH_H
#define WB_CORE_BOXES_MATH_H

#include <math.h>
#include <stdint.h>
#include "hd.h"

/* torchvision.ops.box_iou, except that a pair with no union area (two empty
 * boxes) has IoU 0 instead of NaN, so assigners never see NaN. */
WB_HD static inline float wb_box_iou_pair(const float *p, const float *q) {
    float area_p = (p[2] - p[0]) * (p[3] - p[1]);
    float area_q = (q[2] - q[0]) * (q[3] - q[1]);
    float iw = fmaxf(fminf(p[2], q[2]) - fmaxf(p[0], q[0]), 0.0f);
    float ih = fmaxf(fminf(p[3], q[3]) - fmaxf(p[1], q[1]), 0.0f);
    float inter = iw * ih;
    float uni = area_p + area_q - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

/* mmdet bbox2delta of one box: center offsets in units of the anchor size
 * and log size ratios, then normalized by (d - means) / stds. */
WB_HD static inline void wb_box_encode_one(const float *p, const float *g, const float *means, const float *stds,
                                           float *deltas) {
    float pw = p[2] - p[0], ph = p[3] - p[1];
    float px = 0.5f * (p[0] + p[2]), py = 0.5f * (p[1] + p[3]);
    float gw = g[2] - g[0], gh = g[3] - g[1];
    float gx = 0.5f * (g[0] + g[2]), gy = 0.5f * (g[1] + g[3]);
    float d[4] = {(gx - px) / pw, (gy - py) / ph, logf(gw / pw), logf(gh / ph)};
    for (int k = 0; k < 4; k++) deltas[k] = (d[k] - means[k]) / stds[k];
}

/* The decode clamp on |dw|, |dh|: max_ratio, or torchvision's and mmdet's
 * log(1000 / 16) when 0, so exp cannot overflow on a wild prediction. Host
 * only: the bound is computed once and handed to every kernel. */
static inline float wb_box_decode_bound(float max_ratio) {
    return max_ratio > 0.0f ? max_ratio : fabsf(logf(16.0f / 1000.0f));
}

WB_HD static inline float wb_box_clampf(float v, float lo, float hi) { return fminf(fmaxf(v, lo), hi); }

/* mmdet delta2bbox of one box: de-normalize, clamp the log size ratios to
 * +-bound, apply to the anchor, and clip to the image when its size is
 * given (clip_h, clip_w > 0). */
WB_HD static inline void wb_box_decode_one(const float *p, const float *deltas, const float *means,
                                           const float *stds, float bound, int clip_h, int clip_w, float *out) {
    float d[4];
    for (int k = 0; k < 4; k++) d[k] = deltas[k] * stds[k] + means[k];
    float pw = p[2] - p[0], ph = p[3] - p[1];
    float px = 0.5f * (p[0] + p[2]), py = 0.5f * (p[1] + p[3]);
    float gx = px + pw * d[0], gy = py + ph * d[1];
    float gw = pw * expf(wb_box_clampf(d[2], -bound, bound)), gh = ph * expf(wb_box_clampf(d[3], -bound, bound));
    out[0] = gx - 0.5f * gw;
    out[1] = gy - 0.5f * gh;
    out[2] = gx + 0.5f * gw;
    out[3] = gy + 0.5f * gh;
    if (clip_h > 0 && clip_w > 0) {
        out[0] = wb_box_clampf(out[0], 0.0f, (float)clip_w);
        out[2] = wb_box_clampf(out[2], 0.0f, (float)clip_w);
        out[1] = wb_box_clampf(out[1], 0.0f, (float)clip_h);
        out[3] = wb_box_clampf(out[3], 0.0f, (float)clip_h);
    }
}

/* mmdet single_level_grid_priors, one anchor: base anchor base_a shifted
 * to (x, y) * stride, the shift an integer product made float. */
WB_HD static inline void wb_grid_anchor(const float *base_a, int64_t x, int64_t y, int stride, float *out) {
    float sx = (float)(x * stride), sy = (float)(y * stride);
    out[0] = base_a[0] + sx;
    out[1] = base_a[1] + sy;
    out[2] = base_a[2] + sx;
    out[3] = base_a[3] + sy;
}

/* Row r of a level's [feat_h * feat_w * n_base, 4] anchors is base anchor
 * r % n_base at cell r / n_base = y * feat_w + x. */
typedef struct wb_anchor_cell {
    int64_t x, y;
    int a;
} wb_anchor_cell;

WB_HD static inline wb_anchor_cell wb_anchor_cell_of(int64_t r, int n_base, int64_t feat_w) {
    wb_anchor_cell c;
    c.a = (int)(r % n_base);
    c.x = r / n_base % feat_w;
    c.y = r / n_base / feat_w;
    return c;
}

/* ---- NMS, torchvision's CUDA scheme: candidates sorted by score, an IoU
 *      bitmask in 64-box column blocks, then one sequential pass over the
 *      mask that keeps a box unless a kept box before it marked it. ---- */

/* Sort key of a score: descending keys (ties by ascending index) are the
 * host NMS order, descending score with NaN last. The float's bits made
 * monotone as unsigned (sign bit flipped for positives, all bits for
 * negatives), -0 folded onto +0 (they compare equal), NaN below -inf. */
WB_HD static inline uint32_t wb_nms_order_key(float score) {
    if (score != score) return 0;
    union {
        float f;
        uint32_t u;
    } v;
    v.f = score == 0.0f ? 0.0f : score;
    return v.u & 0x80000000u ? ~v.u : v.u | 0x80000000u;
}

/* Whether kept box p's IoU with q is above the threshold (it suppresses q
 * when their labels agree). The IoU is written as torchvision's CPU kernel
 * writes it (no zero-union guard: 0 / 0 is NaN, which suppresses nothing),
 * so borderline pairs round the same way. */
WB_HD static inline int wb_nms_overlaps(const float *p, const float *q, float thr) {
    float area_p = (p[2] - p[0]) * (p[3] - p[1]);
    float area_q = (q[2] - q[0]) * (q[3] - q[1]);
    float xx1 = p[0] > q[0] ? p[0] : q[0], yy1 = p[1] > q[1] ? p[1] : q[1];
    float xx2 = p[2] < q[2] ? p[2] : q[2], yy2 = p[3] < q[3] ? p[3] : q[3];
    float w = xx2 - xx1 > 0.0f ? xx2 - xx1 : 0.0f;
    float h = yy2 - yy1 > 0.0f ? yy2 - yy1 : 0.0f;
    float inter = w * h;
    return inter / (area_p + area_q - inter) > thr;
}

/* 64-bit words per mask row of n sorted candidates. */
WB_HD static inline int64_t wb_nms_words(int64_t n) { return n / 64 + (n % 64 != 0); }

/* Word `col` of mask row i: bit b set when sorted box i suppresses sorted
 * box col * 64 + b, for boxes after i only. boxes [n, 4] and labels [n] (or
 * NULL) are in score order. */
WB_HD static inline uint64_t wb_nms_mask_word(const float *boxes, const float *labels, int64_t n, int64_t i,
                                              int64_t col, float thr) {
    int64_t first = col * 64, end = first + 64 < n ? first + 64 : n;
    if (end <= i + 1) return 0;
    uint64_t word = 0;
    for (int64_t j = first > i + 1 ? first : i + 1; j < end; j++) {
        if (labels && labels[i] != labels[j]) continue;
        if (wb_nms_overlaps(boxes + 4 * i, boxes + 4 * j, thr)) word |= (uint64_t)1 << (j - first);
    }
    return word;
}

/* Whether sorted box i is marked by a box kept before it. */
WB_HD static inline int wb_nms_removed(const uint64_t *removed, int64_t i) {
    return (int)((removed[i / 64] >> (i % 64)) & 1u);
}

/* The sequential pass over the mask keeps sorted box i unless it is
 * removed, then ORs its row into removed: thread t of `threads` takes the
 * row's words i / 64 + t, + threads, ... (the CUDA kernel runs it with a
 * block's threads). Words before i / 64 hold no bits after i. */
WB_HD static inline void wb_nms_absorb_row(uint64_t *removed, const uint64_t *row, int64_t i, int64_t words,
                                           int64_t t, int64_t threads) {
    for (int64_t w = i / 64 + t; w < words; w += threads) removed[w] |= row[w];
}

#endif
