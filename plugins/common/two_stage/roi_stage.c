/* One RoI stage (see roi_stage.h): sampling, pooling, losses, detections. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "roi_stage.h"

wb_status ts_boxes_alloc(wb_ctx *ctx, ts_boxes *b, int n_images) {
    b->n_images = n_images;
    b->counts = calloc((size_t)n_images + 1, sizeof *b->counts);
    b->boxes = calloc((size_t)n_images + 1, sizeof *b->boxes);
    if (!b->counts || !b->boxes) return wb_error(ctx, WB_ERR_NOMEM, "two-stage: out of memory for proposals");
    return WB_OK;
}

void ts_boxes_free(ts_boxes *b) {
    for (int i = 0; b->boxes && i < b->n_images; i++) free(b->boxes[i]);
    free(b->boxes), free(b->counts);
    memset(b, 0, sizeof *b);
}

void ts_roi_batch_free(ts_roi_batch *b) {
    free(b->counts), free(b->boxes), free(b->labels), free(b->gt_boxes), free(b->is_gt);
    memset(b, 0, sizeof *b);
}

/* Grows every array of out to hold `rows` more RoIs. */
static int reserve(ts_roi_batch *out, int64_t rows) {
    size_t n = (size_t)(out->k + rows + 1);
    float *boxes = realloc(out->boxes, n * 4 * sizeof(float));
    if (boxes) out->boxes = boxes;
    float *gt = realloc(out->gt_boxes, n * 4 * sizeof(float));
    if (gt) out->gt_boxes = gt;
    int *labels = realloc(out->labels, n * sizeof(int));
    if (labels) out->labels = labels;
    int *is_gt = realloc(out->is_gt, n * sizeof(int));
    if (is_gt) out->is_gt = is_gt;
    return boxes && gt && labels && is_gt;
}

/* Appends the sampled candidates of one image, positives first. */
static void append_sampled(ts_roi_batch *out, const float *cand, const int *state, int64_t n, int G_added,
                           const float *gt, const int *gt_labels, int background) {
    for (int pass = 0; pass < 2; pass++)
        for (int64_t i = 0; i < n; i++) {
            if (pass == 0 ? state[i] <= 0 : state[i] != 0) continue;
            int64_t r = out->k++;
            memcpy(out->boxes + 4 * r, cand + 4 * i, 4 * sizeof(float));
            out->is_gt[r] = i < G_added;
            if (state[i] > 0) {
                memcpy(out->gt_boxes + 4 * r, gt + 4 * (state[i] - 1), 4 * sizeof(float));
                out->labels[r] = gt_labels[state[i] - 1];
            } else {
                memcpy(out->gt_boxes + 4 * r, cand + 4 * i, 4 * sizeof(float));
                out->labels[r] = background;
            }
        }
}

static wb_status sample_image(wb_ctx *ctx, const ts_roi_stage_cfg *cfg, const float *props, int64_t P,
                              const wb_gt_image *img, ts_roi_batch *out) {
    int nb = img->num_boxes, G;
    float *gt = malloc(((size_t)nb + 1) * 4 * sizeof(float));
    int *labels = malloc(((size_t)nb + 1) * sizeof(int));
    int64_t n = (cfg->add_gt ? nb : 0) + P;
    float *cand = malloc(((size_t)n + 1) * 4 * sizeof(float)), *iou = malloc(((size_t)nb + 1) * ((size_t)n + 1) * sizeof(float));
    int *state = malloc(((size_t)n + 1) * sizeof(int));
    char err[256];
    if (!gt || !labels || !cand || !iou || !state) {
        wb_error(ctx, WB_ERR_NOMEM, "two-stage: out of memory sampling %lld RoIs", (long long)n);
    } else if ((G = ts_gt_boxes(img, cfg->num_classes, gt, labels, err, sizeof err)) < 0) {
        wb_error(ctx, WB_ERR_INVALID, "two-stage: %s", err);
    } else {
        /* mmdetection puts the gt boxes first (add_gt_as_proposals) */
        int added = cfg->add_gt ? G : 0;
        memcpy(cand, gt, (size_t)added * 4 * sizeof(float));
        memcpy(cand + 4 * added, props, (size_t)P * 4 * sizeof(float));
        n = added + P;
        ts_assign(WB_H(ctx), &cfg->assigner, cand, n, gt, G, img, iou, state, NULL);
        if (ts_sample(ctx, state, n, cfg->sampler_num, cfg->pos_fraction) >= 0) {
            if (!reserve(out, n))
                wb_error(ctx, WB_ERR_NOMEM, "two-stage: out of memory for %lld RoIs", (long long)(out->k + n));
            else
                append_sampled(out, cand, state, n, added, gt, labels, cfg->num_classes);
        }
    }
    free(gt), free(labels), free(cand), free(iou), free(state);
    return wb_ok(ctx);
}

wb_status ts_roi_sample(wb_ctx *ctx, const ts_roi_stage_cfg *cfg, const ts_boxes *proposals,
                        const wb_batch_truth *truth, ts_roi_batch *out) {
    memset(out, 0, sizeof *out);
    out->n_images = truth->batch;
    out->counts = calloc((size_t)truth->batch + 1, sizeof *out->counts);
    if (!out->counts || !reserve(out, 1)) return wb_error(ctx, WB_ERR_NOMEM, "two-stage: out of memory for RoIs");
    for (int n = 0; n < truth->batch && wb_ok(ctx) == WB_OK; n++) {
        int64_t before = out->k;
        sample_image(ctx, cfg, proposals->boxes[n], proposals->counts[n], &truth->images[n], out);
        out->counts[n] = out->k - before;
    }
    return wb_ok(ctx);
}

wb_tensor *ts_rois_of(wb_ctx *ctx, const float *boxes, const int64_t *counts, int n_images) {
    const float *per_image[256];
    if (n_images > 256) {
        wb_error(ctx, WB_ERR_INVALID, "two-stage: batch %d above 256", n_images);
        return NULL;
    }
    for (int n = 0, off = 0; n < n_images; off += (int)counts[n], n++) per_image[n] = boxes + 4 * (size_t)off;
    return ts_rois(ctx, per_image, counts, n_images);
}

wb_tensor *ts_roi_pool(wb_ctx *ctx, const ts_roi_extractor *ex, wb_tensor *const *feats, wb_tensor *rois) {
    return wb_multiscale_roi_align(ctx, feats, ex->n_levels, ex->scales, rois, ex->roi_size, ex->roi_size,
                                   ex->sampling_ratio, ex->aligned, &ex->levels);
}

static wb_tensor *run_loss(wb_ctx *ctx, wb_submodule *m, int64_t mean_count, wb_tensor *pred, wb_tensor *target,
                           wb_tensor *weight) {
    wb_tensor *in[3] = {pred, target, weight}, *out = NULL;
    if (WB_H(ctx)->submodule_forward(ctx, m, in, 3, &out, 1) != WB_OK) return NULL;
    return mean_count > 0 ? wb_scale(ctx, out, (float)mean_count) : out;
}

float ts_accuracy(const float *logits, const int *labels, int64_t k, int c) {
    int64_t right = 0;
    for (int64_t i = 0; i < k; i++) {
        int best = 0;
        for (int j = 1; j < c; j++)
            if (logits[i * c + j] > logits[i * c + best]) best = j;
        right += best == labels[i];
    }
    return k > 0 ? (float)right * (float)(100.0 / (double)k) : 0.0f; /* mmdetection's mul_(100.0 / k) */
}

wb_status ts_roi_loss(wb_ctx *ctx, const ts_roi_stage_cfg *cfg, const ts_bbox_head *head, const ts_roi_losses *losses,
                      wb_tensor *cls, wb_tensor *reg, const ts_roi_batch *batch, wb_tensor **loss_cls,
                      wb_tensor **loss_bbox, float *acc) {
    const int64_t K = batch->k;
    const int W = ts_bbox_reg_width(head), C = cfg->num_classes;
    int64_t ls[1] = {K}, rs[2] = {K, W};
    wb_tensor *labels = wb_tensor_new(ctx, 1, ls), *cls_w = wb_tensor_new(ctx, 1, ls);
    wb_tensor *target = wb_tensor_new(ctx, 2, rs), *reg_w = wb_tensor_new(ctx, 2, rs);
    float *l = wb_map(ctx, labels), *cw = wb_map(ctx, cls_w), *t = wb_map(ctx, target), *rw = wb_map(ctx, reg_w);
    const float *logits = wb_map(ctx, cls);
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    const float norm = 1.0f / (float)K; /* mmdetection's avg_factor: every sampled RoI */
    for (int64_t i = 0; i < K; i++) {
        l[i] = (float)batch->labels[i];
        cw[i] = norm;
        if (batch->labels[i] >= C) continue;
        int col = head->class_agnostic ? 0 : 4 * batch->labels[i];
        WB_H(ctx)->box_encode(batch->boxes + 4 * i, batch->gt_boxes + 4 * i, 1, cfg->means, cfg->stds,
                              t + i * W + col);
        for (int j = 0; j < 4; j++) rw[i * W + col + j] = norm;
    }
    *acc = ts_accuracy(logits, batch->labels, K, C + 1);
    wb_unmap(ctx, labels), wb_unmap(ctx, cls_w), wb_unmap(ctx, target), wb_unmap(ctx, reg_w);
    *loss_cls = run_loss(ctx, losses->cls, losses->cls_mean ? K : 0, cls, labels, cls_w);
    *loss_bbox = run_loss(ctx, losses->bbox, losses->bbox_mean ? K * W : 0, reg, target, reg_w);
    return wb_ok(ctx);
}

void ts_refine(const wb_host_api *host, const ts_roi_stage_cfg *cfg, const ts_bbox_head *head, const float *boxes,
               const int64_t *counts, int n_images, const wb_batch_truth *meta, const float *reg, const int *labels,
               float *out) {
    const int W = ts_bbox_reg_width(head);
    int64_t i = 0;
    for (int n = 0; n < n_images; n++) {
        const wb_gt_image *img = &meta->images[n];
        for (int64_t j = 0; j < counts[n]; j++, i++) {
            int col = head->class_agnostic ? 0 : 4 * (labels[i] < cfg->num_classes ? labels[i] : 0);
            ts_decode(host, boxes + 4 * i, reg + i * W + col, cfg->means, cfg->stds, cfg->torchvision, img->img_h,
                      img->img_w, out + 4 * i);
        }
    }
}

void ts_softmax_rows(const float *logits, int64_t k, int c, float *probs) {
    for (int64_t i = 0; i < k; i++) {
        const float *x = logits + i * c;
        float m = x[0], s = 0.0f;
        for (int j = 1; j < c; j++) m = x[j] > m ? x[j] : m;
        for (int j = 0; j < c; j++) s += probs[i * c + j] = expf(x[j] - m);
        for (int j = 0; j < c; j++) probs[i * c + j] /= s;
    }
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* torchvision's batched_nms: up to 1000 boxes it shifts each class apart by
 * label * (max coordinate + 1) and runs one NMS (float32 IoUs of the
 * shifted boxes decide borderline pairs); above, NMS per class. */
static int class_nms(const wb_host_api *host, int torchvision, const float *boxes, const float *scores,
                     const int *labels, int n, float iou, float *shifted, int *keep) {
    if (!torchvision || n > 1000) return host->nms(boxes, scores, labels, n, iou, keep);
    float top = -INFINITY;
    for (int i = 0; i < 4 * n; i++) top = fmaxf(top, boxes[i]);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 4; j++) shifted[4 * i + j] = boxes[4 * i + j] + (float)labels[i] * (top + 1.0f);
    return host->nms(shifted, scores, NULL, n, iou, keep);
}

wb_status ts_roi_detect(const wb_host_api *host, const ts_roi_stage_cfg *cfg, const ts_bbox_head *head,
                        const ts_test_cfg *test, const float *boxes, int64_t k, const float *probs, const float *reg,
                        const wb_gt_image *img, wb_detections *det) {
    const int C = cfg->num_classes, W = ts_bbox_reg_width(head);
    size_t cap = (size_t)(k * C > 0 ? k * C : 1);
    float *cand = malloc(cap * 4 * sizeof(float)), *shifted = malloc(cap * 4 * sizeof(float));
    float *scores = malloc(cap * sizeof(float));
    int *labels = malloc(cap * sizeof(int)), *keep = malloc(cap * sizeof(int));
    wb_status st = cand && shifted && scores && labels && keep ? WB_OK : WB_ERR_NOMEM;
    int n = 0;
    for (int64_t i = 0; i < k && st == WB_OK; i++)
        for (int c = 0; c < C; c++) {
            float s = probs[i * (C + 1) + c];
            if (!(s > test->score_thr)) continue;
            float *b = cand + 4 * n;
            ts_decode(host, boxes + 4 * i, reg + i * W + (head->class_agnostic ? 0 : 4 * c), cfg->means, cfg->stds,
                      cfg->torchvision, img->img_h, img->img_w, b);
            if (test->min_size > 0.0f && !(b[2] - b[0] >= test->min_size && b[3] - b[1] >= test->min_size)) continue;
            scores[n] = s;
            labels[n++] = c;
        }
    int kept = st == WB_OK ? class_nms(host, cfg->torchvision, cand, scores, labels, n, test->iou_threshold, shifted,
                                       keep) : 0;
    if (kept > test->max_per_img) kept = test->max_per_img;
    size_t m = (size_t)(kept ? kept : 1);
    det->boxes = malloc(m * 4 * sizeof(float));
    det->scores = malloc(m * sizeof(float));
    det->labels = malloc(m * sizeof(int));
    if (!det->boxes || !det->scores || !det->labels) st = WB_ERR_NOMEM;
    float sx = img->scale_x > 0 ? img->scale_x : 1.0f, sy = img->scale_y > 0 ? img->scale_y : 1.0f;
    for (int i = 0; st == WB_OK && i < kept; i++) {
        const float *b = cand + 4 * keep[i];
        det->boxes[4 * i + 0] = clampf((b[0] - img->offset_x) / sx, 0, (float)img->ori_w);
        det->boxes[4 * i + 1] = clampf((b[1] - img->offset_y) / sy, 0, (float)img->ori_h);
        det->boxes[4 * i + 2] = clampf((b[2] - img->offset_x) / sx, 0, (float)img->ori_w);
        det->boxes[4 * i + 3] = clampf((b[3] - img->offset_y) / sy, 0, (float)img->ori_h);
        det->scores[i] = scores[keep[i]];
        det->labels[i] = labels[keep[i]];
    }
    det->num = st == WB_OK ? kept : 0;
    free(cand), free(shifted), free(scores), free(labels), free(keep);
    return st;
}
