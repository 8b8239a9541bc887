/* COCOeval.evaluate + accumulate + summarize for bbox: groups ground truth and
 * detections by (category, image), runs coco_match on each group and
 * coco_accumulate per category, area range and maxDets, then averages. */
#include "coco_eval.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../runtime/errmsg.h"
#include "coco_accumulate.h"
#include "coco_match.h"

const char *const wb_coco_stat_names[WB_COCO_NUM_STATS] = {"AP",   "AP50", "AP75", "APs",   "APm", "APl",
                                                            "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"};

enum { T = WB_COCO_NUM_IOU, R = WB_COCO_NUM_RECALL, A = WB_COCO_NUM_AREAS, M = WB_COCO_NUM_MAXDETS };


static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Sorted, duplicates removed (np.unique, as COCOeval does to imgIds/catIds). */
static int sorted_unique(int64_t *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    int u = 0;
    for (int i = 0; i < n; i++)
        if (u == 0 || v[u - 1] != v[i]) v[u++] = v[i];
    return u;
}

static int index_of(const int64_t *sorted, int n, int64_t id) {
    const int64_t *p = bsearch(&id, sorted, (size_t)n, sizeof id, cmp_i64);
    return p ? (int)(p - sorted) : -1;
}

/* Ground truth and detections bucketed by cell = category * n_images + image,
 * each bucket in input order (pycocotools keeps file order within a cell). */
typedef struct grouping {
    int64_t *images, *categories;
    int n_images, n_categories;
    size_t *gt_start, *dt_start;   /* n_cells + 1 */
    const wb_coco_annotation **gt;
    const wb_coco_detection **dt;
    int64_t n_dt_used, n_dt_unknown_category;
} grouping;

static void grouping_free(grouping *g) {
    free(g->images);
    free(g->categories);
    free(g->gt_start);
    free(g->dt_start);
    free(g->gt);
    free(g->dt);
}

static wb_status check_detections(const wb_coco_detection *dets, size_t n, char *err, size_t err_size) {
    for (size_t i = 0; i < n; i++) {
        const wb_coco_detection *d = &dets[i];
        if (!isfinite(d->x) || !isfinite(d->y) || !isfinite(d->w) || !isfinite(d->h) || !isfinite(d->score))
            return wb_fail_msg(err, err_size, WB_ERR_NUMERIC,
                        "coco eval: detection %zu (image %" PRId64 ") has a non-finite box or score; "
                        "fix the model output or drop it before evaluation",
                        i, d->image_id);
    }
    return WB_OK;
}

static wb_status group(const wb_coco_gt *gt, const wb_coco_detection *dets, size_t n_dets, grouping *g,
                       char *err, size_t err_size) {
    *g = (grouping){0};
    g->images = malloc(((size_t)gt->n_images + 1) * sizeof *g->images);
    g->categories = malloc(((size_t)gt->n_categories + 1) * sizeof *g->categories);
    if (!g->images || !g->categories) return wb_fail_msg(err, err_size, WB_ERR_NOMEM, "coco eval: out of memory");
    for (int i = 0; i < gt->n_images; i++) g->images[i] = gt->image_ids[i];
    for (int k = 0; k < gt->n_categories; k++) g->categories[k] = gt->categories[k].id;
    g->n_images = sorted_unique(g->images, gt->n_images);
    g->n_categories = sorted_unique(g->categories, gt->n_categories);

    size_t n_cells = (size_t)g->n_images * (size_t)g->n_categories;
    int *gt_cell = malloc(((size_t)gt->n_annotations + 1) * sizeof *gt_cell);
    int *dt_cell = malloc((n_dets + 1) * sizeof *dt_cell);
    g->gt_start = calloc(n_cells + 1, sizeof *g->gt_start);
    g->dt_start = calloc(n_cells + 1, sizeof *g->dt_start);
    g->gt = malloc(((size_t)gt->n_annotations + 1) * sizeof *g->gt);
    g->dt = malloc((n_dets + 1) * sizeof *g->dt);
    wb_status st = WB_OK;
    if (!gt_cell || !dt_cell || !g->gt_start || !g->dt_start || !g->gt || !g->dt) {
        st = wb_fail_msg(err, err_size, WB_ERR_NOMEM, "coco eval: out of memory");
        goto done;
    }

    /* Annotations of images or categories outside the lists are not evaluated (as getAnnIds). */
    for (int a = 0; a < gt->n_annotations; a++) {
        int i = index_of(g->images, g->n_images, gt->annotations[a].image_id);
        int k = index_of(g->categories, g->n_categories, gt->annotations[a].category_id);
        gt_cell[a] = i < 0 || k < 0 ? -1 : k * g->n_images + i;
        if (gt_cell[a] >= 0) g->gt_start[gt_cell[a] + 1]++;
    }
    for (size_t d = 0; d < n_dets; d++) {
        int i = index_of(g->images, g->n_images, dets[d].image_id);
        if (i < 0) {
            st = wb_fail_msg(err, err_size, WB_ERR_INVALID,
                      "coco eval: detection %zu is on image id %" PRId64 ", which is not in the ground truth's "
                      "images; the results do not belong to this annotation file (pycocotools refuses them too)",
                      d, dets[d].image_id);
            goto done;
        }
        int k = index_of(g->categories, g->n_categories, dets[d].category_id);
        dt_cell[d] = k < 0 ? -1 : k * g->n_images + i;
        if (k < 0) g->n_dt_unknown_category++;
        else g->dt_start[dt_cell[d] + 1]++, g->n_dt_used++;
    }

    /* Counting sort into the buckets, stable. */
    for (size_t c = 0; c < n_cells; c++) {
        g->gt_start[c + 1] += g->gt_start[c];
        g->dt_start[c + 1] += g->dt_start[c];
    }
    size_t *gt_fill = calloc(n_cells + 1, sizeof *gt_fill);
    size_t *dt_fill = calloc(n_cells + 1, sizeof *dt_fill);
    if (!gt_fill || !dt_fill) {
        free(gt_fill);
        free(dt_fill);
        st = wb_fail_msg(err, err_size, WB_ERR_NOMEM, "coco eval: out of memory");
        goto done;
    }
    for (int a = 0; a < gt->n_annotations; a++)
        if (gt_cell[a] >= 0) g->gt[g->gt_start[gt_cell[a]] + gt_fill[gt_cell[a]]++] = &gt->annotations[a];
    for (size_t d = 0; d < n_dets; d++)
        if (dt_cell[d] >= 0) g->dt[g->dt_start[dt_cell[d]] + dt_fill[dt_cell[d]]++] = &dets[d];
    free(gt_fill);
    free(dt_fill);
done:
    free(gt_cell);
    free(dt_cell);
    return st;
}

/* precision[k][a][m][t][r] and recall[k][a][m][t]: -1 where a setting has no
 * ground truth, as pycocotools' arrays (in another axis order). */
typedef struct curves {
    double *precision, *recall;
} curves;

static size_t prec_at(int k, int a, int m) { return (((size_t)k * A + a) * M + m) * T * R; }
static size_t rec_at(int k, int a, int m) { return (((size_t)k * A + a) * M + m) * T; }

static wb_status evaluate_all(const grouping *g, curves *cv, char *err, size_t err_size) {
    const int I = g->n_images, K = g->n_categories;
    size_t max_gt = 0, max_cat_dets = 0;
    for (int k = 0; k < K; k++) {
        size_t cat_dets = g->dt_start[(size_t)(k + 1) * I] - g->dt_start[(size_t)k * I];
        if (cat_dets > max_cat_dets) max_cat_dets = cat_dets;
        for (int i = 0; i < I; i++) {
            size_t c = (size_t)k * I + i, n_gt = g->gt_start[c + 1] - g->gt_start[c];
            if (n_gt > max_gt) max_gt = n_gt;
        }
    }
    double *iou = malloc((WB_COCO_MAX_DETS * max_gt + 1) * sizeof *iou);
    int *gt_scratch = malloc((3 * max_gt + 1) * sizeof *gt_scratch);
    wb_coco_dt_eval *entries = malloc((A * max_cat_dets + 1) * sizeof *entries);
    wb_coco_accum_scratch acc;
    bool ok = wb_coco_accum_scratch_init(&acc, max_cat_dets) && iou && gt_scratch && entries;

    for (int k = 0; ok && k < K; k++) {
        size_t n_entries[A] = {0};
        int n_counted[A] = {0};
        for (int i = 0; i < I; i++) {
            size_t c = (size_t)k * I + i;
            wb_coco_cell cell = {
                .gt = g->gt + g->gt_start[c], .n_gt = (int)(g->gt_start[c + 1] - g->gt_start[c]),
                .dt = g->dt + g->dt_start[c], .n_dt = (int)(g->dt_start[c + 1] - g->dt_start[c]),
                .iou = iou};
            if (cell.n_gt == 0 && cell.n_dt == 0) continue;
            wb_coco_cell_prepare(&cell);
            for (int a = 0; a < A; a++) {
                wb_coco_dt_eval *out = entries + (size_t)a * max_cat_dets + n_entries[a];
                n_counted[a] += wb_coco_cell_match(&cell, wb_coco_area_ranges[a], gt_scratch, out);
                n_entries[a] += (size_t)cell.n_dt;
            }
        }
        /* Settings without ground truth that counts keep -1. */
        for (int a = 0; a < A; a++)
            for (int m = 0; m < M; m++)
                if (n_counted[a] > 0)
                    wb_coco_accumulate(entries + (size_t)a * max_cat_dets, n_entries[a], wb_coco_max_dets[m],
                                       n_counted[a], &acc, cv->precision + prec_at(k, a, m), R,
                                       cv->recall + rec_at(k, a, m), 1);
    }
    free(iou);
    free(gt_scratch);
    free(entries);
    wb_coco_accum_scratch_free(&acc);
    return ok ? WB_OK : wb_fail_msg(err, err_size, WB_ERR_NOMEM, "coco eval: out of memory");
}

/* COCOeval.summarize's _summarize: the mean over every entry > -1 of the
 * selected slice; iou_index < 0 takes all thresholds. */
static double summarize(const curves *cv, int K, bool precision, int iou_index, int a, int m) {
    double sum = 0;
    size_t n = 0;
    for (int k = 0; k < K; k++)
        for (int t = 0; t < T; t++) {
            if (iou_index >= 0 && t != iou_index) continue;
            if (precision) {
                const double *p = cv->precision + prec_at(k, a, m) + (size_t)t * R;
                for (int r = 0; r < R; r++)
                    if (p[r] > -1) sum += p[r], n++;
            } else {
                double v = cv->recall[rec_at(k, a, m) + (size_t)t];
                if (v > -1) sum += v, n++;
            }
        }
    return n ? sum / (double)n : -1.0;
}

static void summarize_all(const curves *cv, int K, double stats[WB_COCO_NUM_STATS]) {
    enum { ALL_IOU = -1, IOU50 = 0, IOU75 = 5, MD100 = 2 };
    stats[0] = summarize(cv, K, true, ALL_IOU, 0, MD100);
    stats[1] = summarize(cv, K, true, IOU50, 0, MD100);
    stats[2] = summarize(cv, K, true, IOU75, 0, MD100);
    for (int a = 1; a < A; a++) stats[2 + a] = summarize(cv, K, true, ALL_IOU, a, MD100);
    for (int m = 0; m < M; m++) stats[6 + m] = summarize(cv, K, false, ALL_IOU, 0, m);
    for (int a = 1; a < A; a++) stats[8 + a] = summarize(cv, K, false, ALL_IOU, a, MD100);
}

static void per_category(const grouping *g, const curves *cv, wb_coco_summary *out) {
    for (int k = 0; k < g->n_categories; k++) {
        out->category_ids[k] = g->categories[k];
        double sum = 0;
        int n = 0;
        const double *p = cv->precision + prec_at(k, 0, WB_COCO_NUM_MAXDETS - 1);
        for (int j = 0; j < T * R; j++)
            if (p[j] > -1) sum += p[j], n++;
        out->category_ap[k] = n ? sum / n : -1.0;
        out->category_gt[k] = 0;
        for (int i = 0; i < g->n_images; i++) {
            size_t c = (size_t)k * g->n_images + i;
            for (size_t j = g->gt_start[c]; j < g->gt_start[c + 1]; j++) out->category_gt[k] += !g->gt[j]->iscrowd;
        }
    }
}

wb_status wb_coco_evaluate(const wb_coco_gt *gt, const wb_coco_detection *dets, size_t n_dets,
                           wb_coco_summary *out, char *err, size_t err_size) {
    *out = (wb_coco_summary){0};
    if (gt->n_images == 0 || gt->n_categories == 0)
        return wb_fail_msg(err, err_size, WB_ERR_INVALID,
                    "coco eval: the ground truth has %d images and %d categories; both must be non-empty",
                    gt->n_images, gt->n_categories);
    wb_status st = check_detections(dets, n_dets, err, err_size);
    if (st != WB_OK) return st;

    grouping g;
    st = group(gt, dets, n_dets, &g, err, err_size);
    curves cv = {0};
    if (st == WB_OK) {
        size_t n_prec = (size_t)g.n_categories * A * M * T * R, n_rec = (size_t)g.n_categories * A * M * T;
        cv.precision = malloc(n_prec * sizeof *cv.precision);
        cv.recall = malloc(n_rec * sizeof *cv.recall);
        out->category_ids = malloc((size_t)g.n_categories * sizeof *out->category_ids);
        out->category_ap = malloc((size_t)g.n_categories * sizeof *out->category_ap);
        out->category_gt = malloc((size_t)g.n_categories * sizeof *out->category_gt);
        if (!cv.precision || !cv.recall || !out->category_ids || !out->category_ap || !out->category_gt) {
            st = wb_fail_msg(err, err_size, WB_ERR_NOMEM, "coco eval: out of memory");
        } else {
            for (size_t j = 0; j < n_prec; j++) cv.precision[j] = -1.0;
            for (size_t j = 0; j < n_rec; j++) cv.recall[j] = -1.0;
            st = evaluate_all(&g, &cv, err, err_size);
        }
    }
    if (st == WB_OK) {
        summarize_all(&cv, g.n_categories, out->stats);
        out->n_categories = g.n_categories;
        per_category(&g, &cv, out);
        out->n_detections_used = g.n_dt_used;
        out->n_detections_unknown_category = g.n_dt_unknown_category;
    } else {
        wb_coco_summary_free(out);
    }
    free(cv.precision);
    free(cv.recall);
    grouping_free(&g);
    return st;
}

void wb_coco_summary_free(wb_coco_summary *s) {
    free(s->category_ids);
    free(s->category_ap);
    free(s->category_gt);
    *s = (wb_coco_summary){0};
}

void wb_coco_gt_free(wb_coco_gt *gt) {
    for (int k = 0; k < gt->n_categories; k++) free(gt->categories[k].name);
    free(gt->categories);
    free(gt->image_ids);
    free(gt->annotations);
    *gt = (wb_coco_gt){0};
}
