/* Box kernel family: the box utilities of the SDK's host table on backend
 * memory, so a plugin's candidates can stay on the device (decode, then NMS,
 * then index_select of the kept rows). The math is boxes_math.h's, which
 * the host utilities run too. Boxes are [n, 4] device floats x1, y1, x2, y2;
 * nothing here has a gradient. */
#ifndef WB_CORE_KERNELS_BOXES_H
#define WB_CORE_KERNELS_BOXES_H

#include <stdint.h>

/* The delta-xywh coder's settings, by value (kernels take them as an
 * argument). bound is wb_box_decode_bound(max_ratio); clip_h, clip_w > 0
 * clip decoded boxes to the image. */
typedef struct wb_box_coder {
    float means[4], stds[4];
    float bound;
    int clip_h, clip_w;
} wb_box_coder;

struct wb_box_kernels {
    /* out [na, nb]. */
    void (*iou)(const float *a, int64_t na, const float *b, int64_t nb, float *out);
    void (*encode)(const float *anchors, const float *gt, int64_t n, const wb_box_coder *c, float *deltas);
    void (*decode)(const float *anchors, const float *deltas, int64_t n, const wb_box_coder *c, float *boxes);
    /* base [n_base, 4] (device); out [feat_h * feat_w * n_base, 4]. */
    void (*grid_anchors)(const float *base, int n_base, int64_t feat_h, int64_t feat_w, int stride, float *out);
    /* torchvision.ops.nms / batched_nms: the kept indices (as floats, in
     * descending score order, ties by ascending index, NaN scores last)
     * into keep[0..count); returns count, a host value (so it waits for
     * the device). labels [n] (integral floats) or NULL: boxes of different
     * labels never suppress each other. */
    int64_t (*nms)(const float *boxes, const float *scores, const float *labels, int64_t n, float iou_threshold,
                   float *keep);
};

#endif
