/* See detections.h. */
#include "detections.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int det_push(det_candidates *c, det_candidate x) {
    if (c->n == c->cap) {
        int64_t cap = c->cap ? 2 * c->cap : 4096;
        det_candidate *grown = realloc(c->v, (size_t)cap * sizeof *grown);
        if (!grown) return 0;
        c->v = grown;
        c->cap = cap;
    }
    c->v[c->n++] = x;
    return 1;
}

static int by_rank_desc(const void *a, const void *b) {
    const det_candidate *x = a, *y = b;
    if (x->rank != y->rank) return x->rank < y->rank ? 1 : -1;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return x->label - y->label;
}

void det_keep_best(det_candidates *c, int64_t first, int64_t k) {
    /* Fewer than two: nothing to order, and c->v may still be NULL. */
    if (c->n - first > 1) qsort(c->v + first, (size_t)(c->n - first), sizeof *c->v, by_rank_desc);
    if (c->n - first > k) c->n = first + k;
}

int det_torchvision_nms(const wb_host_api *host, const float *boxes, const float *scores, const int *labels, int n,
                        float iou_threshold, float *shifted, int *keep) {
    if (n > 1000) return host->nms(boxes, scores, labels, n, iou_threshold, keep);
    float max_coordinate = -INFINITY;
    for (int i = 0; i < 4 * n; i++) max_coordinate = fmaxf(max_coordinate, boxes[i]);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 4; j++) shifted[4 * i + j] = boxes[4 * i + j] + (float)labels[i] * (max_coordinate + 1.0f);
    return host->nms(shifted, scores, NULL, n, iou_threshold, keep);
}

int det_alloc(wb_detections *d, int n) {
    size_t room = (size_t)(n > 0 ? n : 1);
    d->num = n;
    d->boxes = malloc(room * 4 * sizeof(float));
    d->scores = malloc(room * sizeof(float));
    d->labels = malloc(room * sizeof(int));
    if (d->boxes && d->scores && d->labels) return 1;
    det_release(NULL, d);
    return 0;
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

wb_status det_write_kept(const float *boxes, const float *scores, const int *labels, const int *keep, int kept,
                         const wb_gt_image *meta, wb_detections *det) {
    if (!det_alloc(det, kept)) return WB_ERR_NOMEM;
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

void det_release(void *inst, wb_detections *d) {
    (void)inst;
    free(d->boxes), free(d->scores), free(d->labels);
    memset(d, 0, sizeof *d);
}
