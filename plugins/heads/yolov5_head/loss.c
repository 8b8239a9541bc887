/* YOLOv5's ComputeLoss (utils/loss.py of 7.0) with SDK ops, so backward
 * comes from the tape. Per level: the targets' predictions (gather_op.c)
 * give the box, decoded as (2 sigmoid - 0.5) offsets in the cell and
 * (2 sigmoid)^2 anchor sizes, whose CIoU with the target box is the box
 * loss (mean of 1 - CIoU); the CIoU, detached and clamped at 0, is the
 * objectness target of those cells (YOLOv5's gr = 1), whose BCE over every
 * cell is weighted by the level's balance; classes get a BCE against
 * label-smoothed one-hot targets (only with more than one class). The gains
 * multiply each sum and the batch size the whole, as YOLOv5 returns (lbox +
 * lobj + lcls) * bs; the three terms therefore carry the batch-size factor
 * (YOLOv5's printed items are the terms / batch size). */
#include <stdio.h>
#include <stdlib.h>
#include "yolov5_head.h"

#define FOCAL_ALPHA 0.25f /* YOLOv5's FocalLoss default */
#define CIOU_EPS 1e-7f    /* bbox_iou's eps */

static wb_tensor *filled(wb_ctx *ctx, int ndim, const int64_t *shape, float v) {
    wb_tensor *t = wb_tensor_new(ctx, ndim, shape);
    float *d = wb_map(ctx, t);
    if (!d) return NULL;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    for (int64_t i = 0; i < n; i++) d[i] = v;
    wb_unmap(ctx, t);
    return t;
}

/* Mean of BCEWithLogitsLoss(pos_weight) elementwise, wrapped in YOLOv5's
 * FocalLoss when fl_gamma > 0. With pos_weight w the loss is plain BCE plus
 * (w - 1) t softplus(-x), and softplus(-x) is the BCE against 1. */
static wb_tensor *bce_mean(const yolov5_head *h, wb_ctx *ctx, wb_tensor *x, wb_tensor *t, float pos_weight) {
    wb_tensor *loss = wb_bce_with_logits(ctx, x, t, NULL, WB_REDUCE_NONE);
    if (pos_weight != 1.0f) {
        wb_tensor_info i = wb_info(ctx, x);
        wb_tensor *soft_neg = wb_bce_with_logits(ctx, x, filled(ctx, i.ndim, i.shape, 1.0f), NULL, WB_REDUCE_NONE);
        loss = wb_add(ctx, loss, wb_mul(ctx, soft_neg, wb_scale(ctx, t, pos_weight - 1.0f)));
    }
    if (h->fl_gamma > 0.0f) {
        wb_tensor *p = wb_sigmoid(ctx, x);
        wb_tensor *p_t = wb_add(ctx, wb_mul(ctx, t, p), wb_mul(ctx, wb_rsub_scalar(ctx, 1.0f, t), wb_rsub_scalar(ctx, 1.0f, p)));
        /* t alpha + (1 - t)(1 - alpha) */
        wb_tensor *alpha = wb_add_scalar(ctx, wb_scale(ctx, t, 2.0f * FOCAL_ALPHA - 1.0f), 1.0f - FOCAL_ALPHA);
        wb_tensor *modulating = wb_pow(ctx, wb_rsub_scalar(ctx, 1.0f, p_t), h->fl_gamma);
        loss = wb_mul(ctx, loss, wb_mul(ctx, alpha, modulating));
    }
    return wb_mean(ctx, loss, -1, 0);
}

static wb_tensor *accumulate(wb_ctx *ctx, wb_tensor *sum, wb_tensor *v) { return sum ? wb_add(ctx, sum, v) : v; }

/* Predicted boxes x1, y1, x2, y2 in grid units relative to the target cells. */
static wb_tensor *decode_boxes(wb_ctx *ctx, wb_tensor *rows, const yolov5_target *t, int n) {
    int64_t pairs[2] = {n, 2};
    wb_tensor *anchor = wb_tensor_new(ctx, 2, pairs);
    float *a = wb_map(ctx, anchor);
    if (!a) return NULL;
    for (int r = 0; r < n; r++) a[2 * r] = t[r].anchor[0], a[2 * r + 1] = t[r].anchor[1];
    wb_unmap(ctx, anchor);
    wb_tensor *xy = wb_add_scalar(ctx, wb_scale(ctx, wb_sigmoid(ctx, wb_slice(ctx, rows, 1, 0, 2)), 2.0f), -0.5f);
    wb_tensor *wh = wb_mul(ctx, wb_pow(ctx, wb_scale(ctx, wb_sigmoid(ctx, wb_slice(ctx, rows, 1, 2, 4)), 2.0f), 2.0f),
                           anchor);
    wb_tensor *half = wb_scale(ctx, wh, 0.5f);
    wb_tensor *corners[2] = {wb_sub(ctx, xy, half), wb_add(ctx, xy, half)};
    return wb_concat(ctx, corners, 2, 1);
}

static wb_tensor *target_boxes(wb_ctx *ctx, const yolov5_target *t, int n) {
    int64_t shape[2] = {n, 4};
    wb_tensor *boxes = wb_tensor_new(ctx, 2, shape);
    float *b = wb_map(ctx, boxes);
    if (!b) return NULL;
    for (int r = 0; r < n; r++) {
        const float *x = t[r].box;
        b[4 * r] = x[0] - x[2] / 2, b[4 * r + 1] = x[1] - x[3] / 2;
        b[4 * r + 2] = x[0] + x[2] / 2, b[4 * r + 3] = x[1] + x[3] / 2;
    }
    wb_unmap(ctx, boxes);
    return boxes;
}

/* tobj[b, a, gj, gi] = CIoU (mixed with 1 by gr), later targets
 * overwriting earlier ones as YOLOv5's indexed assignment does. */
static void set_objectness(wb_ctx *ctx, const yolov5_head *h, wb_tensor *tobj, wb_tensor *ciou_loss,
                           const yolov5_target *t, int n, int64_t H, int64_t W) {
    const float *loss = wb_map(ctx, ciou_loss);
    float *to = wb_map(ctx, tobj);
    if (!loss || !to) return;
    for (int r = 0; r < n; r++) {
        float iou = 1.0f - loss[r];
        iou = iou > 0.0f ? iou : 0.0f;
        if (h->gr < 1.0f) iou = (1.0f - h->gr) + h->gr * iou;
        to[((int64_t)t[r].b * h->na + t[r].a) * H * W + t[r].gj * W + t[r].gi] = iou;
    }
    wb_unmap(ctx, tobj);
}

/* Label-smoothed one-hot class targets [n, K]. */
static wb_tensor *class_targets(wb_ctx *ctx, const yolov5_head *h, const yolov5_target *t, int n) {
    int64_t shape[2] = {n, h->num_classes};
    float positive = 1.0f - 0.5f * h->label_smoothing, negative = 0.5f * h->label_smoothing;
    wb_tensor *tc = filled(ctx, 2, shape, negative);
    float *d = wb_map(ctx, tc);
    if (!d) return NULL;
    for (int r = 0; r < n; r++) d[(int64_t)r * h->num_classes + t[r].cls] = positive;
    wb_unmap(ctx, tc);
    return tc;
}

static wb_status check_labels(wb_ctx *ctx, const yolov5_head *h, const wb_batch_truth *truth) {
    for (int b = 0; b < truth->batch; b++)
        for (int i = 0; i < truth->images[b].num_boxes; i++) {
            int c = truth->images[b].labels[i];
            if (c < 0 || c >= h->num_classes)
                return wb_error(ctx, WB_ERR_INVALID, "yolov5_head: box %d of batch image %d has label %d, outside "
                                "0..%d (num_classes = %d)", i, b, c, h->num_classes - 1, h->num_classes);
        }
    return WB_OK;
}

/* The sums of one level's box, objectness and class losses are added to
 * sums[0..2]. */
static void level_loss(const yolov5_head *h, wb_ctx *ctx, int l, wb_tensor *pred, const wb_batch_truth *truth,
                       yolov5_target *t, wb_tensor **sums) {
    wb_tensor_info info = wb_info(ctx, pred);
    int64_t N = info.shape[0], H = info.shape[2], W = info.shape[3];
    const float *anchors = yolov5_anchors(h, ctx, l);
    if (!anchors) return;
    int n = yolov5_build_targets(h, anchors, l, (int)H, (int)W, truth, t);
    int64_t per_anchor[4] = {N, h->na, h->no, H * W}, obj_shape[4] = {N, h->na, 1, H * W};
    wb_tensor *tobj = wb_tensor_new(ctx, 4, obj_shape);
    if (n > 0) {
        wb_tensor *rows = yolov5_gather(h, ctx, pred, t, n);
        wb_tensor *ciou_loss = wb_iou_loss(ctx, decode_boxes(ctx, rows, t, n), target_boxes(ctx, t, n), NULL,
                                           WB_CIOU, CIOU_EPS, WB_REDUCE_NONE);
        sums[0] = accumulate(ctx, sums[0], wb_mean(ctx, ciou_loss, -1, 0));
        set_objectness(ctx, h, tobj, ciou_loss, t, n, H, W);
        if (h->num_classes > 1)
            sums[2] = accumulate(ctx, sums[2], bce_mean(h, ctx, wb_slice(ctx, rows, 1, 5, h->no),
                                                        class_targets(ctx, h, t, n), h->cls_pw));
    }
    wb_tensor *obj = wb_slice(ctx, wb_reshape(ctx, pred, 4, per_anchor), 2, 4, 5);
    sums[1] = accumulate(ctx, sums[1], wb_scale(ctx, bce_mean(h, ctx, obj, tobj, h->obj_pw), h->balance[l]));
}

wb_status yolov5_loss(yolov5_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                      const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms) {
    if (n_preds != h->n_levels)
        return wb_error(ctx, WB_ERR_INVALID, "yolov5_head: loss got %d prediction maps, expected %d", n_preds,
                        h->n_levels);
    if (check_labels(ctx, h, truth) != WB_OK) return wb_ok(ctx);
    int64_t cap = yolov5_max_targets(h, truth);
    yolov5_target *t = malloc((size_t)(cap > 0 ? cap : 1) * sizeof *t);
    if (!t) return wb_error(ctx, WB_ERR_NOMEM, "yolov5_head: out of memory for %lld targets", (long long)cap);
    wb_tensor *sums[3] = {NULL, NULL, NULL};
    for (int l = 0; l < h->n_levels && wb_ok(ctx) == WB_OK; l++) level_loss(h, ctx, l, preds[l], truth, t, sums);
    free(t);
    static const char *const names[3] = {"loss_box", "loss_obj", "loss_cls"};
    const float gains[3] = {h->box_gain, h->obj_gain, h->cls_gain};
    const int64_t one = 1;
    for (int k = 0; k < 3; k++) {
        wb_tensor *sum = sums[k] ? sums[k] : wb_tensor_new(ctx, 1, &one); /* no targets (or one class): 0 */
        terms[k] = (wb_loss_term){"", wb_scale(ctx, sum, gains[k] * (float)truth->batch)};
        snprintf(terms[k].name, sizeof terms[k].name, "%s", names[k]);
    }
    *n_terms = 3;
    return wb_ok(ctx);
}
