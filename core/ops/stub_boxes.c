/* TEMPORARY stubs for the boxes ops, replaced by their implementations. */
#include <workbench/ops.h>
#include "ops.h"

void wb_box_iou(const float *a, int na, const float *b, int nb, float *out) {
    (void)a;
    (void)na;
    (void)b;
    (void)nb;
    (void)out;
}

void wb_box_encode(const float *anchors, const float *gt, int n, const float means[4], const float stds[4], float *deltas) {
    (void)anchors;
    (void)gt;
    (void)n;
    (void)means;
    (void)stds;
    (void)deltas;
}

void wb_box_decode(const float *anchors, const float *deltas, int n, const float means[4], const float stds[4], float max_ratio, int clip_h, int clip_w, float *boxes) {
    (void)anchors;
    (void)deltas;
    (void)n;
    (void)means;
    (void)stds;
    (void)max_ratio;
    (void)clip_h;
    (void)clip_w;
    (void)boxes;
}

int wb_nms(const float *boxes, const float *scores, const int *labels, int n, float iou_threshold, int *keep) {
    (void)boxes;
    (void)scores;
    (void)labels;
    (void)n;
    (void)iou_threshold;
    (void)keep;
    return 0;
}

void wb_base_anchors(float base_size, const float *scales, int n_scales, const float *ratios, int n_ratios, float center_offset, float *out) {
    (void)base_size;
    (void)scales;
    (void)n_scales;
    (void)ratios;
    (void)n_ratios;
    (void)center_offset;
    (void)out;
}

void wb_grid_anchors(const float *base, int n_base, int feat_h, int feat_w, int stride, float *out) {
    (void)base;
    (void)n_base;
    (void)feat_h;
    (void)feat_w;
    (void)stride;
    (void)out;
}
