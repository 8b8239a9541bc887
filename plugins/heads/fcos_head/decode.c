/* Test-time decoding as torchvision's FCOS.postprocess_detections (score
 * "sqrt"): per level, the (point, class) pairs whose sqrt(sigmoid(cls) *
 * sigmoid(centerness)) exceeds score_thr, the best nms_pre of them, boxes
 * decoded from the distances and clipped to the image; then class-aware NMS
 * over all levels and the best max_per_img, mapped back to original-image
 * pixels. Score "product" is mmdetection's: the class probability is
 * thresholded and ranked, the detection scores sigmoid(cls) * sigmoid(ctr). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "fcos_head.h"

typedef struct candidate {
    float score, rank; /* rank: what score_thr and nms_pre apply to */
    int64_t point;     /* row in the head's points */
    int label;
} candidate;

static int by_rank_desc(const void *a, const void *b) {
    const candidate *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? 1 : -1;
    if (x->point != y->point) return x->point < y->point ? -1 : 1;
    return x->label - y->label;
}

static float sigmoidf(float v) { return 1.0f / (1.0f + expf(-v)); }
static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

typedef struct candidates {
    candidate *v;
    int64_t n, cap;
} candidates;

static int push(candidates *c, candidate x) {
    if (c->n == c->cap) {
        int64_t cap = c->cap ? 2 * c->cap : 4096;
        candidate *grown = realloc(c->v, (size_t)cap * sizeof *grown);
        if (!grown) return 0;
        c->v = grown;
        c->cap = cap;
    }
    c->v[c->n++] = x;
    return 1;
}

/* Appends the best candidates of level l of one image; 0 when out of memory. */
static int level_candidates(const fcos_head *h, const float *cls, const float *ctr, int l, size_t plane,
                            candidates *out) {
    int64_t first = out->n;
    for (size_t c = 0; c < plane; c++) {
        const float centerness = sigmoidf(ctr[c]);
        for (int k = 0; k < h->num_classes; k++) {
            const float p = sigmoidf(cls[(size_t)k * plane + c]);
            const float score = h->score_sqrt ? sqrtf(p * centerness) : p * centerness;
            const float rank = h->score_sqrt ? score : p;
            if (rank <= h->score_thr) continue;
            if (!push(out, (candidate){score, rank, h->level_start[l] + (int64_t)c, k})) return 0;
        }
    }
    qsort(out->v + first, (size_t)(out->n - first), sizeof *out->v, by_rank_desc);
    if (out->n - first > h->nms_pre) out->n = first + h->nms_pre;
    return 1;
}

/* torchvision's batched_nms: up to 1000 boxes it shifts each label's boxes
 * by label * (max coordinate + 1) and runs one class-blind NMS (its float32
 * IoUs decide borderline pairs); above that, NMS per label. */
static int batched_nms(const fcos_head *h, const wb_host_api *host, const float *boxes, const float *scores,
                       const int *labels, int n, float *shifted, int *keep) {
    if (n > 1000) return host->nms(boxes, scores, labels, n, h->iou_threshold, keep);
    float max_coordinate = -INFINITY;
    for (int i = 0; i < 4 * n; i++) max_coordinate = fmaxf(max_coordinate, boxes[i]);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 4; j++) shifted[4 * i + j] = boxes[4 * i + j] + (float)labels[i] * (max_coordinate + 1.0f);
    return host->nms(shifted, scores, NULL, n, h->iou_threshold, keep);
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

static wb_status write_detections(const fcos_head *h, const float *boxes, const float *scores, const int *labels,
                                  const int *keep, int kept, const wb_gt_image *meta, wb_detections *det) {
    if (kept > h->max_per_img) kept = h->max_per_img;
    size_t k = (size_t)(kept ? kept : 1);
    det->num = kept;
    det->boxes = malloc(k * 4 * sizeof(float));
    det->scores = malloc(k * sizeof(float));
    det->labels = malloc(k * sizeof(int));
    if (!det->boxes || !det->scores || !det->labels) return WB_ERR_NOMEM;
    /* original = (input - offset) / scale */
    float sx = meta->scale_x > 0 ? meta->scale_x : 1.0f, sy = meta->scale_y > 0 ? meta->scale_y : 1.0f;
    for (int i = 0; i < kept; i++) {
        const float *b = boxes + 4 * keep[i];
        det->boxes[4 * i + 0] = clampf((b[0] - meta->offset_x) / sx, 0, (float)meta->ori_w);
        det->boxes[4 * i + 1] = clampf((b[1] - meta->offset_y) / sy, 0, (float)meta->ori_h);
        det->boxes[4 * i + 2] = clampf((b[2] - meta->offset_x) / sx, 0, (float)meta->ori_w);
        det->boxes[4 * i + 3] = clampf((b[3] - meta->offset_y) / sy, 0, (float)meta->ori_h);
        det->scores[i] = scores[keep[i]];
        det->labels[i] = labels[keep[i]];
    }
    return WB_OK;
}

static wb_status decode_image(const fcos_head *h, const wb_host_api *host, const float *const *cls,
                              const float *const *reg, const float *const *ctr, const int (*hw)[2],
                              const wb_gt_image *meta, wb_detections *det) {
    candidates all = {0};
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
        const int l = fcos_level_of(h, all.v[i].point);
        decode_box(h, reg[l], (size_t)hw[l][0] * hw[l][1], all.v[i].point, meta, boxes + 4 * i);
        scores[i] = all.v[i].score;
        labels[i] = all.v[i].label;
    }
    free(all.v);
    int kept = st == WB_OK ? batched_nms(h, host, boxes, scores, labels, (int)n, shifted, keep) : 0;
    if (st == WB_OK) st = write_detections(h, boxes, scores, labels, keep, kept, meta, det);
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
