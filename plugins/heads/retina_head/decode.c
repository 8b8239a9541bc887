/* Test-time decoding with the semantics torchvision's RetinaNet and
 * mmdetection 2.x share: per level, the (anchor, class) pairs scoring above
 * score_thr, the best nms_pre of them, decoded and clipped to the image; then
 * class-aware NMS over all levels and the best max_per_img, mapped back to
 * original-image pixels. In torchvision mode the decode and the NMS follow
 * torchvision's float32 arithmetic too, so that borderline boxes round and
 * suppress alike. */
#include <math.h>
#include <stdlib.h>
#include "detections.h"
#include "retina_head.h"

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Appends the best candidates of one level of one image; 0 when out of memory. */
static int level_candidates(const retina_head *h, const float *cls, int l, int fh, int fw, det_candidates *out) {
    const int K = h->num_classes, A = h->n_base;
    const size_t plane = (size_t)fh * fw;
    /* sigmoid(x) > thr only when x is near or above logit(thr): skip the exp elsewhere. */
    const float logit_thr = h->score_thr > 0.0f ? logf(h->score_thr / (1.0f - h->score_thr)) - 1e-3f : -INFINITY;
    int64_t first = out->n;
    for (int a = 0; a < A; a++) {
        for (int k = 0; k < K; k++) {
            const float *map = cls + (size_t)(a * K + k) * plane;
            for (size_t c = 0; c < plane; c++) {
                if (map[c] <= logit_thr) continue;
                float s = 1.0f / (1.0f + expf(-map[c]));
                if (s <= h->score_thr) continue;
                if (!det_push(out, (det_candidate){s, s, h->level_start[l] + (int64_t)c * A + a, k})) return 0;
            }
        }
    }
    det_keep_best(out, first, h->nms_pre);
    return 1;
}

/* torchvision's BoxCoder.decode_single, then clip_boxes_to_image: centers
 * as x1 + w / 2, dw and dh clamped from above only. */
static void decode_torchvision(const retina_head *h, const float *p, const float *delta, int img_h, int img_w,
                               float *out) {
    const float bound = logf(1000.0f / 16.0f);
    float d[4];
    for (int j = 0; j < 4; j++) d[j] = delta[j] * h->stds[j] + h->means[j];
    float w = p[2] - p[0], ht = p[3] - p[1];
    float cx = d[0] * w + (p[0] + 0.5f * w), cy = d[1] * ht + (p[1] + 0.5f * ht);
    float half_w = 0.5f * (expf(fminf(d[2], bound)) * w), half_h = 0.5f * (expf(fminf(d[3], bound)) * ht);
    out[0] = clampf(cx - half_w, 0.0f, (float)img_w);
    out[1] = clampf(cy - half_h, 0.0f, (float)img_h);
    out[2] = clampf(cx + half_w, 0.0f, (float)img_w);
    out[3] = clampf(cy + half_h, 0.0f, (float)img_h);
}

static wb_status decode_image(const retina_head *h, const wb_host_api *host, const float *const *cls,
                              const float *const *reg, const int (*hw)[2], const wb_gt_image *meta,
                              wb_detections *det) {
    det_candidates all = {0};
    for (int l = 0; l < h->n_levels; l++) {
        if (!level_candidates(h, cls[l], l, hw[l][0], hw[l][1], &all)) {
            free(all.v);
            return WB_ERR_NOMEM;
        }
    }
    const det_candidate *cand = all.v;
    const int64_t n = all.n;
    size_t m = (size_t)(n ? n : 1);
    float *boxes = malloc(m * 4 * sizeof(float)), *shifted = malloc(m * 4 * sizeof(float));
    float *scores = malloc(m * sizeof(float));
    int *labels = malloc(m * sizeof(int)), *keep = malloc(m * sizeof(int));
    wb_status st = boxes && shifted && scores && labels && keep ? WB_OK : WB_ERR_NOMEM;
    for (int64_t i = 0; st == WB_OK && i < n; i++) {
        int l = 0;
        while (cand[i].index >= h->level_start[l + 1]) l++;
        /* Level maps are [A*4, H, W]: delta j of anchor a at cell c is channel a*4 + j. */
        int64_t r = cand[i].index - h->level_start[l], c = r / h->n_base, a = r % h->n_base;
        size_t plane = (size_t)hw[l][0] * hw[l][1];
        float d[4];
        for (int j = 0; j < 4; j++) d[j] = reg[l][(size_t)(a * 4 + j) * plane + (size_t)c];
        const float *anchor = h->anchors + 4 * cand[i].index;
        if (h->torchvision)
            decode_torchvision(h, anchor, d, meta->img_h, meta->img_w, boxes + 4 * i);
        else
            host->box_decode(anchor, d, 1, h->means, h->stds, 0.0f, meta->img_h, meta->img_w, boxes + 4 * i);
        scores[i] = cand[i].score;
        labels[i] = cand[i].label;
    }
    free(all.v);
    if (st == WB_OK) {
        int kept = h->torchvision
                       ? det_torchvision_nms(host, boxes, scores, labels, (int)n, h->iou_threshold, shifted, keep)
                       : host->nms(boxes, scores, labels, (int)n, h->iou_threshold, keep);
        if (kept > h->max_per_img) kept = h->max_per_img;
        st = det_write_kept(boxes, scores, labels, keep, kept, meta, det);
    }
    free(boxes), free(shifted), free(scores), free(labels), free(keep);
    return st;
}

wb_status retina_predict(retina_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                         const wb_batch_truth *meta, wb_detections *dets) {
    const int L = h->n_levels;
    if (n_preds != 2 * L)
        return wb_error(ctx, WB_ERR_INVALID, "retina_head: predict got %d predictions, expected %d", n_preds, 2 * L);
    int hw[RETINA_MAX_LEVELS][2];
    const float *cls_maps[RETINA_MAX_LEVELS], *reg_maps[RETINA_MAX_LEVELS];
    for (int l = 0; l < L; l++) {
        wb_tensor_info i = wb_info(ctx, preds[l]);
        hw[l][0] = (int)i.shape[2];
        hw[l][1] = (int)i.shape[3];
        cls_maps[l] = wb_map(ctx, preds[l]);
        reg_maps[l] = wb_map(ctx, preds[L + l]);
    }
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    if (!retina_anchors(h, (const int(*)[2])hw, meta->pad_h, meta->pad_w))
        return wb_error(ctx, WB_ERR_NOMEM, "retina_head: out of memory for anchors");
    for (int n = 0; n < meta->batch; n++) {
        const float *cls[RETINA_MAX_LEVELS], *reg[RETINA_MAX_LEVELS];
        for (int l = 0; l < L; l++) {
            size_t plane = (size_t)hw[l][0] * hw[l][1];
            cls[l] = cls_maps[l] + (size_t)n * h->n_base * h->num_classes * plane;
            reg[l] = reg_maps[l] + (size_t)n * h->n_base * 4 * plane;
        }
        wb_status st = decode_image(h, WB_H(ctx), cls, reg, (const int(*)[2])hw, &meta->images[n], &dets[n]);
        if (st != WB_OK) return wb_error(ctx, st, "retina_head: out of memory decoding detections");
    }
    return WB_OK;
}
