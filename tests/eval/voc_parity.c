/* VOC mAP (core/eval/voc_eval) against the float64 re-implementation of
 * mmdetection's eval_map in voc_case.py, on BCCD val with jittered
 * detections, both AP variants. Same formula in float64 on both sides; only
 * numpy's pairwise summation order differs, so 1e-9 is generous (the brief
 * asks for 1e-6). */
#include <check.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "eval/eval_table.h"
#include "eval/voc_eval.h"
#include "wbtest.h"

static cJSON *load_case(void) {
    const char *path = WB_EVAL_VOC_CASE;
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s is missing: the fixture eval_voc_case (tests/eval/voc_case.py) writes it", path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    ck_assert(text && fread(text, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    cJSON *root = cJSON_ParseWithLength(text, (size_t)size);
    free(text);
    ck_assert_msg(root != NULL, "%s is not valid JSON", path);
    return root;
}

/* rows of [image, label, x1, y1, x2, y2, difficult-or-score] */
static wb_voc_box *boxes(const cJSON *rows, bool ground_truth, size_t *n) {
    *n = (size_t)cJSON_GetArraySize(rows);
    wb_voc_box *b = calloc(*n + 1, sizeof *b);
    size_t i = 0;
    const cJSON *row;
    cJSON_ArrayForEach(row, rows) {
        double v[7];
        for (int k = 0; k < 7; k++) v[k] = cJSON_GetArrayItem(row, k)->valuedouble;
        b[i++] = (wb_voc_box){.image = (int)v[0], .label = (int)v[1], .x1 = v[2], .y1 = v[3], .x2 = v[4],
                              .y2 = v[5], .difficult = ground_truth && v[6] != 0, .score = ground_truth ? 0 : v[6]};
    }
    return b;
}

static void check_mode(const char *mode_name, wb_voc_ap_mode mode) {
    cJSON *root = load_case();
    size_t n_gts, n_dets;
    wb_voc_box *gts = boxes(cJSON_GetObjectItem(root, "gts"), true, &n_gts);
    wb_voc_box *dets = boxes(cJSON_GetObjectItem(root, "dets"), false, &n_dets);
    const cJSON *classes = cJSON_GetObjectItem(root, "classes");
    int n_classes = cJSON_GetArraySize(classes), n_images = cJSON_GetObjectItem(root, "n_images")->valueint;
    const cJSON *expected = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "expected"), mode_name);

    wb_voc_class_result per_class[8];
    ck_assert_int_le(n_classes, 8);
    double mean_ap = -1;
    char err[256];
    ck_assert_int_eq(wb_voc_evaluate(gts, n_gts, dets, n_dets, n_images, n_classes, 0.5, mode, per_class,
                                     &mean_ap, err, sizeof err), WB_OK);
    const char *names[8];
    for (int c = 0; c < n_classes; c++) names[c] = cJSON_GetArrayItem(classes, c)->valuestring;
    printf("%s (%zu ground-truth boxes, %zu detections):\n", mode_name, n_gts, n_dets);
    wb_voc_print_table(stdout, names, per_class, n_classes, mean_ap);

    for (int c = 0; c < n_classes; c++) {
        const cJSON *want = cJSON_GetArrayItem(cJSON_GetObjectItem(expected, "per_class"), c);
        ck_assert_int_eq(per_class[c].num_gts, cJSON_GetObjectItem(want, "num_gts")->valueint);
        ck_assert_int_eq(per_class[c].num_dets, cJSON_GetObjectItem(want, "num_dets")->valueint);
        double ap = cJSON_GetObjectItem(want, "ap")->valuedouble;
        double recall = cJSON_GetObjectItem(want, "recall")->valuedouble;
        ck_assert_msg(fabs(per_class[c].ap - ap) <= 1e-9, "%s %s AP %.17g, reference %.17g", mode_name, names[c],
                      per_class[c].ap, ap);
        ck_assert_msg(fabs(per_class[c].recall - recall) <= 1e-12, "%s recall %.17g, reference %.17g", names[c],
                      per_class[c].recall, recall);
    }
    double want_map = cJSON_GetObjectItem(expected, "map")->valuedouble;
    ck_assert_msg(fabs(mean_ap - want_map) <= 1e-9, "%s mAP %.17g, reference %.17g", mode_name, mean_ap, want_map);
    free(gts);
    free(dets);
    cJSON_Delete(root);
}

START_TEST(test_voc_area_matches_mmdet_formula) { check_mode("area", WB_VOC_AP_AREA); }
END_TEST

START_TEST(test_voc_11point_matches_mmdet_formula) { check_mode("11points", WB_VOC_AP_11POINT); }
END_TEST

int main(void) {
    Suite *s = suite_create("eval_voc_parity");
    TCase *tc = tcase_create("bccd_val");
    tcase_add_test(tc, test_voc_area_matches_mmdet_formula);
    tcase_add_test(tc, test_voc_11point_matches_mmdet_formula);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
