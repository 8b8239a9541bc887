/* Training loss: the predictions of every level flattened to [N * T, C]
 * (T points per image, level by level), targets assigned on the host, and
 * three terms normalised by the batch's positives as torchvision's
 * FCOSHead.compute_loss (and mmdetection's FCOSHead.loss):
 *   loss_cls         sigmoid focal loss over every point and class
 *   loss_bbox        GIoU of the positives' decoded boxes and their gt boxes
 *                    (mmdetection: weighted by the centerness targets, / their sum)
 *   loss_centerness  BCE of the positives' centerness logits and targets */
#include <stdlib.h>
#include <string.h>
#include "fcos_head.h"

#define GIOU_EPS 1e-7f /* torchvision's generalized_box_iou_loss */

/* [N, C, H, W] per level -> [N * T, C], rows (image, level, y, x). */
static wb_tensor *flatten_levels(wb_ctx *ctx, wb_tensor *const *maps, int n_levels, int channels) {
    static const int to_nhwc[4] = {0, 2, 3, 1};
    wb_tensor *flat[FCOS_MAX_LEVELS] = {0};
    for (int l = 0; l < n_levels; l++) {
        wb_tensor_info i = wb_info(ctx, maps[l]);
        int64_t shape[3] = {i.shape[0], -1, channels};
        wb_tensor *nhwc = wb_permute(ctx, maps[l], to_nhwc);
        flat[l] = wb_reshape(ctx, nhwc, 3, shape);
        wb_release(ctx, nhwc);
    }
    wb_tensor *all = n_levels == 1 ? flat[0] : wb_concat(ctx, flat, n_levels, 1);
    if (n_levels > 1)
        for (int l = 0; l < n_levels; l++) wb_release(ctx, flat[l]);
    int64_t rows[2] = {-1, channels};
    wb_tensor *out = wb_reshape(ctx, all, 2, rows);
    wb_release(ctx, all);
    return out;
}

/* Host-side targets of the positives, in row order. */
typedef struct positives {
    int count;
    float *index;    /* [P] rows of the flattened predictions */
    float *unit;     /* [P, 4] -unit, -unit, unit, unit: boxes = point + distances * unit */
    float *origin;   /* [P, 4] x, y, x, y */
    float *gt;       /* [P, 4] */
    float *ctr;      /* [P] centerness targets */
} positives;

static void positives_free(positives *p) {
    free(p->index), free(p->unit), free(p->origin), free(p->gt), free(p->ctr);
}

/* Assigns every image; fills the one-hot class targets and the positives. */
static wb_status build_targets(fcos_head *h, wb_ctx *ctx, const float *points, const wb_batch_truth *truth,
                               float *cls_target, positives *pos) {
    const int64_t T = h->n_points, K = h->num_classes;
    int *matched = malloc((size_t)(truth->batch * T) * sizeof(int));
    if (!matched) return wb_error(ctx, WB_ERR_NOMEM, "fcos_head: out of memory for targets");
    int64_t count = 0;
    for (int n = 0; n < truth->batch; n++) {
        fcos_assign(h, points, &truth->images[n], matched + n * T);
        for (int64_t r = 0; r < T; r++) count += matched[n * T + r] >= 0;
    }
    size_t m = (size_t)(count ? count : 1);
    pos->index = malloc(m * sizeof(float)), pos->ctr = malloc(m * sizeof(float));
    pos->unit = malloc(m * 4 * sizeof(float)), pos->origin = malloc(m * 4 * sizeof(float));
    pos->gt = malloc(m * 4 * sizeof(float));
    if (!pos->index || !pos->ctr || !pos->unit || !pos->origin || !pos->gt) {
        free(matched);
        return wb_error(ctx, WB_ERR_NOMEM, "fcos_head: out of memory for targets");
    }
    int p = 0;
    for (int n = 0; n < truth->batch; n++) {
        const wb_gt_image *img = &truth->images[n];
        for (int64_t r = 0; r < T; r++) {
            int g = matched[n * T + r];
            if (g < 0) continue;
            const float *b = img->boxes + 4 * g, x = points[2 * r], y = points[2 * r + 1];
            const float u = fcos_unit(h, fcos_level_of(h, r));
            cls_target[(n * T + r) * K + img->labels[g]] = 1.0f;
            pos->index[p] = (float)(n * T + r);
            pos->ctr[p] = fcos_centerness_target(x, y, b);
            const float unit[4] = {-u, -u, u, u}, origin[4] = {x, y, x, y};
            memcpy(pos->unit + 4 * p, unit, sizeof unit);
            memcpy(pos->origin + 4 * p, origin, sizeof origin);
            memcpy(pos->gt + 4 * p, b, 4 * sizeof(float));
            p++;
        }
    }
    pos->count = p;
    free(matched);
    return WB_OK;
}

static wb_tensor *host_tensor(wb_ctx *ctx, int64_t rows, int64_t cols, const float *data) {
    int64_t shape[2] = {rows, cols};
    return wb_tensor_from_host(ctx, cols > 0 ? 2 : 1, shape, data);
}

/* loss_bbox and loss_centerness on the positive rows (gathered with their gradient). */
static void positive_terms(fcos_head *h, wb_ctx *ctx, wb_tensor *reg, wb_tensor *ctr, const positives *pos,
                           wb_loss_term *terms) {
    const int64_t P = pos->count;
    wb_tensor *index = host_tensor(ctx, P, 0, pos->index);
    wb_tensor *dist = wb_index_select(ctx, reg, 0, index);
    wb_tensor *scaled = wb_mul(ctx, dist, host_tensor(ctx, P, 4, pos->unit));
    wb_tensor *boxes = wb_add(ctx, scaled, host_tensor(ctx, P, 4, pos->origin));
    wb_tensor *ctr_target = host_tensor(ctx, P, 0, pos->ctr);
    float norm = (float)P;
    if (h->bbox_weight_centerness) {
        double sum = 0;
        for (int64_t i = 0; i < P; i++) sum += pos->ctr[i];
        norm = sum > 1e-6 ? (float)sum : 1e-6f; /* mmdetection's centerness_denorm */
    }
    wb_tensor *giou = wb_iou_loss(ctx, boxes, host_tensor(ctx, P, 4, pos->gt),
                                  h->bbox_weight_centerness ? ctr_target : NULL, WB_GIOU, GIOU_EPS, WB_REDUCE_SUM);
    terms[1] = (wb_loss_term){"loss_bbox", wb_scale(ctx, giou, h->loss_bbox_weight / norm)};
    int64_t flat[1] = {P};
    wb_tensor *logits = wb_reshape(ctx, wb_index_select(ctx, ctr, 0, index), 1, flat);
    wb_tensor *bce = wb_bce_with_logits(ctx, logits, ctr_target, NULL, WB_REDUCE_SUM);
    terms[2] = (wb_loss_term){"loss_centerness", wb_scale(ctx, bce, h->loss_centerness_weight / (float)P)};
}

wb_status fcos_loss(fcos_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                    wb_loss_term *terms, int *n_terms) {
    const int L = h->n_levels;
    if (n_preds != 3 * L)
        return wb_error(ctx, WB_ERR_INVALID, "fcos_head: loss got %d predictions, expected %d", n_preds, 3 * L);
    int hw[FCOS_MAX_LEVELS][2];
    for (int l = 0; l < L; l++) {
        wb_tensor_info i = wb_info(ctx, preds[l]);
        if (i.ndim != 4 || i.shape[0] != truth->batch)
            return wb_error(ctx, WB_ERR_INVALID, "fcos_head: level %d predictions are not [%d, C, H, W]", l,
                            truth->batch);
        hw[l][0] = (int)i.shape[2];
        hw[l][1] = (int)i.shape[3];
    }
    const float *points = fcos_points(h, (const int(*)[2])hw, truth->pad_h, truth->pad_w);
    if (!points) return wb_error(ctx, WB_ERR_NOMEM, "fcos_head: out of memory for points");
    wb_tensor *cls = flatten_levels(ctx, preds, L, h->num_classes);
    wb_tensor *reg = flatten_levels(ctx, preds + L, L, 4);
    wb_tensor *ctr = flatten_levels(ctx, preds + 2 * L, L, 1);
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    wb_tensor *cls_target = wb_tensor_new(ctx, 2, wb_info(ctx, cls).shape);
    float *ct = wb_map(ctx, cls_target);
    if (!ct) return wb_ok(ctx);
    positives pos = {0};
    if (build_targets(h, ctx, points, truth, ct, &pos) != WB_OK) {
        positives_free(&pos);
        return wb_ok(ctx);
    }
    wb_unmap(ctx, cls_target);
    const float n_pos = (float)(pos.count > 0 ? pos.count : 1);
    wb_tensor *focal = wb_sigmoid_focal_loss(ctx, cls, cls_target, NULL, h->focal_gamma, h->focal_alpha,
                                             WB_REDUCE_SUM);
    terms[0] = (wb_loss_term){"loss_cls", wb_scale(ctx, focal, h->loss_cls_weight / n_pos)};
    if (pos.count > 0) {
        positive_terms(h, ctx, reg, ctr, &pos, terms);
    } else { /* no positive: zero terms that still reach the predictions (torchvision sums nothing) */
        terms[1] = (wb_loss_term){"loss_bbox", wb_scale(ctx, wb_sum(ctx, reg, -1, 0), 0.0f)};
        terms[2] = (wb_loss_term){"loss_centerness", wb_scale(ctx, wb_sum(ctx, ctr, -1, 0), 0.0f)};
    }
    positives_free(&pos);
    *n_terms = 3;
    return wb_ok(ctx);
}
