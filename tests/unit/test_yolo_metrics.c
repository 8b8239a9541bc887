/* YOLOv5's validation metrics against YOLOv5's own functions
 * (tests/parity/gen_yolo_metrics.py runs val.py's process_batch,
 * ap_per_class and ConfusionMatrix on random detections): the correct
 * matrix and the confusion counts exactly, P, R, F1 and AP per class to 1e-6.
 * Without the yolov5 package the generator writes only
 * yolo_metrics_unavailable and this program exits 77 (skipped). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "eval/ap_per_class.h"
#include "eval/confusion_matrix.h"
#include "wbtest.h"

#define SKIP_EXIT_CODE 77

static const wb_st_tensor *tensor(const wb_st_file *f, const char *name) {
    const wb_st_tensor *t = wb_st_find(f, name);
    ck_assert_msg(t != NULL, "parity file has no tensor '%s'", name);
    return t;
}

/* p, r, f1 and ap of YOLOv5 against ours, class by class. */
static void assert_result(const wb_st_file *f, const wb_ap_result *r) {
    const wb_st_tensor *classes = tensor(f, "classes");
    ck_assert_int_eq(r->n_classes, (int)classes->numel);
    const float *p = wbt_parity_tensor(f, "p", r->n_classes), *rc = wbt_parity_tensor(f, "r", r->n_classes);
    const float *f1 = wbt_parity_tensor(f, "f1", r->n_classes);
    const float *ap = wbt_parity_tensor(f, "ap", (int64_t)r->n_classes * WB_AP_IOUS);
    for (int ci = 0; ci < r->n_classes; ci++) {
        ck_assert_int_eq(r->classes[ci], (int)classes->data[ci]);
        ck_assert_msg(fabs(r->p[ci] - p[ci]) < 1e-6, "class %d: P %.8f, YOLOv5 %.8f", r->classes[ci], r->p[ci], p[ci]);
        ck_assert_msg(fabs(r->r[ci] - rc[ci]) < 1e-6, "class %d: R %.8f, YOLOv5 %.8f", r->classes[ci], r->r[ci], rc[ci]);
        ck_assert_msg(fabs(r->f1[ci] - f1[ci]) < 1e-6, "class %d: F1 %.8f, YOLOv5 %.8f", r->classes[ci], r->f1[ci],
                      f1[ci]);
        for (int t = 0; t < WB_AP_IOUS; t++) {
            double mine = r->ap[(size_t)ci * WB_AP_IOUS + t], theirs = ap[ci * WB_AP_IOUS + t];
            ck_assert_msg(fabs(mine - theirs) < 1e-6, "class %d: AP at IoU 0.%02d %.8f, YOLOv5 %.8f", r->classes[ci],
                          50 + 5 * t, mine, theirs);
        }
    }
}

/* Rows of one image (column 0 is the image index) from *at on. */
static int rows_of(const wb_st_tensor *t, int64_t at, int image) {
    int64_t cols = t->shape[1], k = at;
    while (k < t->shape[0] && (int)t->data[k * cols] == image) k++;
    return (int)(k - at);
}

static void check_metrics_case(int k) {
    char name[64];
    snprintf(name, sizeof name, "yolo_metrics_%d", k);
    wb_st_file f;
    ck_assert(wbt_parity_open(name, &f));
    int nc = (int)wbt_parity_attr(&f, "nc"), images = (int)wbt_parity_attr(&f, "images");
    const wb_st_tensor *gt = tensor(&f, "gt"), *dets = tensor(&f, "dets"), *correct = tensor(&f, "correct");
    ck_assert_int_eq(correct->shape[0], dets->shape[0]);
    wb_ap_stats stats;
    wb_confusion cm;
    ck_assert_int_eq(wb_ap_stats_init(&stats, nc), WB_OK);
    ck_assert_int_eq(wb_confusion_init(&cm, nc), WB_OK);
    int64_t g = 0, d = 0, mismatched = 0;
    for (int i = 0; i < images; i++) {
        int n_gt = rows_of(gt, g, i), n_det = rows_of(dets, d, i);
        float gb[4 * (n_gt + 1)], db[4 * (n_det + 1)], conf[n_det + 1];
        int gc[n_gt + 1], dc[n_det + 1];
        for (int j = 0; j < n_gt; j++) {
            const float *row = gt->data + (g + j) * 6;
            gc[j] = (int)row[1];
            memcpy(gb + 4 * j, row + 2, 4 * sizeof(float));
        }
        for (int j = 0; j < n_det; j++) {
            const float *row = dets->data + (d + j) * 7;
            memcpy(db + 4 * j, row + 1, 4 * sizeof(float));
            conf[j] = row[5];
            dc[j] = (int)row[6];
        }
        size_t before = stats.n;
        if (n_det > 0 || n_gt > 0) /* val.py skips images with neither */
            ck_assert_int_eq(wb_ap_stats_add(&stats, db, conf, dc, n_det, gb, gc, n_gt), WB_OK);
        ck_assert_int_eq(wb_confusion_add(&cm, db, conf, dc, n_det, gb, gc, n_gt), WB_OK);
        for (int j = 0; j < n_det; j++)
            for (int t = 0; t < WB_AP_IOUS; t++)
                mismatched += (int)((stats.correct[before + j] >> t) & 1u) != (int)correct->data[(d + j) * 10 + t];
        g += n_gt, d += n_det;
    }
    ck_assert_msg(mismatched == 0, "%s: %lld of %lld correct bits differ from process_batch's", name,
                  (long long)mismatched, (long long)correct->numel);
    const float *theirs = wbt_parity_tensor(&f, "confusion", (int64_t)(nc + 1) * (nc + 1));
    for (int r = 0; r <= nc; r++)
        for (int c = 0; c <= nc; c++)
            ck_assert_msg(cm.counts[r * (nc + 1) + c] == theirs[r * (nc + 1) + c],
                          "%s: confusion[%d][%d] is %g, YOLOv5's %g", name, r, c, cm.counts[r * (nc + 1) + c],
                          (double)theirs[r * (nc + 1) + c]);
    wb_ap_result res;
    ck_assert_int_eq(wb_ap_per_class(&stats, &res), WB_OK);
    assert_result(&f, &res);
    printf("%s: %d images, %lld detections; mAP50 %.4f, mAP50-95 %.4f, P %.4f, R %.4f as YOLOv5\n", name, images,
           (long long)dets->shape[0], res.map50, res.map, res.mp, res.mr);
    wb_ap_result_free(&res);
    wb_confusion_free(&cm);
    wb_ap_stats_free(&stats);
    wb_st_free(&f);
}

START_TEST(test_metrics_match_yolov5) { check_metrics_case(_i); }
END_TEST

/* ap_per_class alone: correct bits that are not nested, ties in confidence. */
START_TEST(test_ap_per_class_matches_yolov5) {
    wb_st_file f;
    ck_assert(wbt_parity_open("yolo_ap_tp", &f));
    const wb_st_tensor *tp = tensor(&f, "tp"), *target = tensor(&f, "target_cls");
    const float *conf = wbt_parity_tensor(&f, "conf", tp->shape[0]), *cls = wbt_parity_tensor(&f, "pred_cls", tp->shape[0]);
    wb_ap_stats stats;
    ck_assert_int_eq(wb_ap_stats_init(&stats, 8), WB_OK);
    /* Rows as predictions of one image without labels, then the labels alone. */
    for (int64_t i = 0; i < tp->shape[0]; i++) {
        float box[4] = {0, 0, 1, 1};
        int c = (int)cls[i];
        ck_assert_int_eq(wb_ap_stats_add(&stats, box, &conf[i], &c, 1, NULL, NULL, 0), WB_OK);
        uint16_t bits = 0;
        for (int t = 0; t < WB_AP_IOUS; t++) bits |= (uint16_t)((tp->data[i * 10 + t] != 0.0f) << t);
        stats.correct[stats.n - 1] = bits;
    }
    for (int64_t j = 0; j < target->numel; j++) stats.targets[(int)target->data[j]]++;
    wb_ap_result res;
    ck_assert_int_eq(wb_ap_per_class(&stats, &res), WB_OK);
    assert_result(&f, &res);
    wb_ap_result_free(&res);
    wb_ap_stats_free(&stats);
    wb_st_free(&f);
}
END_TEST

/* Exact cases worked by hand: a label matched once even when two detections overlap it. */
START_TEST(test_match_takes_each_label_once) {
    float gt[] = {0, 0, 10, 10}, det[] = {0, 0, 10, 10, 0, 0, 10, 7.7f};
    int gc[] = {1}, dcls[] = {1, 1};
    uint16_t correct[2];
    wb_ap_match(det, dcls, 2, gt, gc, 1, correct);
    ck_assert_uint_eq(correct[0], 0x3ff); /* IoU 1: every threshold */
    ck_assert_uint_eq(correct[1], 0);     /* IoU 0.77 but the label is taken */
    dcls[0] = 0;                          /* another class: no longer a match */
    wb_ap_match(det, dcls, 2, gt, gc, 1, correct);
    ck_assert_uint_eq(correct[0], 0);
    ck_assert_uint_eq(correct[1], 0x3f);  /* IoU 0.77: thresholds 0.50 .. 0.75 */
}
END_TEST

int main(void) {
    char why[1024];
    Suite *s = suite_create("yolo_metrics");
    TCase *tc = tcase_create("yolo_metrics");
    tcase_add_test(tc, test_match_takes_each_label_once);
    bool skip = wbt_parity_unavailable("yolo_metrics_unavailable", why, sizeof why);
    if (!skip) {
        tcase_add_loop_test(tc, test_metrics_match_yolov5, 0, 3);
        tcase_add_test(tc, test_ap_per_class_matches_yolov5);
    }
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    if (rc == 0 && skip) {
        printf("SKIPPED: the comparison with YOLOv5's metrics: %s\n", why);
        return SKIP_EXIT_CODE;
    }
    return rc;
}
