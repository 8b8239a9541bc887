/* evolve.csv's result columns from a generation's log.json
 * (core/app/evolve_metrics.c): the last validation line's YOLOv5 metrics,
 * and its validation losses val/loss_box, val/loss_obj, val/loss_cls under
 * YOLOv5's val/box_loss, val/obj_loss, val/cls_loss; 0 and named as missing
 * where the head has no such term. */
#include <stdio.h>
#include <string.h>
#include "app/evolve_metrics.h"
#include "wbtest.h"

#define LOG WB_BINARY_DIR "/test_evolve_metrics_log.json"

static void write_log(const char *text) {
    FILE *f = fopen(LOG, "w");
    ck_assert(f != NULL);
    fputs(text, f);
    fclose(f);
}

START_TEST(test_val_losses_map_onto_yolov5_columns) {
    write_log("{\"mode\": \"train\", \"epoch\": 1, \"iter\": 4, \"lr\": 1e-2, \"loss_box\": 9.0, \"loss\": 9.0}\n"
              "{\"mode\": \"val\", \"epoch\": 1, \"precision\": 0.1, \"recall\": 0.2, \"mAP_0.5\": 0.3, "
              "\"mAP_0.5:0.95\": 0.1, \"val/loss_box\": 5.0, \"val/loss_obj\": 6.0, \"val/loss_cls\": 7.0}\n"
              "{\"mode\": \"val\", \"epoch\": 2, \"precision\": 0.5, \"recall\": 0.6, \"mAP_0.5\": 0.7, "
              "\"mAP_0.5:0.95\": 0.4, \"val/loss_box\": 0.125, \"val/loss_obj\": 0.25, \"val/loss_cls\": 0.375, "
              "\"val/loss\": 0.75}\n");
    double r[WB_EVOLVE_N_RESULTS];
    char missing[256], err[512];
    ck_assert_msg(wb_evolve_read_results(LOG, r, missing, sizeof missing, err, sizeof err) == 0, "%s", err);
    const double want[WB_EVOLVE_N_RESULTS] = {0.5, 0.6, 0.7, 0.4, 0.125, 0.25, 0.375};
    for (int c = 0; c < WB_EVOLVE_N_RESULTS; c++)
        ck_assert_msg(r[c] == want[c], "%s: %g, the last val line says %g", wb_evolve_result_names[c], r[c], want[c]);
    ck_assert_str_eq(missing, "");
}
END_TEST

START_TEST(test_head_without_the_terms_gives_zeros) {
    /* center_head's terms: loss_cls only of YOLOv5's three */
    write_log("{\"mode\": \"val\", \"epoch\": 1, \"bbox_mAP\": 0.2, \"bbox_mAP_50\": 0.4, \"val/loss_cls\": 0.5, "
              "\"val/loss_bbox\": 0.75, \"val/loss\": 1.25}\n");
    double r[WB_EVOLVE_N_RESULTS];
    char missing[256], err[512];
    ck_assert_msg(wb_evolve_read_results(LOG, r, missing, sizeof missing, err, sizeof err) == 0, "%s", err);
    const double want[WB_EVOLVE_N_RESULTS] = {0, 0, 0.4, 0.2, 0, 0, 0.5};
    for (int c = 0; c < WB_EVOLVE_N_RESULTS; c++)
        ck_assert_msg(r[c] == want[c], "%s: %g, expected %g", wb_evolve_result_names[c], r[c], want[c]);
    ck_assert_str_eq(missing, "metrics/precision, metrics/recall, val/box_loss, val/obj_loss");
}
END_TEST

int main(void) {
    Suite *s = suite_create("evolve_metrics");
    TCase *tc = tcase_create("evolve_metrics");
    tcase_add_test(tc, test_val_losses_map_onto_yolov5_columns);
    tcase_add_test(tc, test_head_without_the_terms_gives_zeros);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    remove(LOG);
    return rc;
}
