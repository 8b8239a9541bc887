/* Proposals, as mmdetection 2.x's RPNHead._get_bboxes_single and
 * torchvision's RegionProposalNetwork.filter_proposals compute them: per
 * level the nms_pre anchors of highest objectness, decoded and clipped to
 * the image, empty and small boxes dropped, NMS per level, the best
 * max_per_img of all levels by objectness probability. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "rpn_head.h"

typedef struct scored {
    float logit;
    int64_t index; /* anchor row within its level */
} scored;

/* x ranks before y: the higher logit (NaN highest, as torch.topk has it),
 * then the lower anchor row. A total order: rows are unique. */
static bool ranks_before(const scored *x, const scored *y) {
    bool x_nan = isnan(x->logit), y_nan = isnan(y->logit);
    if (x_nan != y_nan) return x_nan;
    if (!x_nan && x->logit != y->logit) return x->logit > y->logit;
    return x->index < y->index;
}

static int by_rank(const void *a, const void *b) {
    const scored *x = a, *y = b;
    return ranks_before(x, y) ? -1 : ranks_before(y, x);
}

/* The k best of v[0, n) into v[0, k), sorted: a quickselect (Hoare
 * partitions around middle pivots) puts them there in any order, and only
 * they are sorted; P2's 49152 anchors per image were a full sort for
 * nms_pre 1000. A selection that keeps missing its target (more rounds
 * than a balanced one needs, twice over) sorts everything instead, so no
 * order of logits makes it quadratic. */
static void best_k(scored *v, int64_t n, int64_t k) {
    int64_t lo = 0, hi = n - 1, rounds = 0, budget = 4;
    for (int64_t m = n; m > 1; m >>= 1) budget += 2;
    while (k < n && lo < hi && rounds++ < budget) {
        scored pivot = v[lo + (hi - lo) / 2];
        int64_t i = lo, j = hi;
        while (i <= j) {
            while (ranks_before(&v[i], &pivot)) i++;
            while (ranks_before(&pivot, &v[j])) j--;
            if (i <= j) {
                scored t = v[i];
                v[i++] = v[j];
                v[j--] = t;
            }
        }
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else break;
    }
    qsort(v, (size_t)(rounds > budget ? n : (k < n ? k : n)), sizeof *v, by_rank);
}

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

typedef struct level_maps {
    const float *cls[TS_MAX_LEVELS], *reg[TS_MAX_LEVELS];
    int hw[TS_MAX_LEVELS][2];
} level_maps;

/* The candidates of image n: boxes, probabilities and levels of the best
 * nms_pre anchors of each level that pass the size filter; returns the count. */
static int candidates(const rpn_head *h, const wb_host_api *host, const level_maps *m, int n, const wb_gt_image *img,
                      int nms_pre, float *boxes, float *probs, int *levels, scored *scratch) {
    const int A = h->anchors.n_base;
    int count = 0;
    for (int l = 0; l < h->n_levels; l++) {
        const int64_t plane = (int64_t)m->hw[l][0] * m->hw[l][1], cells = plane * A;
        const float *cls = m->cls[l] + (size_t)n * (size_t)cells, *reg = m->reg[l] + (size_t)n * 4 * (size_t)cells;
        for (int64_t r = 0; r < cells; r++) /* anchor row (y*W + x)*A + a is channel a at cell r / A */
            scratch[r] = (scored){cls[(size_t)(r % A) * (size_t)plane + (size_t)(r / A)], r};
        int64_t k = cells < nms_pre ? cells : nms_pre;
        best_k(scratch, cells, k);
        for (int64_t i = 0; i < k; i++) {
            int64_t r = scratch[i].index, c = r / A, a = r % A;
            float d[4], *box = boxes + 4 * count;
            for (int j = 0; j < 4; j++) d[j] = reg[(size_t)(a * 4 + j) * (size_t)plane + (size_t)c];
            const float *anchor = h->anchors.all + 4 * (h->anchors.level_start[l] + r);
            ts_decode(host, anchor, d, h->means, h->stds, h->torchvision_decode, img->img_h, img->img_w, box);
            float bw = box[2] - box[0], bh = box[3] - box[1];
            if (!(bw > 0.0f && bh > 0.0f && bw >= h->min_size && bh >= h->min_size)) continue;
            probs[count] = 1.0f / (1.0f + expf(-scratch[i].logit));
            levels[count++] = l;
        }
    }
    return count;
}

/* Kept proposals into det, mapped to original pixels (original = (input -
 * offset) / scale, clipped); label 0. */
static wb_status write_proposals(const float *boxes, const float *probs, const int *keep, int kept,
                                 const wb_gt_image *img, wb_detections *det) {
    size_t k = (size_t)(kept ? kept : 1);
    det->boxes = malloc(k * 4 * sizeof(float));
    det->scores = malloc(k * sizeof(float));
    det->labels = calloc(k, sizeof(int));
    if (!det->boxes || !det->scores || !det->labels) return WB_ERR_NOMEM;
    float sx = img->scale_x > 0 ? img->scale_x : 1.0f, sy = img->scale_y > 0 ? img->scale_y : 1.0f;
    for (int i = 0; i < kept; i++) {
        const float *b = boxes + 4 * keep[i];
        det->boxes[4 * i + 0] = clampf((b[0] - img->offset_x) / sx, 0, (float)img->ori_w);
        det->boxes[4 * i + 1] = clampf((b[1] - img->offset_y) / sy, 0, (float)img->ori_h);
        det->boxes[4 * i + 2] = clampf((b[2] - img->offset_x) / sx, 0, (float)img->ori_w);
        det->boxes[4 * i + 3] = clampf((b[3] - img->offset_y) / sy, 0, (float)img->ori_h);
        det->scores[i] = probs[keep[i]];
    }
    det->num = kept;
    return WB_OK;
}

wb_status rpn_predict(rpn_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                      wb_detections *dets) {
    const int L = h->n_levels;
    if (n_preds != 2 * L)
        return wb_error(ctx, WB_ERR_INVALID, "rpn_head: predict got %d predictions, expected %d", n_preds, 2 * L);
    const rpn_proposal_cfg *cfg = wb_is_training(ctx) ? &h->train : &h->test;
    level_maps m;
    int64_t max_cells = 0, max_cand = 0;
    for (int l = 0; l < L; l++) {
        wb_tensor_info i = wb_info(ctx, preds[l]);
        m.hw[l][0] = (int)i.shape[2];
        m.hw[l][1] = (int)i.shape[3];
        m.cls[l] = wb_map(ctx, preds[l]);
        m.reg[l] = wb_map(ctx, preds[L + l]);
        int64_t cells = i.shape[2] * i.shape[3] * h->anchors.n_base;
        max_cells = cells > max_cells ? cells : max_cells;
        max_cand += cells < cfg->nms_pre ? cells : cfg->nms_pre;
    }
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    if (!ts_anchors_grid(&h->anchors, (const int(*)[2])m.hw, meta->pad_h, meta->pad_w))
        return wb_error(ctx, WB_ERR_NOMEM, "rpn_head: out of memory for anchors");
    size_t nc = (size_t)(max_cand > 0 ? max_cand : 1);
    scored *scratch = malloc((size_t)(max_cells > 0 ? max_cells : 1) * sizeof *scratch);
    float *boxes = malloc(nc * 4 * sizeof(float)), *probs = malloc(nc * sizeof(float));
    int *levels = malloc(nc * sizeof(int)), *keep = malloc(nc * sizeof(int));
    wb_status st = scratch && boxes && probs && levels && keep ? WB_OK : WB_ERR_NOMEM;
    for (int n = 0; n < meta->batch && st == WB_OK; n++) {
        int count = candidates(h, WB_H(ctx), &m, n, &meta->images[n], cfg->nms_pre, boxes, probs, levels, scratch);
        int kept = WB_H(ctx)->nms(boxes, probs, levels, count, h->nms_iou, keep);
        st = write_proposals(boxes, probs, keep, kept < cfg->max_per_img ? kept : cfg->max_per_img, &meta->images[n],
                             &dets[n]);
    }
    free(scratch), free(boxes), free(probs), free(levels), free(keep);
    if (st != WB_OK) {
        for (int n = 0; n < meta->batch; n++) {
            free(dets[n].boxes), free(dets[n].scores), free(dets[n].labels);
            memset(&dets[n], 0, sizeof dets[n]);
            dets[n].struct_size = sizeof dets[n];
        }
        return wb_error(ctx, st, "rpn_head: out of memory computing proposals");
    }
    return WB_OK;
}
