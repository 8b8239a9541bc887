#define _GNU_SOURCE /* qsort_r */
#include "ap_per_class.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* YOLOv5's numbers come from unfused float32 torch and float64 numpy
 * arithmetic; a fused multiply-add moves an IoU across a threshold. */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

float wb_ap_box_iou(const float *a, const float *b) {
    float w = fminf(a[2], b[2]) - fmaxf(a[0], b[0]), h = fminf(a[3], b[3]) - fmaxf(a[1], b[1]);
    float inter = (w > 0.0f ? w : 0.0f) * (h > 0.0f ? h : 0.0f);
    float area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);
    return inter / (area_a + area_b - inter + 1e-7f);
}

/* torch.linspace(0.5, 0.95, 10) in float32: from both ends towards the middle. */
static float iou_threshold(int t) {
    const float start = 0.5f, end = 0.95f, step = (end - start) / 9.0f;
    return t < WB_AP_IOUS / 2 ? start + step * (float)t : end - step * (float)(WB_AP_IOUS - 1 - t);
}

/* process_batch keeps, per detection, its best-IoU label among those of its
 * class over the threshold; then, per label, the detection with the lowest
 * index among those that kept it (np.unique's first occurrence after the
 * matches were ordered by detection). */
void wb_ap_match(const float *det_boxes, const int *det_cls, int n_det, const float *gt_boxes, const int *gt_cls,
                 int n_gt, uint16_t *correct) {
    if (n_det == 0) return; /* correct may be NULL then: memset(NULL, 0, 0) is undefined */
    memset(correct, 0, (size_t)n_det * sizeof *correct);
    if (n_gt == 0) return;
    float *iou = malloc((size_t)n_det * n_gt * sizeof *iou);
    int *best = malloc((size_t)n_det * sizeof *best);
    char *taken = malloc((size_t)n_gt);
    if (!iou || !best || !taken) goto done; /* nothing counts as correct: the caller sees an AP of 0, never junk */
    for (int i = 0; i < n_det; i++)
        for (int j = 0; j < n_gt; j++) iou[(size_t)i * n_gt + j] = wb_ap_box_iou(gt_boxes + 4 * j, det_boxes + 4 * i);
    for (int t = 0; t < WB_AP_IOUS; t++) {
        float thr = iou_threshold(t);
        for (int i = 0; i < n_det; i++) {
            best[i] = -1;
            for (int j = 0; j < n_gt; j++) {
                float v = iou[(size_t)i * n_gt + j];
                if (gt_cls[j] == det_cls[i] && v >= thr && (best[i] < 0 || v > iou[(size_t)i * n_gt + best[i]]))
                    best[i] = j;
            }
        }
        memset(taken, 0, (size_t)n_gt);
        for (int i = 0; i < n_det; i++)
            if (best[i] >= 0 && !taken[best[i]]) {
                taken[best[i]] = 1;
                correct[i] |= (uint16_t)(1u << t);
            }
    }
done:
    free(iou), free(best), free(taken);
}

wb_status wb_ap_stats_init(wb_ap_stats *s, int num_classes) {
    memset(s, 0, sizeof *s);
    s->num_classes = num_classes;
    s->targets = calloc((size_t)(num_classes > 0 ? num_classes : 1), sizeof *s->targets);
    return s->targets ? WB_OK : WB_ERR_NOMEM;
}

static bool grow(wb_ap_stats *s, size_t need) {
    if (need <= s->cap) return true;
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < need) cap *= 2;
    float *conf = realloc(s->conf, cap * sizeof *conf);
    if (conf) s->conf = conf;
    int *cls = realloc(s->cls, cap * sizeof *cls);
    if (cls) s->cls = cls;
    uint16_t *correct = realloc(s->correct, cap * sizeof *correct);
    if (correct) s->correct = correct;
    if (!conf || !cls || !correct) return false;
    s->cap = cap;
    return true;
}

wb_status wb_ap_stats_add(wb_ap_stats *s, const float *det_boxes, const float *det_conf, const int *det_cls,
                          int n_det, const float *gt_boxes, const int *gt_cls, int n_gt) {
    if (!grow(s, s->n + (size_t)n_det)) return WB_ERR_NOMEM;
    if (n_det > 0) { /* before the first detection the arrays are NULL, and memcpy(NULL, ..., 0) is undefined */
        wb_ap_match(det_boxes, det_cls, n_det, gt_boxes, gt_cls, n_gt, s->correct + s->n);
        memcpy(s->conf + s->n, det_conf, (size_t)n_det * sizeof *det_conf);
        memcpy(s->cls + s->n, det_cls, (size_t)n_det * sizeof *det_cls);
        s->n += (size_t)n_det;
    }
    for (int j = 0; j < n_gt; j++)
        if (gt_cls[j] >= 0 && gt_cls[j] < s->num_classes) s->targets[gt_cls[j]]++;
    s->images++;
    return WB_OK;
}

void wb_ap_stats_free(wb_ap_stats *s) {
    free(s->conf), free(s->cls), free(s->correct), free(s->targets);
    memset(s, 0, sizeof *s);
}

double wb_ap_grid(int i) { return i == WB_AP_GRID - 1 ? 1.0 : (double)i * (1.0 / (WB_AP_GRID - 1)); }

/* numpy.interp: xp ascending (repeats allowed); at a repeated xp the last
 * of them counts, as numpy's binary search finds it. */
static double interp(double x, const double *xp, const double *fp, size_t n, double left, double right) {
    if (x < xp[0]) return left;
    if (x > xp[n - 1]) return right;
    if (x == xp[n - 1]) return fp[n - 1];
    size_t lo = 0, hi = n - 1; /* xp[lo] <= x < xp[hi] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (xp[mid] <= x) lo = mid;
        else hi = mid;
    }
    if (xp[lo] == x) return fp[lo];
    double slope = (fp[lo + 1] - fp[lo]) / (xp[lo + 1] - xp[lo]);
    double v = slope * (x - xp[lo]) + fp[lo];
    if (isnan(v)) {
        v = slope * (x - xp[lo + 1]) + fp[lo + 1];
        if (isnan(v) && fp[lo] == fp[lo + 1]) v = fp[lo];
    }
    return v;
}

/* compute_ap's 'interp' method: the precision envelope sampled at 101
 * recall points and integrated with the trapezoidal rule. mrec and mpre
 * have n + 2 slots; mpre's envelope is left in it (the PR curve). */
static double compute_ap(const double *recall, const double *precision, size_t n, double *mrec, double *mpre) {
    mrec[0] = 0.0, mpre[0] = 1.0;
    memcpy(mrec + 1, recall, n * sizeof *mrec);
    memcpy(mpre + 1, precision, n * sizeof *mpre);
    mrec[n + 1] = 1.0, mpre[n + 1] = 0.0;
    for (size_t i = n + 1; i-- > 0;)
        if (mpre[i + 1] > mpre[i]) mpre[i] = mpre[i + 1];
    double ap = 0.0, prev_x = 0.0, prev_y = interp(0.0, mrec, mpre, n + 2, mpre[0], mpre[n + 1]);
    for (int k = 1; k <= 100; k++) {
        double x = k == 100 ? 1.0 : k * 0.01, y = interp(x, mrec, mpre, n + 2, mpre[0], mpre[n + 1]);
        ap += (x - prev_x) * (y + prev_y) / 2.0;
        prev_x = x, prev_y = y;
    }
    return ap;
}

void wb_ap_smooth(const double *y, int n, double f, double *out) {
    int nf = (int)lround(n * f * 2) / 2 + 1, half = nf / 2;
    for (int i = 0; i < n; i++) {
        double sum = 0.0;
        for (int k = 0; k < nf; k++) {
            int at = i + k - half;
            sum += (at < 0 ? y[0] : at >= n ? y[n - 1] : y[at]) * (1.0 / nf);
        }
        out[i] = sum;
    }
}

/* The first maximum of the class-mean F1 smoothed with f = 0.1. */
static int smoothed_argmax(const double *y) {
    double s[WB_AP_GRID];
    wb_ap_smooth(y, WB_AP_GRID, 0.1, s);
    int best = 0;
    for (int i = 1; i < WB_AP_GRID; i++)
        if (s[i] > s[best]) best = i;
    return best;
}

/* Detection order by confidence, highest first; ties keep their order. */
static int by_conf_desc(const void *a, const void *b, void *conf) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    float x = ((const float *)conf)[i], y = ((const float *)conf)[j];
    if (x != y) return x > y ? -1 : 1;
    return (i > j) - (i < j);
}

/* One class's curves and APs from its detections (in descending confidence). */
static void one_class(const wb_ap_stats *s, const size_t *order, size_t n_p, int64_t n_l, int ci, wb_ap_result *r,
                      double *neg_conf, double *rec, double *prec, double *mrec, double *mpre) {
    double *rc = r->r_curve + (size_t)ci * WB_AP_GRID, *pc = r->p_curve + (size_t)ci * WB_AP_GRID;
    for (int t = 0; t < WB_AP_IOUS; t++) {
        double tpc = 0.0, fpc = 0.0;
        for (size_t k = 0; k < n_p; k++) {
            bool tp = s->correct[order[k]] >> t & 1u;
            tpc += tp, fpc += !tp;
            rec[k] = tpc / ((double)n_l + 1e-16);
            prec[k] = tpc / (tpc + fpc);
            if (t == 0) neg_conf[k] = -(double)s->conf[order[k]];
        }
        if (t == 0) {
            for (int g = 0; g < WB_AP_GRID; g++) {
                double x = -wb_ap_grid(g);
                rc[g] = interp(x, neg_conf, rec, n_p, 0.0, rec[n_p - 1]);
                pc[g] = interp(x, neg_conf, prec, n_p, 1.0, prec[n_p - 1]);
            }
        }
        r->ap[(size_t)ci * WB_AP_IOUS + t] = compute_ap(rec, prec, n_p, mrec, mpre);
        if (t == 0)
            for (int g = 0; g < WB_AP_GRID; g++)
                r->pr_curve[(size_t)ci * WB_AP_GRID + g] = interp(wb_ap_grid(g), mrec, mpre, n_p + 2, mpre[0], mpre[n_p + 1]);
    }
}

static wb_status alloc_result(wb_ap_result *r, int nc) {
    size_t curves = (size_t)(nc ? nc : 1) * WB_AP_GRID;
    r->classes = calloc((size_t)nc + 1, sizeof *r->classes);
    r->targets = calloc((size_t)nc + 1, sizeof *r->targets);
    r->p = calloc((size_t)nc + 1, sizeof *r->p);
    r->r = calloc((size_t)nc + 1, sizeof *r->r);
    r->f1 = calloc((size_t)nc + 1, sizeof *r->f1);
    r->ap = calloc(((size_t)nc + 1) * WB_AP_IOUS, sizeof *r->ap);
    r->p_curve = calloc(curves, sizeof(double));
    r->r_curve = calloc(curves, sizeof(double));
    r->f1_curve = calloc(curves, sizeof(double));
    r->pr_curve = calloc(curves, sizeof(double));
    return r->classes && r->targets && r->p && r->r && r->f1 && r->ap && r->p_curve && r->r_curve && r->f1_curve &&
                   r->pr_curve ? WB_OK : WB_ERR_NOMEM;
}

wb_status wb_ap_per_class(const wb_ap_stats *s, wb_ap_result *r) {
    memset(r, 0, sizeof *r);
    r->images = s->images, r->num_classes = s->num_classes;
    int nc = 0;
    for (int c = 0; c < s->num_classes; c++) nc += s->targets[c] > 0;
    size_t *order = malloc((s->n + 1) * sizeof *order), *mine = malloc((s->n + 1) * sizeof *mine);
    double *work = malloc((4 * s->n + 4) * sizeof *work), *mean_f1 = calloc(WB_AP_GRID, sizeof *mean_f1);
    wb_status st = order && mine && work && mean_f1 ? alloc_result(r, nc) : WB_ERR_NOMEM;
    if (st != WB_OK) goto done;
    r->n_classes = nc;
    for (size_t i = 0; i < s->n; i++) order[i] = i;
    qsort_r(order, s->n, sizeof *order, by_conf_desc, s->conf);
    double *neg_conf = work, *rec = work + s->n, *prec = work + 2 * s->n, *mrec = work + 3 * s->n + 2,
           *mpre = malloc((s->n + 2) * sizeof *mpre);
    if (!mpre) {
        st = WB_ERR_NOMEM;
        goto done;
    }
    for (int c = 0, ci = 0; c < s->num_classes; c++) {
        if (s->targets[c] == 0) continue;
        r->classes[ci] = c, r->targets[ci] = s->targets[c];
        size_t n_p = 0;
        for (size_t k = 0; k < s->n; k++)
            if (s->cls[order[k]] == c) mine[n_p++] = order[k];
        if (n_p > 0) one_class(s, mine, n_p, s->targets[c], ci, r, neg_conf, rec, prec, mrec, mpre);
        ci++;
    }
    free(mpre);
    for (int ci = 0; ci < nc; ci++)
        for (int g = 0; g < WB_AP_GRID; g++) {
            size_t at = (size_t)ci * WB_AP_GRID + g;
            double p = r->p_curve[at], rc = r->r_curve[at];
            r->f1_curve[at] = 2 * p * rc / (p + rc + 1e-16);
            mean_f1[g] += r->f1_curve[at];
        }
    if (nc > 0) {
        for (int g = 0; g < WB_AP_GRID; g++) mean_f1[g] /= nc;
        r->best = smoothed_argmax(mean_f1);
    }
    for (int ci = 0; ci < nc; ci++) {
        size_t at = (size_t)ci * WB_AP_GRID + r->best;
        r->p[ci] = r->p_curve[at], r->r[ci] = r->r_curve[at], r->f1[ci] = r->f1_curve[at];
        double all = 0.0;
        for (int t = 0; t < WB_AP_IOUS; t++) all += r->ap[(size_t)ci * WB_AP_IOUS + t];
        r->mp += r->p[ci], r->mr += r->r[ci], r->map50 += r->ap[(size_t)ci * WB_AP_IOUS], r->map += all / WB_AP_IOUS;
    }
    if (nc > 0) r->mp /= nc, r->mr /= nc, r->map50 /= nc, r->map /= nc;
done:
    free(order), free(mine), free(work), free(mean_f1);
    if (st != WB_OK) wb_ap_result_free(r);
    return st;
}

void wb_ap_result_free(wb_ap_result *r) {
    free(r->classes), free(r->targets), free(r->p), free(r->r), free(r->f1), free(r->ap);
    free(r->p_curve), free(r->r_curve), free(r->f1_curve), free(r->pr_curve);
    memset(r, 0, sizeof *r);
}

void wb_ap_print_table(FILE *out, const wb_ap_result *r, const char *const *names) {
    int64_t instances = 0;
    for (int ci = 0; ci < r->n_classes; ci++) instances += r->targets[ci];
    fprintf(out, "%22s%11s%11s%11s%11s%11s%11s\n", "Class", "Images", "Instances", "P", "R", "mAP50", "mAP50-95");
    fprintf(out, "%22s%11lld%11lld%11.3g%11.3g%11.3g%11.3g\n", "all", (long long)r->images, (long long)instances, r->mp,
            r->mr, r->map50, r->map);
    if (instances == 0) fprintf(out, "no labels in this split: the metrics cannot be computed\n");
    if (r->num_classes < 2) return; /* as val.py: one class is the "all" row */
    for (int ci = 0; ci < r->n_classes; ci++) {
        char num[16];
        snprintf(num, sizeof num, "%d", r->classes[ci]);
        double all = 0.0;
        for (int t = 0; t < WB_AP_IOUS; t++) all += r->ap[(size_t)ci * WB_AP_IOUS + t];
        fprintf(out, "%22s%11lld%11lld%11.3g%11.3g%11.3g%11.3g\n", names ? names[r->classes[ci]] : num,
                (long long)r->images, (long long)r->targets[ci], r->p[ci], r->r[ci], r->ap[(size_t)ci * WB_AP_IOUS],
                all / WB_AP_IOUS);
    }
}
