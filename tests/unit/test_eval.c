/* COCO and VOC evaluation on small cases whose numbers are derived by hand
 * below (the large cases against pycocotools and mmdetection's formula are in
 * tests/eval). Expected values are exact fractions; 1e-12 covers the rounding
 * of a mean of a few hundred doubles. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eval/coco_json.h"
#include "eval/voc_eval.h"
#include "wbtest.h"

#define HANDMADE_GT WB_SOURCE_DIR "/tests/eval/data/handmade_gt.json"
#define HANDMADE_RESULTS WB_SOURCE_DIR "/tests/eval/data/handmade_results.json"
#define EXACT 1e-12

static void load_handmade(wb_coco_gt *gt, wb_coco_detection **dets, size_t *n) {
    char err[512];
    ck_assert_msg(wb_coco_gt_load(HANDMADE_GT, gt, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_msg(wb_coco_results_load(HANDMADE_RESULTS, dets, n, err, sizeof err) == WB_OK, "%s", err);
}

/* handmade_gt.json / handmade_results.json:
 * car (id 3): GT 10x10 on image 10 and 20x20 on image 20. Detections by
 *   score: 0.95 far away (FP), 0.9 exact on image 10 (TP), 0.8 the top half
 *   of the 20x20 box (IoU 200/400 = 0.5: TP at IoU 0.5 only).
 *   IoU .5: precision 0, 1/2, 2/3 at recall 0, 1/2, 1 -> envelope 2/3 everywhere: AP 2/3.
 *   IoU >= .55: precision 0, 1/2, 1/3 at recall 0, 1/2, 1/2 -> 1/2 for the 51
 *   recall thresholds 0..0.50, 0 for the other 50: AP 25.5/101.
 *   AP = (2/3 + 9 * 25.5/101) / 10; recall (1 + 9 * 0.5) / 10 = 0.55.
 * train (id 7): one GT found exactly (0.7), two detections inside a crowd
 *   region (ignored, crowd matches many times): AP 1, recall 1.
 * A detection of category 5 (not in the ground truth) is dropped.
 * Every object is small (area <= 32^2); the medium crowd region is ignored. */
START_TEST(test_coco_handmade_case) {
    wb_coco_gt gt;
    wb_coco_detection *dets;
    size_t n;
    load_handmade(&gt, &dets, &n);
    wb_coco_summary s;
    char err[512];
    ck_assert_msg(wb_coco_evaluate(&gt, dets, n, &s, err, sizeof err) == WB_OK, "%s", err);

    const double car = (2.0 / 3.0 + 9 * 25.5 / 101) / 10, ap = (car + 1) / 2;
    const double expect[WB_COCO_NUM_STATS] = {
        ap, (2.0 / 3.0 + 1) / 2, (25.5 / 101 + 1) / 2, ap, -1, -1,
        (0.5 + 1) / 2,  /* AR1: one detection per image and category: car finds 1 of 2 */
        (0.55 + 1) / 2, (0.55 + 1) / 2, (0.55 + 1) / 2, -1, -1};
    for (int i = 0; i < WB_COCO_NUM_STATS; i++)
        ck_assert_msg(fabs(s.stats[i] - expect[i]) <= EXACT, "%s = %.17g, expected %.17g", wb_coco_stat_names[i],
                      s.stats[i], expect[i]);
    ck_assert_int_eq(s.n_categories, 2);
    ck_assert(s.category_ids[0] == 3 && s.category_ids[1] == 7);
    ck_assert(fabs(s.category_ap[0] - car) <= EXACT && fabs(s.category_ap[1] - 1) <= EXACT);
    ck_assert_int_eq(s.category_gt[0], 2);
    ck_assert_int_eq(s.category_gt[1], 1);   /* the crowd region is not an object */
    ck_assert_int_eq((int)s.n_detections_unknown_category, 1);
    ck_assert_int_eq((int)s.n_detections_used, 6);
    wb_coco_summary_free(&s);
    free(dets);
    wb_coco_gt_free(&gt);
}
END_TEST

/* The trainer's path (arrays in memory) gives the same numbers as the files,
 * whatever the order of the detections. */
START_TEST(test_coco_in_memory_matches_files_any_order) {
    wb_coco_gt gt;
    wb_coco_detection *dets;
    size_t n;
    load_handmade(&gt, &dets, &n);
    wb_coco_summary a, b;
    char err[512];
    ck_assert(wb_coco_evaluate(&gt, dets, n, &a, err, sizeof err) == WB_OK);
    /* Reversed. The only tie in a cell is between two detections in the crowd region, both ignored. */
    for (size_t i = 0; i < n / 2; i++) {
        wb_coco_detection t = dets[i];
        dets[i] = dets[n - 1 - i];
        dets[n - 1 - i] = t;
    }
    ck_assert(wb_coco_evaluate(&gt, dets, n, &b, err, sizeof err) == WB_OK);
    for (int i = 0; i < WB_COCO_NUM_STATS; i++) ck_assert(a.stats[i] == b.stats[i]);
    wb_coco_summary_free(&a);
    wb_coco_summary_free(&b);
    free(dets);
    wb_coco_gt_free(&gt);
}
END_TEST

START_TEST(test_coco_no_detections_scores_zero) {
    wb_coco_gt gt;
    wb_coco_detection *dets;
    size_t n;
    load_handmade(&gt, &dets, &n);
    wb_coco_summary s;
    char err[512];
    ck_assert(wb_coco_evaluate(&gt, NULL, 0, &s, err, sizeof err) == WB_OK);
    ck_assert(s.stats[0] == 0 && s.stats[8] == 0);
    ck_assert(s.stats[4] == -1);   /* no medium object: -1, as pycocotools */
    wb_coco_summary_free(&s);
    free(dets);
    wb_coco_gt_free(&gt);
}
END_TEST

START_TEST(test_coco_detection_on_unknown_image_is_an_error) {
    wb_coco_gt gt;
    wb_coco_detection *dets;
    size_t n;
    load_handmade(&gt, &dets, &n);
    dets[2].image_id = 99;
    wb_coco_summary s;
    char err[512];
    ck_assert_int_eq(wb_coco_evaluate(&gt, dets, n, &s, err, sizeof err), WB_ERR_INVALID);
    ck_assert_msg(strstr(err, "detection 2") && strstr(err, "image id 99"), "message: %s", err);
    dets[2].image_id = 20;
    dets[1].score = NAN;
    ck_assert_int_eq(wb_coco_evaluate(&gt, dets, n, &s, err, sizeof err), WB_ERR_NUMERIC);
    free(dets);
    wb_coco_gt_free(&gt);
}
END_TEST

START_TEST(test_coco_results_round_trip_exactly) {
    const wb_coco_detection in[2] = {{42, 3, 0.1, 1.0 / 3.0, 1e-7, 12345.678901234567, 0.123456789012345678},
                                     {7, 90, -0.0, 2, 3, 4, 1}};
    char path[] = "/tmp/wb_eval_results_XXXXXX", err[512];
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    ck_assert_msg(wb_coco_results_save(path, in, 2, err, sizeof err) == WB_OK, "%s", err);
    wb_coco_detection *out;
    size_t n;
    ck_assert_msg(wb_coco_results_load(path, &out, &n, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq((int)n, 2);
    ck_assert(memcmp(&in[0], &out[0], sizeof in[0]) == 0);
    ck_assert(out[1].image_id == 7 && out[1].category_id == 90 && out[1].w == 3 && out[1].score == 1);
    free(out);
    remove(path);
}
END_TEST

START_TEST(test_coco_bad_files_name_the_problem) {
    wb_coco_gt gt;
    char err[512];
    ck_assert_int_eq(wb_coco_gt_load("/nonexistent/instances.json", &gt, err, sizeof err), WB_ERR_IO);
    ck_assert_msg(strstr(err, "/nonexistent/instances.json"), "message: %s", err);
    /* A results file is not an instances file and vice versa. */
    ck_assert_int_eq(wb_coco_gt_load(HANDMADE_RESULTS, &gt, err, sizeof err), WB_ERR_IO);
    ck_assert_msg(strstr(err, "not a COCO instances file"), "message: %s", err);
    wb_coco_detection *dets;
    size_t n;
    ck_assert_int_eq(wb_coco_results_load(HANDMADE_GT, &dets, &n, err, sizeof err), WB_ERR_IO);
    ck_assert_msg(strstr(err, "JSON array"), "message: %s", err);
}
END_TEST

/* One image. Class 0: GT a = [0,0,9,9] (10x10 pixels in VOC's convention),
 * b = [40,0,49,9] never found, c = [20,20,29,29] difficult. Detections by
 * score: 0.9 the top half of a ([0,0,9,4]: 50 / 100 pixels = IoU 0.5
 * exactly, a TP only with the +1 convention), 0.8 on c (neither TP nor FP),
 * 0.7 nowhere (FP), 0.6 on a again (FP). Recall 1/2 throughout, precision
 * 1, 1, 1/2, 1/3. Area: 1/2 * 1 = 0.5. 11-point: thresholds 0..0.5 reach
 * precision 1, the other five nothing: 6/11. Class 1 has a detection but no
 * ground truth: AP 0 and left out of the mean. */
START_TEST(test_voc_handmade_case) {
    const wb_voc_box gts[3] = {{.x1 = 0, .y1 = 0, .x2 = 9, .y2 = 9},
                               {.x1 = 40, .y1 = 0, .x2 = 49, .y2 = 9},
                               {.x1 = 20, .y1 = 20, .x2 = 29, .y2 = 29, .difficult = true}};
    const wb_voc_box dets[5] = {{.x1 = 0, .y1 = 0, .x2 = 9, .y2 = 4, .score = 0.9},
                                {.x1 = 20, .y1 = 20, .x2 = 29, .y2 = 29, .score = 0.8},
                                {.x1 = 60, .y1 = 60, .x2 = 69, .y2 = 69, .score = 0.7},
                                {.x1 = 0, .y1 = 0, .x2 = 9, .y2 = 9, .score = 0.6},
                                {.label = 1, .x1 = 0, .y1 = 0, .x2 = 9, .y2 = 9, .score = 0.5}};
    wb_voc_class_result r[2];
    double map;
    char err[256];
    ck_assert_msg(wb_voc_evaluate(gts, 3, dets, 5, 1, 2, 0.5, WB_VOC_AP_AREA, r, &map, err, sizeof err) == WB_OK,
                  "%s", err);
    ck_assert_int_eq(r[0].num_gts, 2);
    ck_assert_int_eq(r[0].num_dets, 4);
    ck_assert(fabs(r[0].recall - 0.5) <= EXACT && fabs(r[0].ap - 0.5) <= EXACT);
    ck_assert(r[1].num_gts == 0 && r[1].num_dets == 1 && r[1].ap == 0);
    ck_assert(fabs(map - 0.5) <= EXACT);
    ck_assert(wb_voc_evaluate(gts, 3, dets, 5, 1, 2, 0.5, WB_VOC_AP_11POINT, r, &map, err, sizeof err) == WB_OK);
    ck_assert(fabs(r[0].ap - 6.0 / 11.0) <= EXACT && fabs(map - 6.0 / 11.0) <= EXACT);
}
END_TEST

START_TEST(test_voc_label_out_of_range_is_an_error) {
    const wb_voc_box det = {.label = 3, .x2 = 1, .y2 = 1, .score = 1};
    wb_voc_class_result r[2];
    double map;
    char err[256];
    ck_assert_int_eq(wb_voc_evaluate(NULL, 0, &det, 1, 1, 2, 0.5, WB_VOC_AP_AREA, r, &map, err, sizeof err),
                     WB_ERR_INVALID);
    ck_assert_msg(strstr(err, "label 3"), "message: %s", err);
}
END_TEST

int main(void) {
    Suite *s = suite_create("eval");
    TCase *coco = tcase_create("coco");
    tcase_add_test(coco, test_coco_handmade_case);
    tcase_add_test(coco, test_coco_in_memory_matches_files_any_order);
    tcase_add_test(coco, test_coco_no_detections_scores_zero);
    tcase_add_test(coco, test_coco_detection_on_unknown_image_is_an_error);
    tcase_add_test(coco, test_coco_results_round_trip_exactly);
    tcase_add_test(coco, test_coco_bad_files_name_the_problem);
    suite_add_tcase(s, coco);
    TCase *voc = tcase_create("voc");
    tcase_add_test(voc, test_voc_handmade_case);
    tcase_add_test(voc, test_voc_label_out_of_range_is_an_error);
    suite_add_tcase(s, voc);
    return wbt_run_suite(s);
}
