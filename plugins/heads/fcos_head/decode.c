/* Test-time decoding as torchvision's FCOS.postprocess_detections (score
 * "sqrt"): per level, the (point, class) pairs whose sqrt(sigmoid(cls) *
 * sigmoid(centerness)) exceeds score_thr, the best nms_pre of them, boxes
 * decoded from the distances and clipped to the image; then class-aware NMS
 * over all levels and the best max_per_img, mapped back to original-image
 * pixels. Score "product" is mmdetection's: the class probability is
 * thresholded and ranked, the detection scores sigmoid(cls) * sigmoid(ctr). */
#define _GNU_SOURCE /* qsort_r */
#include <math.h>
#include <stdlib.h>
#include "detections.h"
#include "fcos_head.h"

static float sigmoidf(float v) { return 1.0f / (1.0f + expf(-v)); }
static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* The logit below which sigmoid(z) cannot exceed probability t, less a margin (1e-3) well above the float
 * rounding of sigmoidf, the product and logf while t < 0.99: a cheap test that skips most (point, class)
 * pairs; survivors, and every pair when t is near 1 or not a number, get the exact test. */
static float logit_floor(float t) {
    if (!(t > 0.0f && t < 0.99f)) return -INFINITY;
    return logf(t / (1.0f - t)) - 1e-3f;
}

/* Appends the best nms_pre candidates of level l of one image; 0 when out of memory. Once the list holds
 * 4 nms_pre the best nms_pre are kept, and the rank of the last of them becomes a floor: later pairs (larger
 * index, or the same point's later classes) at or below it cannot enter, so the list and the sort stay small
 * and most pairs are dropped on their logit alone (random weights put nearly every pair above score_thr). */
static int level_candidates(const fcos_head *h, const float *cls, const float *ctr, int l, size_t plane,
                            det_candidates *out) {
    const int64_t first = out->n, k_best = h->nms_pre;
    float floor_rank = h->score_thr;
    for (size_t c = 0; c < plane; c++) {
        const float centerness = sigmoidf(ctr[c]);
        /* rank > floor needs p > floor^2 / centerness (score sqrt) or p > floor (product) */
        float z_min = logit_floor(h->score_sqrt ? floor_rank * floor_rank / centerness : floor_rank);
        for (int k = 0; k < h->num_classes; k++) {
            const float z = cls[(size_t)k * plane + c];
            if (z < z_min) continue;
            const float p = sigmoidf(z);
            const float score = h->score_sqrt ? sqrtf(p * centerness) : p * centerness;
            const float rank = h->score_sqrt ? score : p;
            if (rank <= floor_rank) continue;
            if (!det_push(out, (det_candidate){score, rank, h->level_start[l] + (int64_t)c, k})) return 0;
            if (out->n - first >= 4 * k_best) {
                det_keep_best(out, first, k_best);
                floor_rank = out->v[out->n - 1].rank;
                z_min = logit_floor(h->score_sqrt ? floor_rank * floor_rank / centerness : floor_rank);
            }
        }
    }
    det_keep_best(out, first, k_best);
    return 1;
}

/* Distances times the level's unit from the point, clipped to the image
 * (torchvision's BoxLinearCoder.decode_single and clip_boxes_to_image). */
static void decode_box(const fcos_head *h, const float *reg, size_t plane, int64_t point, const wb_gt_image *meta,
                       float *box) {
    const int l = fcos_level_of(h, point);
    const size_t c = (size_t)(point - h->level_start[l]);
    const float u = fcos_unit(h, l), x = h->points[2 * point], y = h->points[2 * point + 1];
    box[0] = clampf(x - reg[c] * u, 0.0f, (float)meta->img_w);
    box[1] = clampf(y - reg[plane + c] * u, 0.0f, (float)meta->img_h);
    box[2] = clampf(x + reg[2 * plane + c] * u, 0.0f, (float)meta->img_w);
    box[3] = clampf(y + reg[3 * plane + c] * u, 0.0f, (float)meta->img_h);
}

/* nms's processing order: score descending, NaN last, ties by index. */
static int by_nms_order(const void *pa, const void *pb, void *user) {
    const float *scores = user;
    int a = *(const int *)pa, b = *(const int *)pb;
    float sa = scores[a], sb = scores[b];
    if (isnan(sa) != isnan(sb)) return isnan(sa) ? 1 : -1;
    if (sa != sb && !isnan(sa)) return sa > sb ? -1 : 1;
    return (a > b) - (a < b);
}

/* The first max_per_img survivors of class-aware NMS (det_torchvision_nms) over all n candidates, into keep.
 * Greedy suppression decides in score order and a later box never removes an earlier survivor, so once
 * max_per_img survive among the best m candidates they are final: above 1000 candidates (random weights
 * give some 5000 an image; NMS costs n x survivors) it runs on the best 4 max_per_img first and on all only
 * if fewer survive. Below, det_torchvision_nms on all (torchvision's coordinate trick shifts by the largest
 * coordinate of all the boxes). */
static int best_survivors(const fcos_head *h, const wb_host_api *host, const float *boxes, const float *scores,
                          const int *labels, int n, float *shifted, int *keep) {
    int m = 4 * h->max_per_img, kept;
    if (n <= 1000 || m >= n) {
        kept = det_torchvision_nms(host, boxes, scores, labels, n, h->iou_threshold, shifted, keep);
        return kept < h->max_per_img ? kept : h->max_per_img;
    }
    int *order = malloc((size_t)n * sizeof *order), *sub_labels = malloc((size_t)m * sizeof *sub_labels);
    float *sub_scores = malloc((size_t)m * sizeof *sub_scores);
    if (!order || !sub_labels || !sub_scores) {
        free(order), free(sub_labels), free(sub_scores);
        return -1;
    }
    for (int i = 0; i < n; i++) order[i] = i;
    qsort_r(order, (size_t)n, sizeof *order, by_nms_order, (void *)scores);
    for (int i = 0; i < m; i++) {
        for (int j = 0; j < 4; j++) shifted[4 * i + j] = boxes[4 * order[i] + j];
        sub_scores[i] = scores[order[i]], sub_labels[i] = labels[order[i]];
    }
    kept = host->nms(shifted, sub_scores, sub_labels, m, h->iou_threshold, keep);
    if (kept >= h->max_per_img) {
        kept = h->max_per_img;
        for (int i = 0; i < kept; i++) keep[i] = order[keep[i]];
    } else {
        kept = host->nms(boxes, scores, labels, n, h->iou_threshold, keep);
        if (kept > h->max_per_img) kept = h->max_per_img;
    }
    free(order), free(sub_labels), free(sub_scores);
    return kept;
}

static wb_status decode_image(const fcos_head *h, const wb_host_api *host, const float *const *cls,
                              const float *const *reg, const float *const *ctr, const int (*hw)[2],
                              const wb_gt_image *meta, wb_detections *det) {
    det_candidates all = {0};
    for (int l = 0; l < h->n_levels; l++) {
        if (!level_candidates(h, cls[l], ctr[l], l, (size_t)hw[l][0] * hw[l][1], &all)) {
            free(all.v);
            return WB_ERR_NOMEM;
        }
    }
    const int64_t n = all.n;
    size_t m = (size_t)(n ? n : 1);
    float *boxes = malloc(m * 4 * sizeof(float)), *shifted = malloc(m * 4 * sizeof(float));
    float *scores = malloc(m * sizeof(float));
    int *labels = malloc(m * sizeof(int)), *keep = malloc(m * sizeof(int));
    wb_status st = boxes && shifted && scores && labels && keep ? WB_OK : WB_ERR_NOMEM;
    for (int64_t i = 0; st == WB_OK && i < n; i++) {
        const int l = fcos_level_of(h, all.v[i].index);
        decode_box(h, reg[l], (size_t)hw[l][0] * hw[l][1], all.v[i].index, meta, boxes + 4 * i);
        scores[i] = all.v[i].score;
        labels[i] = all.v[i].label;
    }
    free(all.v);
    if (st == WB_OK) {
        int kept = best_survivors(h, host, boxes, scores, labels, (int)n, shifted, keep);
        st = kept < 0 ? WB_ERR_NOMEM : det_write_kept(boxes, scores, labels, keep, kept, meta, det);
    }
    free(boxes), free(shifted), free(scores), free(labels), free(keep);
    return st;
}

wb_status fcos_predict(fcos_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                       wb_detections *dets) {
    const int L = h->n_levels;
    if (n_preds != 3 * L)
        return wb_error(ctx, WB_ERR_INVALID, "fcos_head: predict got %d predictions, expected %d", n_preds, 3 * L);
    int hw[FCOS_MAX_LEVELS][2];
    const float *maps[3][FCOS_MAX_LEVELS];
    for (int l = 0; l < L; l++) {
        wb_tensor_info i = wb_info(ctx, preds[l]);
        hw[l][0] = (int)i.shape[2];
        hw[l][1] = (int)i.shape[3];
        for (int k = 0; k < 3; k++) maps[k][l] = wb_map(ctx, preds[k * L + l]);
    }
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    if (!fcos_points(h, (const int(*)[2])hw, meta->pad_h, meta->pad_w))
        return wb_error(ctx, WB_ERR_NOMEM, "fcos_head: out of memory for points");
    const int channels[3] = {h->num_classes, 4, 1};
    for (int n = 0; n < meta->batch; n++) {
        const float *img[3][FCOS_MAX_LEVELS];
        for (int k = 0; k < 3; k++)
            for (int l = 0; l < L; l++)
                img[k][l] = maps[k][l] + (size_t)n * channels[k] * (size_t)hw[l][0] * hw[l][1];
        wb_status st = decode_image(h, WB_H(ctx), img[0], img[1], img[2], (const int(*)[2])hw, &meta->images[n],
                                    &dets[n]);
        if (st != WB_OK) return wb_error(ctx, st, "fcos_head: out of memory decoding detections");
    }
    return WB_OK;
}
