#include <math.h>
#include <stdlib.h>
#include "center_head.h"
#include "detections.h"

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

wb_status center_decode(const center_head *h, const wb_host_api *host, const float *cls, const float *reg,
                        int fh, int fw, const wb_gt_image *meta, wb_detections *det) {
    const size_t plane = (size_t)fh * fw;
    const int K = h->num_classes;
    /* sigmoid(x) > thr  <=>  x > logit(thr): filter before any exp. */
    const float logit_thr = logf(h->score_thr / (1.0f - h->score_thr));
    det_candidates cand = {0};
    for (int k = 0; k < K; k++) {
        for (size_t c = 0; c < plane; c++) {
            float logit = cls[k * plane + c];
            if (logit <= logit_thr) continue;
            float score = 1.0f / (1.0f + expf(-logit));
            if (!det_push(&cand, (det_candidate){score, score, (int64_t)c, k})) {
                free(cand.v);
                return WB_ERR_NOMEM;
            }
        }
    }
    det_keep_best(&cand, 0, h->nms_pre);
    const size_t n = (size_t)cand.n;
    float *boxes = malloc((n ? n : 1) * 4 * sizeof(float));
    float *scores = malloc((n ? n : 1) * sizeof(float));
    int *labels = malloc((n ? n : 1) * sizeof(int)), *keep = malloc((n ? n : 1) * sizeof(int));
    if (!boxes || !scores || !labels || !keep) {
        free(cand.v), free(boxes), free(scores), free(labels), free(keep);
        return WB_ERR_NOMEM;
    }
    const float s = (float)h->stride;
    for (size_t i = 0; i < n; i++) {
        int c = (int)cand.v[i].index;
        float cx = ((float)(c % fw) + 0.5f) * s, cy = ((float)(c / fw) + 0.5f) * s;
        float *b = boxes + 4 * i;
        b[0] = clampf(cx - fmaxf(reg[0 * plane + c], 0.0f) * s, 0, (float)meta->img_w);
        b[1] = clampf(cy - fmaxf(reg[1 * plane + c], 0.0f) * s, 0, (float)meta->img_h);
        b[2] = clampf(cx + fmaxf(reg[2 * plane + c], 0.0f) * s, 0, (float)meta->img_w);
        b[3] = clampf(cy + fmaxf(reg[3 * plane + c], 0.0f) * s, 0, (float)meta->img_h);
        scores[i] = cand.v[i].score;
        labels[i] = cand.v[i].label;
    }
    free(cand.v);
    int kept = host->nms(boxes, scores, labels, (int)n, h->nms_iou, keep);
    if (kept > h->max_per_img) kept = h->max_per_img;
    wb_status st = det_write_kept(boxes, scores, labels, keep, kept, meta, det);
    free(boxes), free(scores), free(labels), free(keep);
    return st;
}
