/* The reference box family: the host utilities' loops over boxes_math.h on
 * backend (host) memory. NMS is the greedy pass of core/ops/nms.c over
 * indices stored as floats (what index_select takes). */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include "../boxes_math.h"
#include "../families.h"
#include "../kernels_boxes.h"

static void iou(const float *a, int64_t na, const float *b, int64_t nb, float *out) {
    for (int64_t i = 0; i < na; i++)
        for (int64_t j = 0; j < nb; j++) out[i * nb + j] = wb_box_iou_pair(a + 4 * i, b + 4 * j);
}

static void encode(const float *anchors, const float *gt, int64_t n, const wb_box_coder *c, float *deltas) {
    for (int64_t i = 0; i < n; i++) wb_box_encode_one(anchors + 4 * i, gt + 4 * i, c->means, c->stds, deltas + 4 * i);
}

static void decode(const float *anchors, const float *deltas, int64_t n, const wb_box_coder *c, float *boxes) {
    for (int64_t i = 0; i < n; i++)
        wb_box_decode_one(anchors + 4 * i, deltas + 4 * i, c->means, c->stds, c->bound, c->clip_h, c->clip_w,
                          boxes + 4 * i);
}

static void grid_anchors(const float *base, int n_base, int64_t feat_h, int64_t feat_w, int stride, float *out) {
    for (int64_t r = 0; r < feat_h * feat_w * n_base; r++) {
        wb_anchor_cell c = wb_anchor_cell_of(r, n_base, feat_w);
        wb_grid_anchor(base + 4 * c.a, c.x, c.y, stride, out + 4 * r);
    }
}

/* Descending sort key, ties by ascending index. */
static int by_score_desc(const void *pa, const void *pb, void *user) {
    const float *scores = user;
    int64_t a = (int64_t)*(const float *)pa, b = (int64_t)*(const float *)pb;
    uint32_t ka = wb_nms_order_key(scores[a]), kb = wb_nms_order_key(scores[b]);
    if (ka != kb) return ka > kb ? -1 : 1;
    return (a > b) - (a < b);
}

/* keep doubles as the work list: the candidates in score order, the kept
 * prefix growing behind the scan (the front-end keeps n below 2^24, so
 * indices are exact floats). */
static int64_t nms(const float *boxes, const float *scores, const float *labels, int64_t n, float thr, float *keep) {
    for (int64_t i = 0; i < n; i++) keep[i] = (float)i;
    qsort_r(keep, (size_t)n, sizeof *keep, by_score_desc, (void *)scores);
    int64_t kept = 0;
    for (int64_t r = 0; r < n; r++) {
        int64_t cand = (int64_t)keep[r];
        int suppressed = 0;
        for (int64_t k = 0; k < kept && !suppressed; k++) {
            int64_t other = (int64_t)keep[k];
            if (labels && labels[other] != labels[cand]) continue;
            suppressed = wb_nms_overlaps(boxes + 4 * other, boxes + 4 * cand, thr);
        }
        if (!suppressed) keep[kept++] = (float)cand;
    }
    return kept;
}

static const wb_box_kernels g_ref_boxes = {
    .iou = iou,
    .encode = encode,
    .decode = decode,
    .grid_anchors = grid_anchors,
    .nms = nms,
};

const wb_box_kernels *wb_ref_box_kernels(void) { return &g_ref_boxes; }
