/* The cascade's stages in training and at test (see cascade_roi_head.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cascade_roi_head.h"
#include "roi_classify.h"

static wb_tensor *scalar(wb_ctx *ctx, float v) {
    int64_t one[1] = {1};
    return wb_tensor_from_host(ctx, 1, one, &v);
}

/* Proposals for the next stage: the sampled RoIs' boxes refined by this
 * stage's deltas (host values: no gradient flows back through them), the gt
 * boxes that were added as proposals left out (the next stage adds them
 * again), as mmdetection's refine_bboxes. */
static wb_status next_proposals(cascade_roi_head *h, wb_ctx *ctx, int s, const ts_roi_batch *batch, wb_tensor *reg,
                                const wb_batch_truth *truth, ts_boxes *next) {
    const float *deltas = wb_map(ctx, reg);
    float *refined = malloc(((size_t)batch->k + 1) * 4 * sizeof(float));
    if (!deltas || !refined || ts_boxes_alloc(ctx, next, batch->n_images) != WB_OK) {
        free(refined);
        return wb_ok(ctx) != WB_OK ? wb_ok(ctx) : wb_error(ctx, WB_ERR_NOMEM, "cascade_roi_head: out of memory");
    }
    ts_refine(WB_H(ctx), &h->stage[s], &h->bbox[s], batch->boxes, batch->counts, batch->n_images, truth, deltas,
              batch->labels, refined);
    for (int n = 0, off = 0; n < batch->n_images; off += (int)batch->counts[n], n++) {
        next->boxes[n] = malloc(((size_t)batch->counts[n] + 1) * 4 * sizeof(float));
        if (!next->boxes[n]) return wb_error(ctx, WB_ERR_NOMEM, "cascade_roi_head: out of memory");
        for (int64_t i = off; i < off + batch->counts[n]; i++)
            if (!batch->is_gt[i]) memcpy(next->boxes[n] + 4 * next->counts[n]++, refined + 4 * i, 4 * sizeof(float));
    }
    free(refined);
    return WB_OK;
}

/* One stage's terms (s<s>.loss_cls, s<s>.acc, s<s>.loss_bbox) from the
 * proposals in props; *next gets the refined boxes unless it is NULL. */
static wb_status stage_loss(cascade_roi_head *h, wb_ctx *ctx, int s, wb_tensor *const *feats, const ts_boxes *props,
                            const wb_batch_truth *truth, wb_loss_term *terms, ts_boxes *next) {
    snprintf(terms[0].name, sizeof terms[0].name, "s%d.loss_cls", s);
    snprintf(terms[1].name, sizeof terms[1].name, "s%d.acc", s);
    snprintf(terms[2].name, sizeof terms[2].name, "s%d.loss_bbox", s);
    ts_roi_batch batch = {0};
    if (ts_roi_sample(ctx, &h->stage[s], props, truth, &batch) != WB_OK) {
        ts_roi_batch_free(&batch);
        return wb_ok(ctx);
    }
    if (batch.k == 0) { /* no proposal and no gt in the batch: nothing to learn from */
        for (int i = 0; i < 3; i++) terms[i].value = scalar(ctx, 0.0f);
        if (next) ts_boxes_alloc(ctx, next, truth->batch);
        ts_roi_batch_free(&batch);
        return wb_ok(ctx);
    }
    wb_tensor *rois = ts_rois_of(ctx, batch.boxes, batch.counts, batch.n_images);
    wb_tensor *pooled = ts_roi_pool(ctx, &h->det.extractor, feats, rois), *cls = NULL, *reg = NULL;
    wb_release(ctx, rois);
    float acc = 0.0f;
    wb_tensor *loss_cls = NULL, *loss_bbox = NULL;
    if (ts_bbox_head_forward(ctx, &h->bbox[s], pooled, &cls, &reg) == WB_OK &&
        ts_roi_loss(ctx, &h->stage[s], &h->bbox[s], &h->losses, cls, reg, &batch, &loss_cls, &loss_bbox, &acc) ==
            WB_OK) {
        terms[0].value = wb_scale(ctx, loss_cls, h->loss_weight[s]);
        terms[1].value = scalar(ctx, acc);
        terms[2].value = wb_scale(ctx, loss_bbox, h->loss_weight[s]);
        if (next) next_proposals(h, ctx, s, &batch, reg, truth, next);
    }
    wb_release(ctx, pooled);
    ts_roi_batch_free(&batch);
    return wb_ok(ctx);
}

wb_status cascade_loss(cascade_roi_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                       const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms) {
    const ts_detector *d = &h->det;
    if (n_preds != ts_detector_n_out(d))
        return wb_error(ctx, WB_ERR_INVALID, "cascade_roi_head: loss got %d predictions, expected %d", n_preds,
                        ts_detector_n_out(d));
    int n_rpn = 0;
    if (WB_H(ctx)->submodule_loss(ctx, d->rpn, preds, d->n_rpn_out, truth, terms, &n_rpn) != WB_OK) return wb_ok(ctx);
    if (n_rpn + 3 * h->n_stages > WB_MAX_LOSS_TERMS)
        return wb_error(ctx, WB_ERR_INVALID, "cascade_roi_head: the rpn's %d loss terms and 3 per stage (%d stages) "
                        "are more than %d", n_rpn, h->n_stages, WB_MAX_LOSS_TERMS);
    ts_boxes props = {0};
    ts_detector_proposals(ctx, d, preds, truth, &props);
    for (int s = 0; s < h->n_stages && wb_ok(ctx) == WB_OK; s++) {
        ts_boxes next = {0};
        stage_loss(h, ctx, s, preds + d->n_rpn_out, &props, truth, terms + n_rpn + 3 * s,
                   s + 1 < h->n_stages ? &next : NULL);
        ts_boxes_free(&props);
        props = next;
    }
    ts_boxes_free(&props);
    *n_terms = n_rpn + 3 * h->n_stages;
    return wb_ok(ctx);
}

static wb_status box_forward(void *bbox, wb_ctx *ctx, wb_tensor *pooled, wb_tensor **cls, wb_tensor **reg) {
    return ts_bbox_head_forward(ctx, bbox, pooled, cls, reg);
}

/* Each box's most likely class, background excluded (mmdetection's
 * bbox_label for class-specific refinement). */
static void best_labels(const float *logits, int64_t k, int c1, int *labels) {
    for (int64_t i = 0; i < k; i++) {
        int best = 0;
        for (int j = 1; j < c1 - 1; j++)
            if (logits[i * c1 + j] > logits[i * c1 + best]) best = j;
        labels[i] = best;
    }
}

wb_status cascade_predict(cascade_roi_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                          const wb_batch_truth *meta, wb_detections *dets) {
    const ts_detector *d = &h->det;
    if (n_preds != ts_detector_n_out(d))
        return wb_error(ctx, WB_ERR_INVALID, "cascade_roi_head: predict got %d predictions, expected %d", n_preds,
                        ts_detector_n_out(d));
    ts_boxes props = {0};
    if (ts_detector_proposals(ctx, d, preds, meta, &props) != WB_OK) {
        ts_boxes_free(&props);
        return wb_ok(ctx);
    }
    const int C1 = h->stage[0].num_classes + 1, W = ts_bbox_reg_width(&h->bbox[0]), last = h->n_stages - 1;
    int64_t k = 0;
    for (int n = 0; n < meta->batch; n++) k += props.counts[n];
    size_t rows = (size_t)k + 1;
    float *boxes = malloc(rows * 4 * sizeof(float)), *refined = malloc(rows * 4 * sizeof(float));
    float *logits = malloc(rows * (size_t)C1 * sizeof(float)), *mean = calloc(rows * (size_t)C1, sizeof(float));
    float *deltas = malloc(rows * (size_t)W * sizeof(float));
    int *labels = malloc(rows * sizeof(int));
    if (!boxes || !refined || !logits || !mean || !deltas || !labels)
        wb_error(ctx, WB_ERR_NOMEM, "cascade_roi_head: out of memory for %lld RoIs", (long long)k);
    for (int n = 0, off = 0; n < meta->batch && wb_ok(ctx) == WB_OK; off += (int)props.counts[n], n++)
        memcpy(boxes + 4 * (size_t)off, props.boxes[n], (size_t)props.counts[n] * 4 * sizeof(float));
    for (int s = 0; s <= last && k > 0 && wb_ok(ctx) == WB_OK; s++) {
        if (ts_roi_classify(ctx, &d->extractor, preds + d->n_rpn_out, boxes, props.counts, meta->batch, box_forward,
                            &h->bbox[s], C1, ts_bbox_reg_width(&h->bbox[s]), logits, deltas) != WB_OK)
            break;
        for (size_t i = 0; i < (size_t)k * (size_t)C1; i++) mean[i] += logits[i] / (float)h->n_stages;
        if (s == last) break;
        best_labels(logits, k, C1, labels);
        ts_refine(WB_H(ctx), &h->stage[s], &h->bbox[s], boxes, props.counts, meta->batch, meta, deltas, labels,
                  refined);
        memcpy(boxes, refined, (size_t)k * 4 * sizeof(float));
    }
    /* the stages' averaged logits, the last stage's boxes */
    if (wb_ok(ctx) == WB_OK && k > 0) ts_softmax_rows(mean, k, C1, logits);
    for (int n = 0, off = 0; n < meta->batch && wb_ok(ctx) == WB_OK; off += (int)props.counts[n], n++)
        if (ts_roi_detect(WB_H(ctx), &h->stage[last], &h->bbox[last], &h->test, boxes + 4 * (size_t)off,
                          props.counts[n], logits + (size_t)off * C1, deltas + (size_t)off * W, &meta->images[n],
                          &dets[n]) != WB_OK)
            wb_error(ctx, WB_ERR_NOMEM, "cascade_roi_head: out of memory decoding detections");
    free(boxes), free(refined), free(logits), free(mean), free(deltas), free(labels);
    ts_boxes_free(&props);
    if (wb_ok(ctx) != WB_OK)
        for (int n = 0; n < meta->batch; n++) {
            free(dets[n].boxes), free(dets[n].scores), free(dets[n].labels);
            memset(&dets[n], 0, sizeof dets[n]);
            dets[n].struct_size = sizeof dets[n];
        }
    return wb_ok(ctx);
}
