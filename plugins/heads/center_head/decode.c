#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "center_head.h"

typedef struct candidate {
    float score;
    int cell, label;
} candidate;

static int by_score_desc(const void *a, const void *b) {
    const candidate *x = a, *y = b;
    if (x->score != y->score) return x->score < y->score ? 1 : -1;
    return x->cell - y->cell;
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

wb_status center_decode(const center_head *h, const wb_host_api *host, const float *cls, const float *reg,
                        int fh, int fw, const wb_gt_image *meta, wb_detections *det) {
    const size_t plane = (size_t)fh * fw;
    const int K = h->num_classes;
    /* sigmoid(x) > thr  <=>  x > logit(thr): filter before any exp. */
    const float logit_thr = logf(h->score_thr / (1.0f - h->score_thr));
    size_t cap = 1024, n = 0;
    candidate *cand = malloc(cap * sizeof *cand);
    if (!cand) return WB_ERR_NOMEM;
    for (int k = 0; k < K; k++) {
        for (size_t c = 0; c < plane; c++) {
            float logit = cls[k * plane + c];
            if (logit <= logit_thr) continue;
            if (n == cap) {
                candidate *grown = realloc(cand, 2 * cap * sizeof *cand);
                if (!grown) {
                    free(cand);
                    return WB_ERR_NOMEM;
                }
                cand = grown;
                cap *= 2;
            }
            cand[n++] = (candidate){1.0f / (1.0f + expf(-logit)), (int)c, k};
        }
    }
    qsort(cand, n, sizeof *cand, by_score_desc);
    if (n > (size_t)h->nms_pre) n = (size_t)h->nms_pre;
    float *boxes = malloc((n ? n : 1) * 4 * sizeof(float));
    float *scores = malloc((n ? n : 1) * sizeof(float));
    int *labels = malloc((n ? n : 1) * sizeof(int)), *keep = malloc((n ? n : 1) * sizeof(int));
    if (!boxes || !scores || !labels || !keep) {
        free(cand), free(boxes), free(scores), free(labels), free(keep);
        return WB_ERR_NOMEM;
    }
    const float s = (float)h->stride;
    for (size_t i = 0; i < n; i++) {
        int c = cand[i].cell;
        float cx = ((float)(c % fw) + 0.5f) * s, cy = ((float)(c / fw) + 0.5f) * s;
        float *b = boxes + 4 * i;
        b[0] = clampf(cx - fmaxf(reg[0 * plane + c], 0.0f) * s, 0, (float)meta->img_w);
        b[1] = clampf(cy - fmaxf(reg[1 * plane + c], 0.0f) * s, 0, (float)meta->img_h);
        b[2] = clampf(cx + fmaxf(reg[2 * plane + c], 0.0f) * s, 0, (float)meta->img_w);
        b[3] = clampf(cy + fmaxf(reg[3 * plane + c], 0.0f) * s, 0, (float)meta->img_h);
        scores[i] = cand[i].score;
        labels[i] = cand[i].label;
    }
    free(cand);
    int kept = host->nms(boxes, scores, labels, (int)n, h->nms_iou, keep);
    if (kept > h->max_per_img) kept = h->max_per_img;
    det->num = kept;
    det->boxes = malloc((size_t)(kept ? kept : 1) * 4 * sizeof(float));
    det->scores = malloc((size_t)(kept ? kept : 1) * sizeof(float));
    det->labels = malloc((size_t)(kept ? kept : 1) * sizeof(int));
    wb_status st = (det->boxes && det->scores && det->labels) ? WB_OK : WB_ERR_NOMEM;
    /* Back to original-image pixels: original = (input - offset) / scale. */
    float sx = meta->scale_x > 0 ? meta->scale_x : 1.0f, sy = meta->scale_y > 0 ? meta->scale_y : 1.0f;
    for (int i = 0; st == WB_OK && i < kept; i++) {
        const float *b = boxes + 4 * keep[i];
        det->boxes[4 * i + 0] = clampf((b[0] - meta->offset_x) / sx, 0, (float)meta->ori_w);
        det->boxes[4 * i + 1] = clampf((b[1] - meta->offset_y) / sy, 0, (float)meta->ori_h);
        det->boxes[4 * i + 2] = clampf((b[2] - meta->offset_x) / sx, 0, (float)meta->ori_w);
        det->boxes[4 * i + 3] = clampf((b[3] - meta->offset_y) / sy, 0, (float)meta->ori_h);
        det->scores[i] = scores[keep[i]];
        det->labels[i] = labels[keep[i]];
    }
    free(boxes), free(scores), free(labels), free(keep);
    return st;
}
