/* Detections: every location and class scoring above score_thr on any level,
 * the best nms_pre of them, class-aware NMS, then back to original-image
 * pixels (original = (input - offset) / scale). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "tp_fcos_lite.h"

typedef struct candidate {
    float score, box[4];
    int label;
} candidate;

static int by_score(const void *a, const void *b) {
    float x = ((const candidate *)a)->score, y = ((const candidate *)b)->score;
    return (x < y) - (x > y);
}

static float clampf(float v, float hi) { return v < 0.0f ? 0.0f : v > hi ? hi : v; }

/* Appends the candidates of one level of image n; false when out of memory. */
static int collect(const fcos_head *h, const float *cls, const float *reg, fcos_level lv, int stride,
                   const wb_gt_image *meta, candidate **c, size_t *n, size_t *cap) {
    const size_t plane = (size_t)lv.h * (size_t)lv.w;
    const float logit_thr = logf(h->score_thr / (1.0f - h->score_thr)); /* sigmoid(x) > thr, without exp */
    for (int k = 0; k < h->num_classes; k++)
        for (size_t i = 0; i < plane; i++) {
            float logit = cls[k * plane + i];
            if (!(logit > logit_thr)) continue;
            if (*n == *cap) {
                size_t grown_cap = *cap ? 2 * *cap : 1024;
                candidate *grown = realloc(*c, grown_cap * sizeof *grown);
                if (!grown) return 0;
                *c = grown, *cap = grown_cap;
            }
            float px = ((float)(i % (size_t)lv.w) + 0.5f) * (float)stride;
            float py = ((float)(i / (size_t)lv.w) + 0.5f) * (float)stride;
            candidate *o = &(*c)[(*n)++];
            o->score = 1.0f / (1.0f + expf(-logit));
            o->label = k;
            o->box[0] = clampf(px - fmaxf(reg[0 * plane + i], 0.0f) * (float)stride, (float)meta->img_w);
            o->box[1] = clampf(py - fmaxf(reg[1 * plane + i], 0.0f) * (float)stride, (float)meta->img_h);
            o->box[2] = clampf(px + fmaxf(reg[2 * plane + i], 0.0f) * (float)stride, (float)meta->img_w);
            o->box[3] = clampf(py + fmaxf(reg[3 * plane + i], 0.0f) * (float)stride, (float)meta->img_h);
        }
    return 1;
}

static wb_status fill(const fcos_head *h, const wb_host_api *host, const candidate *c, size_t n,
                      const wb_gt_image *meta, wb_detections *det) {
    float *boxes = malloc((n + 1) * 4 * sizeof *boxes), *scores = malloc((n + 1) * sizeof *scores);
    int *labels = malloc((n + 1) * sizeof *labels), *keep = malloc((n + 1) * sizeof *keep);
    wb_status st = boxes && scores && labels && keep ? WB_OK : WB_ERR_NOMEM;
    int kept = 0;
    if (st == WB_OK) {
        for (size_t i = 0; i < n; i++) {
            memcpy(boxes + 4 * i, c[i].box, sizeof c[i].box);
            scores[i] = c[i].score, labels[i] = c[i].label;
        }
        kept = host->nms(boxes, scores, labels, (int)n, h->nms_iou, keep);
        if (kept > h->max_per_img) kept = h->max_per_img;
        det->boxes = malloc(((size_t)kept + 1) * 4 * sizeof *det->boxes);
        det->scores = malloc(((size_t)kept + 1) * sizeof *det->scores);
        det->labels = malloc(((size_t)kept + 1) * sizeof *det->labels);
        if (!det->boxes || !det->scores || !det->labels) st = WB_ERR_NOMEM;
    }
    float sx = meta->scale_x > 0 ? meta->scale_x : 1.0f, sy = meta->scale_y > 0 ? meta->scale_y : 1.0f;
    for (int i = 0; st == WB_OK && i < kept; i++) {
        const float *b = boxes + 4 * keep[i];
        det->boxes[4 * i + 0] = clampf((b[0] - meta->offset_x) / sx, (float)meta->ori_w);
        det->boxes[4 * i + 1] = clampf((b[1] - meta->offset_y) / sy, (float)meta->ori_h);
        det->boxes[4 * i + 2] = clampf((b[2] - meta->offset_x) / sx, (float)meta->ori_w);
        det->boxes[4 * i + 3] = clampf((b[3] - meta->offset_y) / sy, (float)meta->ori_h);
        det->scores[i] = scores[keep[i]];
        det->labels[i] = labels[keep[i]];
    }
    det->num = st == WB_OK ? kept : 0;
    if (st != WB_OK) { /* a failed predict frees what it allocated */
        free(det->boxes), free(det->scores), free(det->labels);
        det->boxes = det->scores = NULL, det->labels = NULL;
    }
    free(boxes), free(scores), free(labels), free(keep);
    return st;
}

wb_status fcos_decode(const fcos_head *h, const wb_host_api *host, const float *const *cls, const float *const *reg,
                      const fcos_level *levels, int n, const wb_gt_image *meta, wb_detections *det) {
    candidate *c = NULL;
    size_t count = 0, cap = 0;
    for (int l = 0; l < h->n_levels; l++) {
        size_t plane = (size_t)levels[l].h * (size_t)levels[l].w;
        if (!collect(h, cls[l] + (size_t)n * (size_t)h->num_classes * plane, reg[l] + (size_t)n * 4 * plane,
                     levels[l], h->strides[l], meta, &c, &count, &cap)) {
            free(c);
            return WB_ERR_NOMEM;
        }
    }
    if (count > 1) qsort(c, count, sizeof *c, by_score);
    if (count > (size_t)h->nms_pre) count = (size_t)h->nms_pre;
    wb_status st = fill(h, host, c, count, meta, det);
    free(c);
    return st;
}
