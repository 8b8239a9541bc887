/* Greedy non-maximum suppression on host boxes, torchvision.ops.nms /
 * batched_nms semantics. */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include "ops.h"

/* Descending score, ties by ascending index: a total order, so the result
 * never depends on the sort algorithm. NaN scores go last. */
static int by_score_desc(const void *pa, const void *pb, void *user) {
    const float *scores = user;
    int a = *(const int *)pa, b = *(const int *)pb;
    float sa = scores[a], sb = scores[b];
    int a_nan = sa != sa, b_nan = sb != sb;
    if (a_nan != b_nan) return a_nan - b_nan;
    if (!a_nan && sa != sb) return sa > sb ? -1 : 1;
    return (a > b) - (a < b);
}

/* IoU written as torchvision's CPU kernel writes it, so borderline pairs
 * round the same way. */
static float pair_iou(const float *p, const float *q) {
    float area_p = (p[2] - p[0]) * (p[3] - p[1]);
    float area_q = (q[2] - q[0]) * (q[3] - q[1]);
    float xx1 = p[0] > q[0] ? p[0] : q[0], yy1 = p[1] > q[1] ? p[1] : q[1];
    float xx2 = p[2] < q[2] ? p[2] : q[2], yy2 = p[3] < q[3] ? p[3] : q[3];
    float w = xx2 - xx1 > 0.0f ? xx2 - xx1 : 0.0f;
    float h = yy2 - yy1 > 0.0f ? yy2 - yy1 : 0.0f;
    float inter = w * h;
    return inter / (area_p + area_q - inter);
}

/* keep doubles as the work list: keep[0..n) holds the candidates in score
 * order and the kept prefix keep[0..kept) grows behind the scan. A box is
 * kept iff no kept box of its label overlaps it by more than the threshold,
 * which is exactly greedy suppression, with no allocation besides keep. */
int wb_nms(const float *boxes, const float *scores, const int *labels, int n, float iou_threshold,
           int *keep) {
    for (int i = 0; i < n; i++) keep[i] = i;
    qsort_r(keep, (size_t)n, sizeof *keep, by_score_desc, (void *)scores);
    int kept = 0;
    for (int r = 0; r < n; r++) {
        int cand = keep[r];
        int suppressed = 0;
        for (int k = 0; k < kept && !suppressed; k++) {
            int other = keep[k];
            if (labels && labels[other] != labels[cand]) continue;
            suppressed = pair_iou(boxes + 4 * other, boxes + 4 * cand) > iou_threshold;
        }
        if (!suppressed) keep[kept++] = cand;
    }
    return kept;
}
