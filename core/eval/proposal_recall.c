/* mmdetection's eval_recalls (see proposal_recall.h). The IoUs are float32
 * with numpy's order of operations, so that a proposal exactly at a
 * threshold counts as it does there; no multiply-add may be fused. */
#pragma GCC optimize("fp-contract=off")

#include "proposal_recall.h"

#include <stdlib.h>
#include <string.h>

const int wb_recall_default_nums[3] = {100, 300, 1000};

typedef struct gt_box {
    int image;
    float box[4];
} gt_box;

typedef struct proposal {
    int image;
    double score;
    size_t index; /* position in the detections: equal scores keep it */
    float box[4];
} proposal;

static int by_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int by_image(const void *a, const void *b) {
    const gt_box *x = a, *y = b;
    return (x->image > y->image) - (x->image < y->image);
}

static int by_image_then_score(const void *a, const void *b) {
    const proposal *x = a, *y = b;
    if (x->image != y->image) return x->image < y->image ? -1 : 1;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* np.linspace(0.5, 0.95, 10): i * step + start, the last one stop itself. */
static void linspace_thresholds(double *t) {
    const double step = (0.95 - 0.5) / (WB_RECALL_NUM_IOUS - 1);
    for (int i = 0; i < WB_RECALL_NUM_IOUS; i++) t[i] = (double)i * step + 0.5;
    t[WB_RECALL_NUM_IOUS - 1] = 0.95;
}

static float maxf(float a, float b) { return a > b ? a : b; }
static float minf(float a, float b) { return a < b ? a : b; }
static float area(const float *b) { return (b[2] - b[0]) * (b[3] - b[1]); }

/* mmdetection's bbox_overlaps (mode iou, eps 1e-6, no +1) of G gt boxes
 * against P proposals: iou[g * P + p]. */
static void overlaps(const gt_box *g, int G, const proposal *p, int P, float *iou) {
    for (int i = 0; i < G; i++) {
        const float *a = g[i].box, area_a = area(a);
        for (int j = 0; j < P; j++) {
            const float *b = p[j].box;
            float w = maxf(minf(a[2], b[2]) - maxf(a[0], b[0]), 0.0f);
            float h = maxf(minf(a[3], b[3]) - maxf(a[1], b[1]), 0.0f);
            float overlap = w * h, uni = area_a + area(b) - overlap;
            iou[(size_t)i * (size_t)P + (size_t)j] = overlap / maxf(uni, 1e-6f);
        }
    }
}

/* numpy's argmax of row g of an n-column matrix: the first largest entry. */
static int row_argmax(const float *m, int n, int g) {
    const float *r = m + (size_t)g * (size_t)n;
    int best = 0;
    for (int j = 1; j < n; j++)
        if (r[j] > r[best]) best = j;
    return best;
}

/* mmdetection's greedy matching of G gt rows to n proposal columns of m
 * (destroyed): counts[t] += gt boxes whose matched IoU >= thrs[t]. best is
 * scratch for each row's argmax, which only changes for the rows whose
 * argmax column was taken (the others' first maximum stays first). */
static void match(float *m, int G, int n, int *best, const double *thrs, int64_t *counts) {
    for (int g = 0; g < G; g++) best[g] = row_argmax(m, n, g);
    for (int step = 0; step < G; step++) {
        int gi = 0;
        for (int g = 1; g < G; g++)
            if (m[(size_t)g * n + best[g]] > m[(size_t)gi * n + best[gi]]) gi = g;
        const int bi = best[gi];
        const float v = m[(size_t)gi * n + bi];
        for (int t = 0; t < WB_RECALL_NUM_IOUS; t++) counts[t] += (double)v >= thrs[t];
        for (int j = 0; j < n; j++) m[(size_t)gi * n + j] = -1.0f;
        for (int g = 0; g < G; g++) m[(size_t)g * n + bi] = -1.0f;
        for (int g = 0; g < G; g++)
            if (best[g] == bi) best[g] = row_argmax(m, n, g);
    }
}

/* Each image's position in the sorted ids; -1 when absent. */
static int image_of(const int64_t *ids, int n, int64_t id) {
    const int64_t *at = bsearch(&id, ids, (size_t)n, sizeof *ids, by_id);
    return at ? (int)(at - ids) : -1;
}

wb_status wb_proposal_recall_eval(const wb_coco_gt *gt, const wb_coco_detection *dets, size_t n_dets,
                                  const int *nums, int n_nums, wb_proposal_recall *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    if (n_nums < 1 || n_nums > WB_RECALL_MAX_NUMS) {
        snprintf(err, err_size, "proposal recall: %d proposal counts (1..%d)", n_nums, WB_RECALL_MAX_NUMS);
        return WB_ERR_INVALID;
    }
    for (int k = 0; k < n_nums; k++)
        if (nums[k] < 1 || (k > 0 && nums[k] <= nums[k - 1])) {
            snprintf(err, err_size, "proposal recall: proposal counts must be positive and ascending");
            return WB_ERR_INVALID;
        }
    out->n_nums = n_nums;
    memcpy(out->nums, nums, (size_t)n_nums * sizeof *nums);
    linspace_thresholds(out->iou_thrs);
    out->n_proposals = (int64_t)n_dets;
    const int n_img = gt->n_images, max_num = nums[n_nums - 1];
    int64_t *ids = malloc(((size_t)n_img + 1) * sizeof *ids);
    gt_box *g = malloc(((size_t)gt->n_annotations + 1) * sizeof *g);
    proposal *p = malloc((n_dets + 1) * sizeof *p);
    int *g_start = calloc((size_t)n_img + 1, sizeof *g_start), *best = NULL;
    size_t *p_start = calloc((size_t)n_img + 1, sizeof *p_start);
    float *iou = NULL, *work = NULL;
    wb_status st = ids && g && p && g_start && p_start ? WB_OK : WB_ERR_NOMEM;
    int n_g = 0;
    if (st == WB_OK) {
        memcpy(ids, gt->image_ids, (size_t)n_img * sizeof *ids);
        qsort(ids, (size_t)n_img, sizeof *ids, by_id);
        for (int i = 0; i < gt->n_annotations; i++) {
            const wb_coco_annotation *a = &gt->annotations[i];
            int img = image_of(ids, n_img, a->image_id);
            if (a->iscrowd || img < 0) continue; /* ignore regions are neither found nor missed */
            g[n_g] = (gt_box){img, {(float)a->bbox[0], (float)a->bbox[1], (float)(a->bbox[0] + a->bbox[2]),
                                    (float)(a->bbox[1] + a->bbox[3])}};
            g_start[img + 1]++, n_g++;
        }
        qsort(g, (size_t)n_g, sizeof *g, by_image);
        for (size_t i = 0; i < n_dets && st == WB_OK; i++) {
            const wb_coco_detection *d = &dets[i];
            int img = image_of(ids, n_img, d->image_id);
            if (img < 0) {
                snprintf(err, err_size, "proposal recall: a proposal is on image %lld, which the ground truth does "
                         "not have", (long long)d->image_id);
                st = WB_ERR_INVALID;
                break;
            }
            p[i] = (proposal){img, d->score, i, {(float)d->x, (float)d->y, (float)(d->x + d->w), (float)(d->y + d->h)}};
            p_start[img + 1]++;
        }
        qsort(p, n_dets, sizeof *p, by_image_then_score);
    }
    int max_g = 0;
    for (int i = 0; i < n_img && st == WB_OK; i++) {
        max_g = g_start[i + 1] > max_g ? g_start[i + 1] : max_g;
        g_start[i + 1] += g_start[i], p_start[i + 1] += p_start[i];
    }
    if (st == WB_OK) {
        size_t cells = ((size_t)max_g + 1) * (size_t)max_num;
        iou = malloc(cells * sizeof *iou), work = malloc(cells * sizeof *work);
        best = malloc(((size_t)max_g + 1) * sizeof *best);
        if (!iou || !work || !best) st = WB_ERR_NOMEM;
    }
    int64_t counts[WB_RECALL_MAX_NUMS][WB_RECALL_NUM_IOUS] = {{0}};
    for (int i = 0; i < n_img && st == WB_OK; i++) {
        const int G = g_start[i + 1] - g_start[i];
        size_t have = p_start[i + 1] - p_start[i];
        const int P = have < (size_t)max_num ? (int)have : max_num;
        if (G == 0 || P == 0) continue; /* no gt: nothing to find; no proposal: every gt box missed */
        overlaps(g + g_start[i], G, p + p_start[i], P, iou);
        for (int k = 0; k < n_nums; k++) {
            const int n = P < nums[k] ? P : nums[k];
            for (int r = 0; r < G; r++)
                memcpy(work + (size_t)r * n, iou + (size_t)r * P, (size_t)n * sizeof *work);
            match(work, G, n, best, out->iou_thrs, counts[k]);
        }
    }
    if (st == WB_OK) {
        out->n_gt = n_g;
        for (int k = 0; k < n_nums; k++) {
            double sum = 0;
            for (int t = 0; t < WB_RECALL_NUM_IOUS; t++) {
                out->recall[k][t] = n_g > 0 ? (double)counts[k][t] / (double)n_g : 0.0;
                sum += out->recall[k][t];
            }
            out->ar[k] = sum / WB_RECALL_NUM_IOUS;
        }
    } else if (st == WB_ERR_NOMEM) {
        snprintf(err, err_size, "out of memory for proposal recall (%zu proposals)", n_dets);
    }
    free(ids), free(g), free(p), free(g_start), free(p_start), free(iou), free(work), free(best);
    return st;
}

void wb_proposal_recall_print(FILE *f, const wb_proposal_recall *r) {
    fprintf(f, "Proposal recall (mmdetection's eval_recalls: %lld gt boxes without crowd/difficult, %lld "
               "proposals)\n%6s", (long long)r->n_gt, (long long)r->n_proposals, "");
    for (int t = 0; t < WB_RECALL_NUM_IOUS; t++) fprintf(f, " %5.2f", r->iou_thrs[t]);
    fputc('\n', f);
    for (int k = 0; k < r->n_nums; k++) {
        fprintf(f, "%6d", r->nums[k]);
        for (int t = 0; t < WB_RECALL_NUM_IOUS; t++) fprintf(f, " %5.3f", r->recall[k][t]);
        fputc('\n', f);
    }
    for (int k = 0; k < r->n_nums; k++) fprintf(f, "%sAR@%d: %.4f", k ? ", " : "", r->nums[k], r->ar[k]);
    fputc('\n', f);
}
