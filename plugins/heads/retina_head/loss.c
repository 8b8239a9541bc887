/* Training loss: predictions of every level flattened to [N * T, K] and
 * [N * T, 4] (T anchors per image, torchvision's order), targets assigned on
 * the host, and the configured losses summed with weights that already carry
 * the normalisation by the number of positives (mmdetection's avg_factor).
 * With reg_decoded_bbox, loss_bbox gets the decoded boxes and the gt boxes
 * instead of deltas (mmdetection's AnchorHead). */
#include <stdio.h>
#include <string.h>
#include "retina_head.h"

/* [N, A*C, H, W] per level -> [N * T, C], rows (level, y, x, anchor). */
static wb_tensor *flatten_levels(wb_ctx *ctx, wb_tensor *const *maps, int n_levels, int per_anchor) {
    static const int to_nhwc[4] = {0, 2, 3, 1};
    wb_tensor *flat[RETINA_MAX_LEVELS] = {0};
    for (int l = 0; l < n_levels; l++) {
        wb_tensor_info i = wb_info(ctx, maps[l]);
        int64_t shape[3] = {i.shape[0], -1, per_anchor};
        wb_tensor *nhwc = wb_permute(ctx, maps[l], to_nhwc);
        flat[l] = wb_reshape(ctx, nhwc, 3, shape);
        wb_release(ctx, nhwc); /* the view holds the data now */
    }
    wb_tensor *all = n_levels == 1 ? flat[0] : wb_concat(ctx, flat, n_levels, 1);
    if (n_levels > 1)
        for (int l = 0; l < n_levels; l++) wb_release(ctx, flat[l]); /* copied into all */
    int64_t rows[2] = {-1, per_anchor};
    wb_tensor *out = wb_reshape(ctx, all, 2, rows);
    wb_release(ctx, all);
    return out;
}

static void scale_rows(float *w, int64_t rows, int width, float s) {
    for (int64_t i = 0; i < rows * width; i++) w[i] *= s;
}

/* Fills the four target tensors: targets and normalised weights. */
static wb_status build_targets(retina_head *h, wb_ctx *ctx, const float *anchors, const wb_batch_truth *truth,
                               wb_tensor *const *t) {
    const int K = h->num_classes;
    const int64_t T = h->n_anchors;
    float *cls = wb_map(ctx, t[0]), *cls_w = wb_map(ctx, t[1]), *reg = wb_map(ctx, t[2]), *reg_w = wb_map(ctx, t[3]);
    if (!cls || !cls_w || !reg || !reg_w) return wb_ok(ctx);
    int pos[256], total = 0;
    if (truth->batch > 256) return wb_error(ctx, WB_ERR_INVALID, "retina_head: batch %d above 256", truth->batch);
    for (int n = 0; n < truth->batch; n++) {
        char err[256];
        size_t row = (size_t)n * (size_t)T;
        pos[n] = retina_assign(h, WB_H(ctx), anchors, T, &truth->images[n], cls + row * K, cls_w + row * K,
                               reg + row * 4, reg_w + row * 4, err, sizeof err);
        if (pos[n] < 0) return wb_error(ctx, WB_ERR_INVALID, "%s", err);
        total += pos[n];
    }
    /* The weights carry 1 / avg_factor so that a summing loss comes out normalised. */
    for (int n = 0; n < truth->batch; n++) {
        float s = h->normalize_per_image ? 1.0f / ((float)truth->batch * (float)(pos[n] > 0 ? pos[n] : 1))
                                         : 1.0f / (float)(total > 0 ? total : 1);
        size_t row = (size_t)n * (size_t)T;
        scale_rows(cls_w + row * K, T, K, s);
        scale_rows(reg_w + row * 4, T, 4, s);
    }
    for (int i = 0; i < 4; i++) wb_unmap(ctx, t[i]);
    return wb_ok(ctx);
}

/* mean_count: the loss's number of elements when it reduces by "mean" (the
 * head undoes the 1/count), 0 when it sums. */
static wb_tensor *run_loss(wb_ctx *ctx, wb_submodule *m, int64_t mean_count, wb_tensor *pred, wb_tensor *target,
                           wb_tensor *weight) {
    wb_tensor *in[3] = {pred, target, weight}, *out = NULL;
    if (WB_H(ctx)->submodule_forward(ctx, m, in, 3, &out, 1) != WB_OK) return NULL;
    return mean_count > 0 ? wb_scale(ctx, out, (float)mean_count) : out;
}

/* reg_decoded_bbox: the predicted boxes, decoded on the anchors of every image. */
static wb_tensor *decoded_boxes(retina_head *h, wb_ctx *ctx, wb_tensor *reg, int batch) {
    int64_t shape[2] = {(int64_t)batch * h->n_anchors, 4};
    wb_tensor *anchors = wb_tensor_new(ctx, 2, shape);
    float *a = wb_map(ctx, anchors);
    if (!a) return NULL;
    for (int n = 0; n < batch; n++)
        memcpy(a + (size_t)n * (size_t)h->n_anchors * 4, h->anchors, (size_t)h->n_anchors * 4 * sizeof(float));
    wb_unmap(ctx, anchors);
    return retina_decode_boxes(h, ctx, reg, anchors);
}

wb_status retina_loss(retina_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                      const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms) {
    const int L = h->n_levels;
    if (n_preds != 2 * L)
        return wb_error(ctx, WB_ERR_INVALID, "retina_head: loss got %d predictions, expected %d", n_preds, 2 * L);
    int hw[RETINA_MAX_LEVELS][2];
    for (int l = 0; l < L; l++) {
        wb_tensor_info i = wb_info(ctx, preds[l]);
        if (i.ndim != 4 || i.shape[0] != truth->batch)
            return wb_error(ctx, WB_ERR_INVALID, "retina_head: level %d predictions are not [%d, C, H, W]", l,
                            truth->batch);
        hw[l][0] = (int)i.shape[2];
        hw[l][1] = (int)i.shape[3];
    }
    const float *anchors = retina_anchors(h, (const int(*)[2])hw, truth->pad_h, truth->pad_w);
    if (!anchors) return wb_error(ctx, WB_ERR_NOMEM, "retina_head: out of memory for anchors");
    wb_tensor *cls = flatten_levels(ctx, preds, L, h->num_classes);
    wb_tensor *reg = flatten_levels(ctx, preds + L, L, 4);
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    wb_tensor_info ci = wb_info(ctx, cls), ri = wb_info(ctx, reg);
    wb_tensor *t[4] = {wb_tensor_new(ctx, 2, ci.shape), wb_tensor_new(ctx, 2, ci.shape), wb_tensor_new(ctx, 2, ri.shape),
                       wb_tensor_new(ctx, 2, ri.shape)};
    if (wb_ok(ctx) != WB_OK || build_targets(h, ctx, anchors, truth, t) != WB_OK) return wb_ok(ctx);
    int64_t cls_count = h->cls_mean ? ci.numel : 0;
    int64_t bbox_count = h->bbox_mean ? ri.shape[0] * h->bbox_elems_per_anchor : 0;
    wb_tensor *box_pred = h->reg_decoded_bbox ? decoded_boxes(h, ctx, reg, truth->batch) : reg;
    terms[0] = (wb_loss_term){"loss_cls", run_loss(ctx, h->loss_cls, cls_count, cls, t[0], t[1])};
    terms[1] = (wb_loss_term){"loss_bbox", run_loss(ctx, h->loss_bbox, bbox_count, box_pred, t[2], t[3])};
    *n_terms = 2;
    return wb_ok(ctx);
}
