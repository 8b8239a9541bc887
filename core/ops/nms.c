/* Greedy non-maximum suppression on host boxes, torchvision.ops.nms /
 * batched_nms semantics. */
#define _GNU_SOURCE /* qsort_r */
#include <stdlib.h>
#include "ops.h"
#include "../backends/boxes_math.h"

/* Descending score, ties by ascending index: a total order, so the result
 * never depends on the sort algorithm. NaN scores go last (the order of
 * boxes_math.h's sort key, which the device sorts by). */
static int by_score_desc(const void *pa, const void *pb, void *user) {
    const float *scores = user;
    int a = *(const int *)pa, b = *(const int *)pb;
    uint32_t ka = wb_nms_order_key(scores[a]), kb = wb_nms_order_key(scores[b]);
    if (ka != kb) return ka > kb ? -1 : 1;
    return (a > b) - (a < b);
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
            suppressed = wb_nms_overlaps(boxes + 4 * other, boxes + 4 * cand, iou_threshold);
        }
        if (!suppressed) keep[kept++] = cand;
    }
    return kept;
}
