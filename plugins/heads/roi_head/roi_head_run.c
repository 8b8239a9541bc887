/* Faster R-CNN's second stage on the RPN's proposals: in training, the
 * RPN's loss terms, then proposals (plus the gt boxes) sampled, pooled and
 * classified; at test, every proposal pooled, classified and decoded. */
#include <stdlib.h>
#include <string.h>
#include "roi_classify.h"
#include "roi_head.h"

wb_status roi_head_box_forward(roi_head *h, wb_ctx *ctx, wb_tensor *pooled, wb_tensor **cls, wb_tensor **reg) {
    if (!h->use_res5) return ts_bbox_head_forward(ctx, &h->bbox, pooled, cls, reg);
    wb_tensor *x = res5_forward(ctx, &h->res5, pooled);
    ts_bbox_head_forward(ctx, &h->bbox, x, cls, reg);
    wb_release(ctx, x);
    return wb_ok(ctx);
}

static wb_tensor *scalar(wb_ctx *ctx, float v) {
    int64_t one[1] = {1};
    return wb_tensor_from_host(ctx, 1, one, &v);
}

/* The box head's terms in mmdetection's order: loss_cls, acc (the
 * classifier's accuracy on the sampled RoIs in percent: a metric, logged and
 * not trained), loss_bbox. */
static wb_status stage_loss(roi_head *h, wb_ctx *ctx, wb_tensor *const *feats, const ts_roi_batch *batch,
                            wb_loss_term *terms) {
    terms[0] = (wb_loss_term){"loss_cls", NULL};
    terms[1] = (wb_loss_term){"acc", NULL};
    terms[2] = (wb_loss_term){"loss_bbox", NULL};
    if (batch->k == 0) { /* no RoI in the batch: nothing to learn from */
        for (int i = 0; i < 3; i++) terms[i].value = scalar(ctx, 0.0f);
        return wb_ok(ctx);
    }
    wb_tensor *rois = ts_rois_of(ctx, batch->boxes, batch->counts, batch->n_images);
    wb_tensor *pooled = ts_roi_pool(ctx, &h->det.extractor, feats, rois), *cls = NULL, *reg = NULL;
    wb_release(ctx, rois);
    if (roi_head_box_forward(h, ctx, pooled, &cls, &reg) != WB_OK) return wb_ok(ctx);
    wb_release(ctx, pooled);
    float acc = 0.0f;
    if (ts_roi_loss(ctx, &h->stage, &h->bbox, &h->losses, cls, reg, batch, &terms[0].value, &terms[2].value, &acc) ==
        WB_OK)
        terms[1].value = scalar(ctx, acc);
    return wb_ok(ctx);
}

wb_status roi_head_loss(roi_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                        wb_loss_term *terms, int *n_terms) {
    const ts_detector *d = &h->det;
    if (n_preds != ts_detector_n_out(d))
        return wb_error(ctx, WB_ERR_INVALID, "roi_head: loss got %d predictions, expected %d", n_preds,
                        ts_detector_n_out(d));
    int n_rpn = 0;
    if (WB_H(ctx)->submodule_loss(ctx, d->rpn, preds, d->n_rpn_out, truth, terms, &n_rpn) != WB_OK) return wb_ok(ctx);
    if (n_rpn + 3 > WB_MAX_LOSS_TERMS)
        return wb_error(ctx, WB_ERR_INVALID, "roi_head: the rpn gives %d loss terms; with the RoI head's 3 that is "
                        "more than %d", n_rpn, WB_MAX_LOSS_TERMS);
    ts_boxes props = {0};
    ts_roi_batch batch = {0};
    if (ts_detector_proposals(ctx, d, preds, truth, &props) == WB_OK &&
        ts_roi_sample(ctx, &h->stage, &props, truth, &batch) == WB_OK)
        stage_loss(h, ctx, preds + d->n_rpn_out, &batch, terms + n_rpn);
    ts_boxes_free(&props);
    ts_roi_batch_free(&batch);
    *n_terms = n_rpn + 3;
    return wb_ok(ctx);
}

static void free_dets(wb_detections *dets, int n) {
    for (int i = 0; i < n; i++) {
        free(dets[i].boxes), free(dets[i].scores), free(dets[i].labels);
        memset(&dets[i], 0, sizeof dets[i]);
        dets[i].struct_size = sizeof dets[i];
    }
}

static wb_status box_forward(void *h, wb_ctx *ctx, wb_tensor *pooled, wb_tensor **cls, wb_tensor **reg) {
    return roi_head_box_forward(h, ctx, pooled, cls, reg);
}

wb_status roi_head_predict(roi_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                           wb_detections *dets) {
    const ts_detector *d = &h->det;
    if (n_preds != ts_detector_n_out(d))
        return wb_error(ctx, WB_ERR_INVALID, "roi_head: predict got %d predictions, expected %d", n_preds,
                        ts_detector_n_out(d));
    ts_boxes props = {0};
    if (ts_detector_proposals(ctx, d, preds, meta, &props) != WB_OK) {
        ts_boxes_free(&props);
        return wb_ok(ctx);
    }
    int64_t k = 0;
    for (int n = 0; n < meta->batch; n++) k += props.counts[n];
    float *boxes = malloc(((size_t)k + 1) * 4 * sizeof(float));
    float *probs = malloc(((size_t)k + 1) * (size_t)(h->stage.num_classes + 1) * sizeof(float));
    float *deltas = malloc(((size_t)k + 1) * (size_t)ts_bbox_reg_width(&h->bbox) * sizeof(float));
    if (!boxes || !probs || !deltas) wb_error(ctx, WB_ERR_NOMEM, "roi_head: out of memory for %lld RoIs", (long long)k);
    for (int n = 0, off = 0; n < meta->batch && wb_ok(ctx) == WB_OK; off += (int)props.counts[n], n++)
        memcpy(boxes + 4 * (size_t)off, props.boxes[n], (size_t)props.counts[n] * 4 * sizeof(float));
    const int W = ts_bbox_reg_width(&h->bbox), C1 = h->stage.num_classes + 1;
    /* the logits land in probs and become probabilities in place */
    if (wb_ok(ctx) == WB_OK && k > 0 &&
        ts_roi_classify(ctx, &d->extractor, preds + d->n_rpn_out, boxes, props.counts, meta->batch, box_forward, h,
                        C1, W, probs, deltas) == WB_OK)
        ts_softmax_rows(probs, k, C1, probs);
    for (int n = 0, off = 0; n < meta->batch && wb_ok(ctx) == WB_OK; off += (int)props.counts[n], n++)
        if (ts_roi_detect(WB_H(ctx), &h->stage, &h->bbox, &h->test, boxes + 4 * (size_t)off, props.counts[n],
                          probs + (size_t)off * C1, deltas + (size_t)off * W, &meta->images[n], &dets[n]) != WB_OK)
            wb_error(ctx, WB_ERR_NOMEM, "roi_head: out of memory decoding detections");
    free(boxes), free(probs), free(deltas);
    ts_boxes_free(&props);
    if (wb_ok(ctx) != WB_OK) free_dets(dets, meta->batch);
    return wb_ok(ctx);
}
