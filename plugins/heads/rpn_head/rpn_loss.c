/* RPN training loss: objectness of every anchor flattened to [N * T, 1]
 * and deltas to [N * T, 4] (rows level, y, x, anchor), targets assigned and
 * sampled per image on the host, both losses divided by the anchors sampled
 * in the whole batch (mmdetection's avg_factor, torchvision's mean over the
 * sampled indices). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rpn_head.h"

/* [N, A*C, H, W] per level -> [N * T, C]. */
static wb_tensor *flatten_levels(wb_ctx *ctx, wb_tensor *const *maps, int n_levels, int per_anchor) {
    static const int to_nhwc[4] = {0, 2, 3, 1};
    wb_tensor *flat[TS_MAX_LEVELS] = {0};
    for (int l = 0; l < n_levels; l++) {
        wb_tensor_info i = wb_info(ctx, maps[l]);
        int64_t shape[3] = {i.shape[0], -1, per_anchor};
        wb_tensor *nhwc = wb_permute(ctx, maps[l], to_nhwc);
        flat[l] = wb_reshape(ctx, nhwc, 3, shape);
        wb_release(ctx, nhwc);
    }
    wb_tensor *all = n_levels == 1 ? flat[0] : wb_concat(ctx, flat, n_levels, 1);
    if (n_levels > 1)
        for (int l = 0; l < n_levels; l++) wb_release(ctx, flat[l]);
    int64_t rows[2] = {-1, per_anchor};
    wb_tensor *out = wb_reshape(ctx, all, 2, rows);
    wb_release(ctx, all);
    return out;
}

/* Assigns and samples the anchors of one image; writes its rows of the
 * targets with weight 1 where they apply. Returns the sampled count or -1. */
static int64_t image_targets(rpn_head *h, wb_ctx *ctx, const float *anchors, int64_t T, const wb_gt_image *img,
                             float *cls, float *cls_w, float *reg, float *reg_w) {
    int nb = img->num_boxes;
    float *gt = malloc(((size_t)nb + 1) * 4 * sizeof(float));
    int *labels = malloc(((size_t)nb + 1) * sizeof(int)), *state = malloc((size_t)T * sizeof(int));
    float *iou = malloc(((size_t)nb + 1) * (size_t)T * sizeof(float));
    int64_t sampled = -1;
    char err[256];
    int G = 0;
    if (!gt || !labels || !state || !iou) {
        wb_error(ctx, WB_ERR_NOMEM, "rpn_head: out of memory assigning %lld anchors", (long long)T);
        goto done;
    }
    /* Objectness is class-agnostic: any label is fine. */
    if ((G = ts_gt_boxes(img, 1 << 30, gt, labels, err, sizeof err)) < 0) {
        wb_error(ctx, WB_ERR_INVALID, "rpn_head: %s", err);
        goto done;
    }
    ts_assign(WB_H(ctx), &h->assigner, anchors, T, gt, G, img, iou, state, NULL);
    sampled = ts_sample(ctx, state, T, h->sampler_num, h->pos_fraction);
    for (int64_t t = 0; t < T && sampled >= 0; t++) {
        if (state[t] < 0) continue;
        cls_w[t] = 1.0f;
        if (state[t] == 0) continue;
        cls[t] = 1.0f;
        WB_H(ctx)->box_encode(anchors + 4 * t, gt + 4 * (state[t] - 1), 1, h->means, h->stds, reg + 4 * t);
        for (int k = 0; k < 4; k++) reg_w[4 * t + k] = 1.0f;
    }
done:
    free(gt), free(labels), free(state), free(iou);
    return sampled;
}

static wb_tensor *run_loss(wb_ctx *ctx, wb_submodule *m, int64_t mean_count, wb_tensor *pred, wb_tensor *target,
                           wb_tensor *weight) {
    wb_tensor *in[3] = {pred, target, weight}, *out = NULL;
    if (WB_H(ctx)->submodule_forward(ctx, m, in, 3, &out, 1) != WB_OK) return NULL;
    return mean_count > 0 ? wb_scale(ctx, out, (float)mean_count) : out;
}

wb_status rpn_loss(rpn_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                   wb_loss_term *terms, int *n_terms) {
    const int L = h->n_levels;
    if (n_preds != 2 * L)
        return wb_error(ctx, WB_ERR_INVALID, "rpn_head: loss got %d predictions, expected %d", n_preds, 2 * L);
    int hw[TS_MAX_LEVELS][2];
    for (int l = 0; l < L; l++) {
        wb_tensor_info i = wb_info(ctx, preds[l]);
        if (i.ndim != 4 || i.shape[0] != truth->batch)
            return wb_error(ctx, WB_ERR_INVALID, "rpn_head: level %d predictions are not [%d, A, H, W]", l,
                            truth->batch);
        hw[l][0] = (int)i.shape[2];
        hw[l][1] = (int)i.shape[3];
    }
    const float *anchors = ts_anchors_grid(&h->anchors, (const int(*)[2])hw, truth->pad_h, truth->pad_w);
    if (!anchors) return wb_error(ctx, WB_ERR_NOMEM, "rpn_head: out of memory for anchors");
    const int64_t T = h->anchors.n;
    wb_tensor *cls = flatten_levels(ctx, preds, L, 1), *reg = flatten_levels(ctx, preds + L, L, 4);
    int64_t cs[2] = {(int64_t)truth->batch * T, 1}, rs[2] = {(int64_t)truth->batch * T, 4};
    wb_tensor *t[4] = {wb_tensor_new(ctx, 2, cs), wb_tensor_new(ctx, 2, cs), wb_tensor_new(ctx, 2, rs),
                       wb_tensor_new(ctx, 2, rs)};
    float *v[4];
    for (int i = 0; i < 4; i++) v[i] = wb_map(ctx, t[i]);
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    int64_t total = 0;
    for (int n = 0; n < truth->batch; n++) {
        size_t row = (size_t)n * (size_t)T;
        int64_t s = image_targets(h, ctx, anchors, T, &truth->images[n], v[0] + row, v[1] + row, v[2] + 4 * row,
                                  v[3] + 4 * row);
        if (s < 0) return wb_ok(ctx);
        total += s;
    }
    /* The weights carry 1 / avg_factor so that a summing loss comes out normalised. */
    float norm = 1.0f / (float)(total > 0 ? total : 1);
    for (int64_t i = 0; i < cs[0]; i++) v[1][i] *= norm;
    for (int64_t i = 0; i < rs[0] * 4; i++) v[3][i] *= norm;
    for (int i = 0; i < 4; i++) wb_unmap(ctx, t[i]);
    terms[0] = (wb_loss_term){"loss_rpn_cls", run_loss(ctx, h->loss_cls, h->cls_mean ? cs[0] : 0, cls, t[0], t[1])};
    terms[1] = (wb_loss_term){"loss_rpn_bbox", run_loss(ctx, h->loss_bbox, h->bbox_mean ? rs[0] * 4 : 0, reg, t[2], t[3])};
    *n_terms = 2;
    return wb_ok(ctx);
}
