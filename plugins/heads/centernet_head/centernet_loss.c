/* centernet_head: the loss terms, from SDK ops so the tape differentiates them.
 *   loss_heatmap  CornerNet / CenterNet's penalty-reduced focal loss
 *                 -(sum_pos (1-p)^2 log p + sum_neg (1-y)^4 p^2 log(1-p)) / number of peaks,
 *                 p = clamp(sigmoid(x), 1e-4, 1 - 1e-4) as CenterNet's _sigmoid
 *   loss_wh, loss_offset (wh_offset)  L1 at object centers / (2 num_objects) (RegL1Loss)
 *   loss_giou (ltrb)  GIoU of the decoded box at object centers / num_objects */
#include <string.h>
#include "centernet_head.h"

static wb_tensor *focal_heatmap_loss(wb_ctx *ctx, wb_tensor *logits, wb_tensor *pos, wb_tensor *neg_weight) {
    wb_tensor *sig = wb_sigmoid(ctx, logits);
    wb_tensor *p = wb_clamp(ctx, sig, 1e-4f, 1.0f - 1e-4f);
    wb_release(ctx, sig);
    wb_tensor *q = wb_rsub_scalar(ctx, 1.0f, p);
    wb_tensor *log_p = wb_ln(ctx, p), *log_q = wb_ln(ctx, q);
    wb_tensor *q2 = wb_pow(ctx, q, 2.0f), *p2 = wb_pow(ctx, p, 2.0f);
    wb_release(ctx, p), wb_release(ctx, q);
    wb_tensor *pos_l = wb_mul(ctx, wb_mul(ctx, log_p, q2), pos);
    wb_tensor *neg_l = wb_mul(ctx, wb_mul(ctx, log_q, p2), neg_weight);
    wb_release(ctx, log_p), wb_release(ctx, log_q), wb_release(ctx, q2), wb_release(ctx, p2);
    wb_tensor *total = wb_add(ctx, wb_sum(ctx, pos_l, -1, 0), wb_sum(ctx, neg_l, -1, 0));
    wb_release(ctx, pos_l), wb_release(ctx, neg_l);
    return wb_neg(ctx, total);
}

/* Boxes of every cell, [N*H*W, 4]: (gx - s d0, gy - s d1, gx + s d2, gy + s d3), gx = x * stride. */
static wb_tensor *decode_ltrb(const centernet_head *h, wb_ctx *ctx, wb_tensor *pred) {
    wb_tensor_info pi = wb_info(ctx, pred);
    int64_t fh = pi.shape[2], fw = pi.shape[3];
    int64_t gshape[4] = {1, 4, fh, fw}, sshape[4] = {1, 4, 1, 1};
    wb_tensor *grid = wb_tensor_new(ctx, 4, gshape);
    float *g = wb_map(ctx, grid);
    if (!g) return NULL;
    for (int64_t y = 0; y < fh; y++)
        for (int64_t x = 0; x < fw; x++) {
            size_t i = (size_t)(y * fw + x), plane = (size_t)(fh * fw);
            g[i] = g[2 * plane + i] = (float)(x * h->stride);
            g[plane + i] = g[3 * plane + i] = (float)(y * h->stride);
        }
    wb_unmap(ctx, grid);
    float signs[4] = {-h->box_scale, -h->box_scale, h->box_scale, h->box_scale};
    wb_tensor *sign = wb_tensor_from_host(ctx, 4, sshape, signs);
    wb_tensor *scaled = wb_mul(ctx, pred, sign);
    wb_tensor *boxes = wb_add(ctx, scaled, grid);
    wb_release(ctx, scaled), wb_release(ctx, grid), wb_release(ctx, sign);
    const int nhwc[4] = {0, 2, 3, 1};
    wb_tensor *rows = wb_permute(ctx, boxes, nhwc);
    wb_release(ctx, boxes);
    int64_t flat[2] = {-1, 4};
    wb_tensor *y = wb_reshape(ctx, rows, 2, flat);
    wb_release(ctx, rows);
    return y;
}

wb_status cn_loss(centernet_head *h, wb_ctx *ctx, wb_tensor *const *preds, const wb_batch_truth *truth,
                  wb_loss_term *terms, int *n_terms) {
    wb_tensor_info hi = wb_info(ctx, preds[0]), bi = wb_info(ctx, preds[1]);
    int n = (int)hi.shape[0], fh = (int)hi.shape[2], fw = (int)hi.shape[3];
    int64_t cells = (int64_t)n * fh * fw, box_rows[2] = {cells, 4};
    wb_tensor *heat_t = wb_tensor_new(ctx, 4, hi.shape);
    wb_tensor *box_t = h->ltrb ? wb_tensor_new(ctx, 2, box_rows) : wb_tensor_new(ctx, 4, bi.shape);
    wb_tensor *box_w = h->ltrb ? wb_tensor_new(ctx, 1, &cells) : wb_tensor_new(ctx, 4, bi.shape);
    wb_tensor *off_t = h->ltrb ? NULL : wb_tensor_new(ctx, 4, bi.shape);
    wb_tensor *off_w = h->ltrb ? NULL : wb_tensor_new(ctx, 4, bi.shape);
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    cn_targets t = {wb_map(ctx, heat_t), wb_map(ctx, box_t), wb_map(ctx, box_w),
                    off_t ? wb_map(ctx, off_t) : NULL, off_w ? wb_map(ctx, off_w) : NULL, 0};
    if (h->ltrb) /* rows without an object get a unit box: finite GIoU under a zero weight */
        for (int64_t r = 0; r < cells; r++) t.box_target[4 * r + 2] = t.box_target[4 * r + 3] = 1.0f;
    cn_build_targets(h, truth, fh, fw, &t);
    /* Positives where the heatmap is exactly 1; negatives weighted (1 - y)^4 elsewhere. */
    wb_tensor *pos = wb_tensor_new(ctx, 4, hi.shape), *neg_w = wb_tensor_new(ctx, 4, hi.shape);
    float *pp = wb_map(ctx, pos), *nw = wb_map(ctx, neg_w);
    if (!pp || !nw) return wb_ok(ctx);
    int64_t num_pos = 0;
    for (int64_t i = 0; i < (int64_t)wb_info(ctx, pos).numel; i++) {
        float y = t.heatmap[i], q = 1.0f - y;
        pp[i] = y == 1.0f;
        nw[i] = y == 1.0f ? 0.0f : q * q * q * q;
        num_pos += y == 1.0f;
    }
    wb_unmap(ctx, pos), wb_unmap(ctx, neg_w), wb_unmap(ctx, heat_t), wb_unmap(ctx, box_t), wb_unmap(ctx, box_w);
    if (off_t) wb_unmap(ctx, off_t), wb_unmap(ctx, off_w);
    /* The heatmap term is normalised by its peaks (objects sharing a class and a cell share one), the box
     * terms by the objects. */
    float num = t.num_objects > 0 ? (float)t.num_objects : 1.0f, peaks = num_pos > 0 ? (float)num_pos : 1.0f;
    wb_tensor *lh = focal_heatmap_loss(ctx, preds[0], pos, neg_w);
    terms[0] = (wb_loss_term){"loss_heatmap", wb_scale(ctx, lh, h->w_heatmap / peaks)};
    if (h->ltrb) {
        wb_tensor *boxes = decode_ltrb(h, ctx, preds[1]);
        wb_tensor *lg = wb_iou_loss(ctx, boxes, box_t, box_w, WB_GIOU, 1e-6f, WB_REDUCE_SUM);
        terms[1] = (wb_loss_term){"loss_giou", wb_scale(ctx, lg, h->w_giou / num)};
        *n_terms = 2;
    } else {
        /* RegL1Loss divides by the mask's sum: two channels per object. */
        wb_tensor *lw = wb_l1_loss(ctx, preds[1], box_t, box_w, WB_REDUCE_SUM);
        wb_tensor *lo = wb_l1_loss(ctx, preds[2], off_t, off_w, WB_REDUCE_SUM);
        terms[1] = (wb_loss_term){"loss_wh", wb_scale(ctx, lw, h->w_wh / (2 * num))};
        terms[2] = (wb_loss_term){"loss_offset", wb_scale(ctx, lo, h->w_offset / (2 * num))};
        *n_terms = 3;
    }
    return wb_ok(ctx);
}
