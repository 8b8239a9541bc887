/* Inference as YOLOv5's Detect (eval) and non_max_suppression: every
 * sigmoid'ed prediction decodes to the centre ((2 sx - 0.5) + cell) * stride
 * and the size (2 sw)^2 * anchor; candidates need objectness above
 * score_thr, their score is objectness * class probability (every class
 * above score_thr with multi_label, else the best one above it), the best
 * nms_pre of the image go through NMS (per class unless agnostic) and the
 * first max_per_img are kept. Boxes are mapped back to the original image
 * (undoing the letterbox's scale and offset) and clipped to it, as
 * scale_boxes and clip_boxes do. */
#define _GNU_SOURCE /* qsort_r */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "detections.h"
#include "yolov5_head.h"

typedef struct candidates {
    float *boxes, *scores;
    int *labels;
    int n, cap;
} candidates;

static float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

static int push(candidates *c, const float box[4], float score, int label) {
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 1024;
        float *b = realloc(c->boxes, (size_t)cap * 4 * sizeof(float));
        if (b) c->boxes = b;
        float *s = realloc(c->scores, (size_t)cap * sizeof(float));
        if (s) c->scores = s;
        int *l = realloc(c->labels, (size_t)cap * sizeof(int));
        if (l) c->labels = l;
        if (!b || !s || !l) return 0;
        c->cap = cap;
    }
    memcpy(c->boxes + 4 * c->n, box, 4 * sizeof(float));
    c->scores[c->n] = score;
    c->labels[c->n++] = label;
    return 1;
}

/* Class logits below this cannot score above thr with objectness obj
 * (sigmoid(l) * obj > thr needs l > logit(thr / obj)), so their sigmoid is
 * skipped: at score_thr 0.001 that is nearly every class of every cell
 * (yolov5s at 640, batch 4: 8.6M expf per batch). The floor sits 1e-3 below
 * the exact logit and is only used where thr / obj <= 0.99, so a skipped
 * class scores at least 1e-5 (relative) under thr, far more than float
 * rounding of its score (a few 1e-7) could carry over. */
static float class_logit_floor(float thr, float obj) {
    double q = (double)thr / (double)obj;
    return q > 0.0 && q <= 0.99 ? (float)(log(q / (1.0 - q)) - 1e-3) : -INFINITY;
}

static void decode_box(const float *p, int64_t plane, int64_t at, int64_t x, int64_t y, float stride,
                       const float anchor[2], float box[4]) {
    float cx = (sigmoid(p[at]) * 2.0f + ((float)x - 0.5f)) * stride;
    float cy = (sigmoid(p[plane + at]) * 2.0f + ((float)y - 0.5f)) * stride;
    float sw = sigmoid(p[2 * plane + at]) * 2.0f, sh = sigmoid(p[3 * plane + at]) * 2.0f;
    float w = sw * sw * anchor[0], h = sh * sh * anchor[1];
    box[0] = cx - w / 2, box[1] = cy - h / 2, box[2] = cx + w / 2, box[3] = cy + h / 2;
}

/* The candidates of image b from one level's map [N, A*(5+K), H, W]. A
 * cell's box is decoded once one of its classes scores above score_thr. */
static int level_candidates(const yolov5_head *h, const float *map, const float *anchors, int l, int b, int64_t H,
                            int64_t W, candidates *c) {
    const int64_t plane = H * W, K = h->num_classes;
    const float stride = (float)h->strides[l];
    const bool each_label = h->multi_label && K > 1;
    for (int a = 0; a < h->na; a++) {
        const float *p = map + ((int64_t)b * h->na + a) * h->no * plane;
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++) {
                int64_t at = y * W + x;
                float obj = sigmoid(p[4 * plane + at]);
                if (!(obj > h->score_thr)) continue;
                const float floor = class_logit_floor(h->score_thr, obj);
                float box[4];
                bool decoded = false;
                int best = 0;
                float best_score = -1.0f;
                for (int64_t k = 0; k < K; k++) {
                    float logit = p[(5 + k) * plane + at];
                    if (logit < floor) continue; /* scores under score_thr: neither kept nor the best kept */
                    float score = sigmoid(logit) * obj;
                    if (each_label) {
                        if (!(score > h->score_thr)) continue;
                        if (!decoded) decode_box(p, plane, at, x, y, stride, anchors + 2 * a, box), decoded = true;
                        if (!push(c, box, score, (int)k)) return 0;
                    } else if (score > best_score) {
                        best_score = score, best = (int)k;
                    }
                }
                if (!each_label && best_score > h->score_thr) {
                    decode_box(p, plane, at, x, y, stride, anchors + 2 * a, box);
                    if (!push(c, box, best_score, best)) return 0;
                }
            }
    }
    return 1;
}

static int by_score_desc(const void *pa, const void *pb, void *user) {
    const float *scores = user;
    int a = *(const int *)pa, b = *(const int *)pb;
    if (scores[a] != scores[b]) return scores[a] > scores[b] ? -1 : 1;
    return (a > b) - (a < b);
}

/* The first max_per_img boxes greedy NMS keeps from candidates sorted by
 * score. Whether a box is kept depends only on the boxes scored above it, so
 * NMS of a prefix keeps the same boxes as NMS of all, and prefixes growing
 * twofold until max_per_img are kept spare comparing each of the tens of
 * thousands of low-scored candidates (score_thr 0.001) with all kept boxes. */
static int greedy_nms(const yolov5_head *h, const wb_host_api *host, const float *boxes, const float *scores,
                      const int *labels, int n, int *keep) {
    int prefix = n < 4 * h->max_per_img ? n : 4 * h->max_per_img, kept;
    for (;;) {
        kept = host->nms(boxes, scores, h->agnostic ? NULL : labels, prefix, h->iou_threshold, keep);
        if (kept >= h->max_per_img || prefix == n) break;
        prefix = prefix > n / 2 ? n : 2 * prefix;
    }
    return kept < h->max_per_img ? kept : h->max_per_img;
}

/* NMS over the best nms_pre candidates; writes the detections of one image. */
static wb_status select_detections(const yolov5_head *h, wb_ctx *ctx, const candidates *c, const wb_gt_image *img,
                                   wb_detections *d) {
    int n = c->n;
    int *order = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    float *boxes = malloc((size_t)(n > 0 ? n : 1) * 4 * sizeof(float)), *scores = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    int *labels = malloc((size_t)(n > 0 ? n : 1) * sizeof(int)), *keep = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    if (!order || !boxes || !scores || !labels || !keep) {
        free(order), free(boxes), free(scores), free(labels), free(keep);
        return wb_error(ctx, WB_ERR_NOMEM, "yolov5_head: out of memory for %d candidates", n);
    }
    for (int i = 0; i < n; i++) order[i] = i;
    qsort_r(order, (size_t)n, sizeof *order, by_score_desc, c->scores);
    if (n > h->nms_pre) n = h->nms_pre;
    for (int i = 0; i < n; i++) {
        memcpy(boxes + 4 * i, c->boxes + 4 * order[i], 4 * sizeof(float));
        scores[i] = c->scores[order[i]];
        labels[i] = c->labels[order[i]];
    }
    int kept = greedy_nms(h, WB_H(ctx), boxes, scores, labels, n, keep);
    wb_status st = det_write_kept(boxes, scores, labels, keep, kept, img, d);
    free(order), free(boxes), free(scores), free(labels), free(keep);
    if (st != WB_OK) return wb_error(ctx, st, "yolov5_head: out of memory for %d detections", kept);
    return WB_OK;
}

wb_status yolov5_predict(yolov5_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                         const wb_batch_truth *meta, wb_detections *dets) {
    if (n_preds != h->n_levels)
        return wb_error(ctx, WB_ERR_INVALID, "yolov5_head: predict got %d prediction maps, expected %d", n_preds,
                        h->n_levels);
    candidates c = {0};
    wb_status st = WB_OK;
    int b = 0;
    for (; b < meta->batch && st == WB_OK; b++) {
        c.n = 0;
        for (int l = 0; l < h->n_levels && st == WB_OK; l++) {
            wb_tensor_info info = wb_info(ctx, preds[l]);
            const float *map = wb_map(ctx, preds[l]), *anchors = yolov5_anchors(h, ctx, l);
            if (!map || !anchors) st = wb_ok(ctx);
            else if (!level_candidates(h, map, anchors, l, b, info.shape[2], info.shape[3], &c))
                st = wb_error(ctx, WB_ERR_NOMEM, "yolov5_head: out of memory for %d candidates", c.n);
        }
        if (st == WB_OK) st = select_detections(h, ctx, &c, &meta->images[b], &dets[b]);
    }
    free(c.boxes), free(c.scores), free(c.labels);
    if (st != WB_OK) /* a failed predict frees what it made */
        for (int i = 0; i < b; i++) det_release(NULL, &dets[i]);
    return st;
}
