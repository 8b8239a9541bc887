/* mmdetection's MaxIoUAssigner (gt_max_assign_all: a gt takes every
 * candidate that ties for its best IoU, later gts winning) and
 * RandomSampler. Candidates mostly inside an ignore region (crowd,
 * difficult) are neither positive nor negative, as the SDK defines them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "two_stage.h"

int ts_gt_boxes(const wb_gt_image *gt, int num_classes, float *boxes, int *labels, char *err, size_t err_size) {
    int G = 0;
    for (int b = 0; b < gt->num_boxes; b++) {
        if (gt->ignore && gt->ignore[b]) continue;
        if (gt->labels[b] < 0 || gt->labels[b] >= num_classes) {
            snprintf(err, err_size, "box %d of image %lld has label %d, outside 0..%d (num_classes %d)", b,
                     (long long)gt->image_id, gt->labels[b], num_classes - 1, num_classes);
            return -1;
        }
        memcpy(boxes + 4 * G, gt->boxes + 4 * b, 4 * sizeof(float));
        labels[G++] = gt->labels[b];
    }
    return G;
}

/* Largest intersection over the candidate's own area with any ignore box. */
static float max_iof(const float *c, const wb_gt_image *gt) {
    float area = (c[2] - c[0]) * (c[3] - c[1]), best = 0.0f;
    for (int b = 0; b < gt->num_boxes && area > 0.0f; b++) {
        if (!gt->ignore || !gt->ignore[b]) continue;
        const float *g = gt->boxes + 4 * b;
        float iw = (c[2] < g[2] ? c[2] : g[2]) - (c[0] > g[0] ? c[0] : g[0]);
        float ih = (c[3] < g[3] ? c[3] : g[3]) - (c[1] > g[1] ? c[1] : g[1]);
        if (iw > 0.0f && ih > 0.0f && iw * ih / area > best) best = iw * ih / area;
    }
    return best;
}

void ts_assign(const wb_host_api *host, const ts_assigner *cfg, const float *cand, int64_t n, const float *gt,
               int G, const wb_gt_image *gt_img, float *iou, int *state, float *max_iou) {
    if (G > 0)
        host->box_iou(gt, G, cand, (int)n, iou);
    else
        memset(iou, 0, (size_t)n * sizeof(float));
    if (cfg->ignore_iof_thr > 0.0f && gt_img && gt_img->ignore)
        for (int64_t i = 0; i < n; i++)
            if (max_iof(cand + 4 * i, gt_img) > cfg->ignore_iof_thr)
                for (int g = 0; g < (G > 0 ? G : 1); g++) iou[(size_t)g * (size_t)n + (size_t)i] = -1.0f;
    for (int64_t i = 0; i < n; i++) {
        float best = iou[i]; /* with no gt: 0 (background) or -1 (ignored) */
        int arg = G > 0 ? 0 : -1;
        for (int g = 1; g < G; g++)
            if (iou[(size_t)g * (size_t)n + (size_t)i] > best) best = iou[(size_t)g * (size_t)n + (size_t)i], arg = g;
        state[i] = -1;
        if (best >= 0.0f && best < cfg->neg_iou_thr) state[i] = 0;
        if (arg >= 0 && best >= cfg->pos_iou_thr) state[i] = arg + 1;
        if (max_iou) max_iou[i] = best;
    }
    if (!cfg->match_low_quality) return;
    for (int g = 0; g < G; g++) {
        const float *row = iou + (size_t)g * (size_t)n;
        float gt_max = -1.0f;
        for (int64_t i = 0; i < n; i++) gt_max = row[i] > gt_max ? row[i] : gt_max;
        if (gt_max < cfg->min_pos_iou || gt_max <= 0.0f) continue;
        for (int64_t i = 0; i < n; i++)
            if (row[i] == gt_max) state[i] = g + 1;
    }
}

/* Keeps k of the indices idx[0..m) chosen uniformly (a partial Fisher-Yates
 * shuffle on the module's stream); the rest are marked not sampled. */
static void keep_random(wb_ctx *ctx, int *state, int64_t *idx, int64_t m, int64_t k) {
    for (int64_t i = 0; i < k && i < m; i++) {
        int64_t j = i + (int64_t)(WB_H(ctx)->rng_uniform(ctx) * (float)(m - i));
        if (j >= m) j = m - 1;
        int64_t t = idx[i];
        idx[i] = idx[j], idx[j] = t;
    }
    for (int64_t i = k; i < m; i++) state[idx[i]] = -1;
}

int64_t ts_sample(wb_ctx *ctx, int *state, int64_t n, int num, float pos_fraction) {
    int64_t n_pos = 0, n_neg = 0;
    for (int64_t i = 0; i < n; i++) n_pos += state[i] > 0, n_neg += state[i] == 0;
    int64_t *idx = malloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    if (!idx) {
        wb_error(ctx, WB_ERR_NOMEM, "sampler: out of memory for %lld candidates", (long long)n);
        return -1;
    }
    int64_t want_pos = (int64_t)((float)num * pos_fraction), m = 0;
    int64_t keep_pos = n_pos < want_pos ? n_pos : want_pos;
    for (int64_t i = 0; i < n; i++)
        if (state[i] > 0) idx[m++] = i;
    keep_random(ctx, state, idx, m, keep_pos);
    int64_t want_neg = num - keep_pos, keep_neg = n_neg < want_neg ? n_neg : want_neg;
    m = 0;
    for (int64_t i = 0; i < n; i++)
        if (state[i] == 0) idx[m++] = i;
    keep_random(ctx, state, idx, m, keep_neg);
    free(idx);
    return keep_pos + keep_neg;
}

wb_tensor *ts_rois(wb_ctx *ctx, const float *const *boxes, const int64_t *counts, int n_images) {
    int64_t k = 0;
    for (int i = 0; i < n_images; i++) k += counts[i];
    int64_t shape[2] = {k, 5};
    wb_tensor *t = wb_tensor_new(ctx, 2, shape);
    float *r = k > 0 ? wb_map(ctx, t) : NULL;
    if (!r) return k > 0 ? NULL : t;
    for (int i = 0; i < n_images; i++)
        for (int64_t j = 0; j < counts[i]; j++, r += 5) {
            r[0] = (float)i;
            memcpy(r + 1, boxes[i] + 4 * j, 4 * sizeof(float));
        }
    wb_unmap(ctx, t);
    return t;
}
