/* mmdetection's MaxIoUAssigner (gt_max_assign_all, ignore_wrt_candidates)
 * and the targets of one image. Anchor states: -1 ignored, 0 background,
 * g + 1 matched to box g. One deliberate difference: in an image whose only
 * boxes are ignore regions, mmdetection (no gt, so everything background)
 * makes the anchors inside them negatives; here they stay ignored, as the
 * SDK defines ignore regions (neither positive nor negative). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "retina_head.h"

/* Largest intersection-over-anchor-area of anchor a with any ignore box. */
static float max_iof(const float *a, const wb_gt_image *gt) {
    float area = (a[2] - a[0]) * (a[3] - a[1]), best = 0.0f;
    for (int b = 0; b < gt->num_boxes && area > 0.0f; b++) {
        if (!gt->ignore || !gt->ignore[b]) continue;
        const float *g = gt->boxes + 4 * b;
        float iw = (a[2] < g[2] ? a[2] : g[2]) - (a[0] > g[0] ? a[0] : g[0]);
        float ih = (a[3] < g[3] ? a[3] : g[3]) - (a[1] > g[1] ? a[1] : g[1]);
        if (iw > 0.0f && ih > 0.0f && iw * ih / area > best) best = iw * ih / area;
    }
    return best;
}

/* overlaps [max(G, 1), T] (ignored anchors' columns already -1) -> state per anchor. */
static void assign_wrt_overlaps(const retina_head *h, const float *ov, int G, int64_t T, int *state) {
    for (int64_t t = 0; t < T; t++) {
        /* With no box, row 0 holds 0 (background) or -1 (ignored). */
        float best = ov[t];
        int arg = G > 0 ? 0 : -1;
        for (int g = 1; g < G; g++) {
            if (ov[(size_t)g * T + t] > best) best = ov[(size_t)g * T + t], arg = g;
        }
        state[t] = -1;
        if (best >= 0.0f && best < h->neg_iou_thr) state[t] = 0;
        if (arg >= 0 && best >= h->pos_iou_thr) state[t] = arg + 1;
    }
    if (!h->match_low_quality) return;
    /* Every box keeps its best anchors (all ties), later boxes winning. */
    for (int g = 0; g < G; g++) {
        const float *row = ov + (size_t)g * T;
        float gt_max = -1.0f;
        for (int64_t t = 0; t < T; t++) gt_max = row[t] > gt_max ? row[t] : gt_max;
        if (gt_max < h->min_pos_iou || gt_max < 0.0f) continue;
        for (int64_t t = 0; t < T; t++)
            if (row[t] == gt_max) state[t] = g + 1;
    }
}

int retina_assign(const retina_head *h, const wb_host_api *host, const float *anchors, int64_t T,
                  const wb_gt_image *gt, float *cls, float *cls_w, float *reg, float *reg_w, char *err,
                  size_t err_size) {
    const int K = h->num_classes;
    int G = 0, *gt_index = malloc((size_t)(gt->num_boxes + 1) * sizeof(int));
    float *gts = malloc((size_t)(gt->num_boxes + 1) * 4 * sizeof(float));
    float *ov = malloc(((size_t)gt->num_boxes + 1) * (size_t)T * sizeof(float));
    int *state = malloc((size_t)T * sizeof(int));
    int n_pos = -1;
    if (!gt_index || !gts || !ov || !state) {
        snprintf(err, err_size, "retina_head: out of memory assigning %lld anchors", (long long)T);
        goto done;
    }
    for (int b = 0; b < gt->num_boxes; b++) {
        if (gt->ignore && gt->ignore[b]) continue;
        if (gt->labels[b] < 0 || gt->labels[b] >= K) {
            snprintf(err, err_size, "retina_head: box %d of image %lld has label %d, outside 0..%d (num_classes %d)",
                     b, (long long)gt->image_id, gt->labels[b], K - 1, K);
            goto done;
        }
        memcpy(gts + 4 * G, gt->boxes + 4 * b, 4 * sizeof(float));
        gt_index[G++] = b;
    }
    if (G > 0)
        host->box_iou(gts, G, anchors, (int)T, ov);
    else
        memset(ov, 0, (size_t)T * sizeof(float));
    /* Anchors mostly inside an ignore region are neither positive nor negative. */
    if (h->ignore_iof_thr > 0.0f && gt->ignore) {
        for (int64_t t = 0; t < T; t++) {
            if (max_iof(anchors + 4 * t, gt) <= h->ignore_iof_thr) continue;
            for (int g = 0; g < (G > 0 ? G : 1); g++) ov[(size_t)g * T + t] = -1.0f;
        }
    }
    assign_wrt_overlaps(h, ov, G, T, state);
    n_pos = 0;
    for (int64_t t = 0; t < T; t++) {
        if (state[t] >= 0)
            for (int k = 0; k < K; k++) cls_w[t * K + k] = 1.0f;
        if (state[t] <= 0) {
            /* Weight 0; a real box keeps every IoU loss finite (a zero box gives CIoU 0/0). */
            if (h->reg_decoded_bbox) memcpy(reg + 4 * t, anchors + 4 * t, 4 * sizeof(float));
            continue;
        }
        int b = gt_index[state[t] - 1];
        cls[t * K + gt->labels[b]] = 1.0f;
        if (h->reg_decoded_bbox)
            memcpy(reg + 4 * t, gt->boxes + 4 * b, 4 * sizeof(float));
        else
            host->box_encode(anchors + 4 * t, gt->boxes + 4 * b, 1, h->means, h->stds, reg + 4 * t);
        for (int k = 0; k < 4; k++) reg_w[4 * t + k] = 1.0f;
        n_pos++;
    }
done:
    free(gt_index), free(gts), free(ov), free(state);
    return n_pos;
}
