#include "voc_eval.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "../runtime/errmsg.h"


static wb_status check_boxes(const wb_voc_box *b, size_t n, const char *what, int n_images, int n_classes,
                             char *err, size_t err_size) {
    for (size_t i = 0; i < n; i++) {
        if (b[i].image < 0 || b[i].image >= n_images || b[i].label < 0 || b[i].label >= n_classes)
            return wb_fail_msg(err, err_size, WB_ERR_INVALID,
                        "voc eval: %s %zu has image %d and label %d; expected images 0..%d and labels 0..%d", what,
                        i, b[i].image, b[i].label, n_images - 1, n_classes - 1);
        if (!isfinite(b[i].x1) || !isfinite(b[i].y1) || !isfinite(b[i].x2) || !isfinite(b[i].y2) ||
            !isfinite(b[i].score))
            return wb_fail_msg(err, err_size, WB_ERR_NUMERIC, "voc eval: %s %zu (image %d) has a non-finite value", what,
                        i, b[i].image);
    }
    return WB_OK;
}

/* Indices of boxes bucketed by cell = label * n_images + image, input order kept. */
typedef struct buckets {
    size_t *start;   /* n_cells + 1 */
    size_t *index;
} buckets;

static bool bucket(const wb_voc_box *b, size_t n, int n_images, size_t n_cells, buckets *out) {
    out->start = calloc(n_cells + 2, sizeof *out->start);
    out->index = malloc((n + 1) * sizeof *out->index);
    if (!out->start || !out->index) return false;
    for (size_t i = 0; i < n; i++) out->start[(size_t)b[i].label * n_images + b[i].image + 2]++;
    for (size_t c = 2; c < n_cells + 2; c++) out->start[c] += out->start[c - 1];
    /* start[c + 1] is the fill cursor of cell c; when done it is the end of c. */
    for (size_t i = 0; i < n; i++) out->index[out->start[(size_t)b[i].label * n_images + b[i].image + 1]++] = i;
    return true;
}

static void buckets_free(buckets *b) {
    free(b->start);
    free(b->index);
}

/* VOC's legacy pixel convention: x1..x2 covers x2 - x1 + 1 pixels. */
static double iou_legacy(const wb_voc_box *a, const wb_voc_box *b) {
    double area_a = (a->x2 - a->x1 + 1) * (a->y2 - a->y1 + 1);
    double area_b = (b->x2 - b->x1 + 1) * (b->y2 - b->y1 + 1);
    double w = fmax(fmin(a->x2, b->x2) - fmax(a->x1, b->x1) + 1, 0.0);
    double h = fmax(fmin(a->y2, b->y2) - fmax(a->y1, b->y1) + 1, 0.0);
    double overlap = w * h;
    return overlap / fmax(area_a + area_b - overlap, 1e-6);
}

typedef struct ranked {
    double score;
    size_t order;   /* tie-break: position in the class's (image, input) order */
    size_t det;
} ranked;

static int by_score(const void *a, const void *b) {
    const ranked *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->order > y->order) - (x->order < y->order);
}

typedef struct class_scratch {
    ranked *ranked;             /* the class's detections */
    signed char *outcome;       /* per detection index: 1 tp, -1 fp, 0 neither */
    const wb_voc_box **gt;      /* one image's ground truth, difficult last */
    bool *covered;
} class_scratch;

/* tpfp_default for one image and class: each detection, best score first,
 * takes the ground-truth box it overlaps most (first one on ties). */
static void match_image(const wb_voc_box *gts, const wb_voc_box *dets, const size_t *gt_idx, size_t n_gt,
                        ranked *img_dets, size_t n_det, double iou_thr, class_scratch *s) {
    size_t n = 0;
    for (size_t j = 0; j < n_gt; j++)
        if (!gts[gt_idx[j]].difficult) s->gt[n++] = &gts[gt_idx[j]];
    for (size_t j = 0; j < n_gt; j++)
        if (gts[gt_idx[j]].difficult) s->gt[n++] = &gts[gt_idx[j]];
    for (size_t g = 0; g < n_gt; g++) s->covered[g] = false;

    qsort(img_dets, n_det, sizeof *img_dets, by_score);
    for (size_t i = 0; i < n_det; i++) {
        const wb_voc_box *d = &dets[img_dets[i].det];
        double best = -1;
        size_t best_g = 0;
        for (size_t g = 0; g < n_gt; g++) {
            double iou = iou_legacy(d, s->gt[g]);
            if (iou > best) best = iou, best_g = g;
        }
        signed char outcome = -1;
        if (n_gt > 0 && best >= iou_thr) {
            if (s->gt[best_g]->difficult) outcome = 0;
            else if (!s->covered[best_g]) s->covered[best_g] = true, outcome = 1;
        }
        s->outcome[img_dets[i].det] = outcome;
    }
}

static double average_precision(const double *recall, double *precision, size_t n, wb_voc_ap_mode mode) {
    if (mode == WB_VOC_AP_11POINT) {
        double sum = 0;
        for (int k = 0; k <= 10; k++) {
            double best = 0;
            for (size_t i = 0; i < n; i++)
                if (recall[i] >= k / 10.0 && precision[i] > best) best = precision[i];
            sum += best;
        }
        return sum / 11;
    }
    /* Area under the envelope, with the curve closed at recall 0 and 1 (precision 0 there). */
    for (size_t i = n; i-- > 1;)
        if (precision[i] > precision[i - 1]) precision[i - 1] = precision[i];
    double ap = 0, prev_recall = 0;
    for (size_t i = 0; i < n; i++) {
        if (recall[i] != prev_recall) ap += (recall[i] - prev_recall) * precision[i];
        prev_recall = recall[i];
    }
    return ap;
}

static void evaluate_class(int c, const wb_voc_box *gts, const buckets *gb, const wb_voc_box *dets,
                           const buckets *db, int n_images, double iou_thr, wb_voc_ap_mode mode, class_scratch *s,
                           double *recall, double *precision, wb_voc_class_result *out) {
    size_t first = (size_t)c * n_images;
    size_t n_det = db->start[first + n_images] - db->start[first];
    *out = (wb_voc_class_result){.num_dets = (int)n_det};
    for (size_t j = gb->start[first]; j < gb->start[first + n_images]; j++)
        out->num_gts += !gts[gb->index[j]].difficult;

    for (int i = 0; i < n_images; i++) {
        size_t c0 = first + i, k0 = db->start[c0] - db->start[first];
        for (size_t j = db->start[c0]; j < db->start[c0 + 1]; j++)
            s->ranked[j - db->start[first]] = (ranked){dets[db->index[j]].score, j, db->index[j]};
        match_image(gts, dets, gb->index + gb->start[c0], gb->start[c0 + 1] - gb->start[c0], s->ranked + k0,
                    db->start[c0 + 1] - db->start[c0], iou_thr, s);
    }
    if (out->num_gts == 0) return;

    qsort(s->ranked, n_det, sizeof *s->ranked, by_score);
    double tp = 0, fp = 0;
    for (size_t i = 0; i < n_det; i++) {
        signed char o = s->outcome[s->ranked[i].det];
        tp += o == 1;
        fp += o == -1;
        recall[i] = tp / out->num_gts;
        precision[i] = tp / fmax(tp + fp, FLT_EPSILON);   /* mmdet's eps: 0/0 reads as precision 0 */
    }
    out->recall = n_det ? recall[n_det - 1] : 0.0;
    out->ap = average_precision(recall, precision, n_det, mode);
}

wb_status wb_voc_evaluate(const wb_voc_box *gts, size_t n_gts, const wb_voc_box *dets, size_t n_dets,
                          int n_images, int n_classes, double iou_thr, wb_voc_ap_mode mode,
                          wb_voc_class_result *per_class, double *mean_ap, char *err, size_t err_size) {
    if (n_images <= 0 || n_classes <= 0)
        return wb_fail_msg(err, err_size, WB_ERR_INVALID, "voc eval: needs at least one image and one class (got %d, %d)",
                    n_images, n_classes);
    wb_status st = check_boxes(gts, n_gts, "ground-truth box", n_images, n_classes, err, err_size);
    if (st == WB_OK) st = check_boxes(dets, n_dets, "detection", n_images, n_classes, err, err_size);
    if (st != WB_OK) return st;

    size_t n_cells = (size_t)n_images * n_classes;
    buckets gb = {0}, db = {0};
    class_scratch s = {
        .ranked = malloc((n_dets + 1) * sizeof *s.ranked),
        .outcome = malloc(n_dets + 1),
        .gt = malloc((n_gts + 1) * sizeof *s.gt),
        .covered = malloc(n_gts + 1),
    };
    double *recall = malloc((n_dets + 1) * sizeof *recall), *precision = malloc((n_dets + 1) * sizeof *precision);
    bool ok = bucket(gts, n_gts, n_images, n_cells, &gb) && bucket(dets, n_dets, n_images, n_cells, &db) &&
              s.ranked && s.outcome && s.gt && s.covered && recall && precision;
    if (ok) {
        double sum = 0;
        int n_with_gt = 0;
        for (int c = 0; c < n_classes; c++) {
            evaluate_class(c, gts, &gb, dets, &db, n_images, iou_thr, mode, &s, recall, precision, &per_class[c]);
            if (per_class[c].num_gts > 0) sum += per_class[c].ap, n_with_gt++;
        }
        *mean_ap = n_with_gt ? sum / n_with_gt : 0.0;
    }
    buckets_free(&gb);
    buckets_free(&db);
    free(s.ranked);
    free(s.outcome);
    free(s.gt);
    free(s.covered);
    free(recall);
    free(precision);
    return ok ? WB_OK : wb_fail_msg(err, err_size, WB_ERR_NOMEM, "voc eval: out of memory");
}
