/* Host box utilities (no gradient): pairwise IoU and the delta-xywh box
 * coder of mmdetection's DeltaXYWHBBoxCoder, per box from boxes_math.h (the
 * formulas the backends' box kernels run). Boxes are x1, y1, x2, y2. */
#include "ops.h"
#include "../backends/boxes_math.h"

void wb_box_iou(const float *a, int na, const float *b, int nb, float *out) {
    for (int i = 0; i < na; i++)
        for (int j = 0; j < nb; j++) out[(size_t)i * (size_t)nb + (size_t)j] = wb_box_iou_pair(a + 4 * i, b + 4 * j);
}

void wb_box_encode(const float *anchors, const float *gt, int n, const float means[4], const float stds[4],
                   float *deltas) {
    for (int i = 0; i < n; i++) wb_box_encode_one(anchors + 4 * i, gt + 4 * i, means, stds, deltas + 4 * i);
}

void wb_box_decode(const float *anchors, const float *deltas, int n, const float means[4], const float stds[4],
                   float max_ratio, int clip_h, int clip_w, float *boxes) {
    float bound = wb_box_decode_bound(max_ratio);
    for (int i = 0; i < n; i++)
        wb_box_decode_one(anchors + 4 * i, deltas + 4 * i, means, stds, bound, clip_h, clip_w, boxes + 4 * i);
}
