/* random_affine against YOLOv5's own random_perspective (tests/parity/
 * gen_augment_yolov5.py) with the same draws: boxes, and which boxes
 * box_candidates keeps, within 1e-3 px; pixels within one grey level of the
 * same warp by cv2 (away from the image's edge, where cv2's 1/32-px
 * positions meet the step to the border colour) and of the exact float64
 * warp everywhere (8-bit: one level; float: 0.01), on 8-bit and float samples.
 * mosaic9 against YOLOv5's own load_mosaic9 with the same tile order and
 * window: the same canvas bytes, the same boxes within 1e-3 px. Skipped (77) with the reason
 * when the yolov5 package is absent. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/params.h"
#include "data/transforms_affine.h"
#include "data/transforms_mosaic9.h"
#include "wbtest.h"

#define SKIP_EXIT_CODE 77

static void check_case(const char *name, bool as_float) {
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) ck_abort_msg("parity case %s missing", name);
    const float *params = wbt_parity_tensor(&f, "params", 7), *d = wbt_parity_tensor(&f, "draws", 8);
    const wb_st_tensor *img_t = wb_st_find(&f, "image"), *out_t = wb_st_find(&f, "boxes");
    ck_assert_ptr_nonnull(img_t);
    ck_assert_ptr_nonnull(out_t);
    int h = (int)img_t->shape[0], w = (int)img_t->shape[1], ow = (int)params[5], oh = (int)params[6];
    int n_in = (int)wb_st_find(&f, "boxes_in")->shape[0], n_out = (int)out_t->shape[0];
    const float *img = wbt_parity_tensor(&f, "image", (int64_t)h * w * 3);
    const float *boxes_in = wbt_parity_tensor(&f, "boxes_in", 4 * n_in);
    const float *labels_in = wbt_parity_tensor(&f, "labels_in", n_in);
    const float *want_img = wbt_parity_tensor(&f, "warped", (int64_t)oh * ow * 3);
    const float *exact = wbt_parity_tensor(&f, "exact", (int64_t)oh * ow * 3);
    const float *edge = wbt_parity_tensor(&f, "edge", (int64_t)oh * ow);
    const float *want_boxes = wbt_parity_tensor(&f, "boxes", 4 * n_out);
    const float *want_labels = wbt_parity_tensor(&f, "labels", n_out);

    uint8_t *rgb = malloc((size_t)h * w * 3);
    int labels[16];
    for (int64_t i = 0; i < (int64_t)h * w * 3; i++) rgb[i] = (uint8_t)img[i];
    for (int i = 0; i < n_in; i++) labels[i] = (int)labels_in[i];
    wb_data_sample s = {0};
    ck_assert(wb_data_sample_load(&s, rgb, h, w, h, w, boxes_in, labels, NULL, n_in));
    if (as_float) ck_assert(wb_data_sample_to_float(&s));
    config_t cfg;
    config_init(&cfg);
    char text[512];
    snprintf(text, sizeof text,
             "degrees = %g; translate = %g; scale = %g; shear = %g; perspective = %g; size = [%d, %d];", params[0],
             params[1], params[2], params[3], params[4], ow, oh);
    ck_assert(config_read_string(&cfg, text));
    wb_affine_draw draw = {d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]};
    char err[256];
    ck_assert_msg(wb_random_affine_apply_draw(wb_params_of(config_root_setting(&cfg)), &draw, &s, err, sizeof err) ==
                      WB_OK, "%s", err);
    ck_assert_int_eq(s.w, ow);
    ck_assert_int_eq(s.h, oh);
    ck_assert_int_eq(s.num_boxes, n_out);
    for (int i = 0; i < n_out; i++) ck_assert_int_eq(s.labels[i], (int)want_labels[i]);
    wbt_assert_close(name, s.boxes, want_boxes, 4 * n_out, 1e-3, 0);
    double worst = 0, worst_exact = 0;
    int64_t n = (int64_t)oh * ow * 3, at = 0;
    for (int64_t i = 0; i < n; i++) {
        double v = as_float ? s.img[i] : s.img8[i];
        worst_exact = fmax(worst_exact, fabs(v - exact[i]));
        if (edge[i / 3] == 0 && fabs(v - want_img[i]) > worst) worst = fabs(v - want_img[i]), at = i;
    }
    printf("%s (%s): %d of %d boxes kept as YOLOv5; worst pixel difference %.3f grey levels from cv2 (off the "
           "edge), %.4f from the exact warp\n", name, as_float ? "float" : "8-bit", n_out, n_in, worst, worst_exact);
    ck_assert_msg(worst_exact <= (as_float ? 0.01 : 1.0), "%s: %.4f grey levels from the exact warp", name,
                  worst_exact);
    ck_assert_msg(worst <= 1.0, "%s: pixel (%lld, %lld) channel %lld differs by %.3f grey levels from cv2's warp (%g)",
                  name, (long long)(at / 3 % ow), (long long)(at / 3 / ow), (long long)(at % 3), worst,
                  (double)want_img[at]);
    config_destroy(&cfg);
    wb_data_sample_free(&s);
    free(rgb);
    wb_st_free(&f);
}

START_TEST(perspective_matches_yolov5) {
    check_case("augment_yolov5_perspective", false);
    check_case("augment_yolov5_perspective", true);
}
END_TEST

START_TEST(mosaic_crop_matches_yolov5) {
    check_case("augment_yolov5_mosaic_crop", false);
    check_case("augment_yolov5_mosaic_crop", true);
}
END_TEST

START_TEST(affine_matches_yolov5) {
    check_case("augment_yolov5_affine", false);
    check_case("augment_yolov5_affine", true);
}
END_TEST

static void check_mosaic9(const char *name) {
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) ck_abort_msg("parity case %s missing", name);
    const float *sizes = wbt_parity_tensor(&f, "tile_sizes", 18), *order = wbt_parity_tensor(&f, "order", 9);
    const float *tile_boxes = wbt_parity_tensor(&f, "tile_boxes", 9 * 2 * 4);
    const float *tile_labels = wbt_parity_tensor(&f, "tile_labels", 18), *offset = wbt_parity_tensor(&f, "offset", 2);
    int64_t total = 0;
    for (int t = 0; t < 9; t++) total += (int64_t)sizes[2 * t] * sizes[2 * t + 1] * 3;
    const float *pixels = wbt_parity_tensor(&f, "tiles", total);
    int n_out = (int)wb_st_find(&f, "boxes")->shape[0];
    const float *want_boxes = wbt_parity_tensor(&f, "boxes", 4 * n_out);
    const float *want_labels = wbt_parity_tensor(&f, "labels", n_out);
    const float *canvas = wbt_parity_tensor(&f, "canvas", 128 * 128 * 3);
    wb_data_sample tiles[9] = {{0}};
    wb_data_sample *laid[9];
    for (int t = 0, at = 0; t < 9; t++) {
        int w = (int)sizes[2 * t], h = (int)sizes[2 * t + 1];
        int labels[2] = {(int)tile_labels[2 * t], (int)tile_labels[2 * t + 1]};
        uint8_t *rgb = malloc((size_t)w * h * 3);
        for (int i = 0; i < w * h * 3; i++) rgb[i] = (uint8_t)pixels[at + i];
        at += w * h * 3;
        ck_assert(wb_data_sample_load(&tiles[t], rgb, h, w, h, w, tile_boxes + 8 * t, labels, NULL, 2));
        free(rgb);
    }
    for (int i = 0; i < 9; i++) laid[i] = &tiles[(int)order[i]];
    config_t cfg;
    config_init(&cfg);
    ck_assert(config_read_string(&cfg, "size = [64, 64];"));
    char err[256];
    ck_assert_msg(wb_mosaic9_compose(wb_params_of(config_root_setting(&cfg)), &tiles[0], laid, (int)offset[0],
                                     (int)offset[1], err, sizeof err) == WB_OK, "%s", err);
    wb_data_sample *s = &tiles[0];
    ck_assert_int_eq(s->w, 128);
    ck_assert_int_eq(s->h, 128);
    ck_assert_int_eq(s->tile_w, 64);
    int differ = 0;
    for (int i = 0; i < 128 * 128 * 3; i++) differ += s->img8[i] != (uint8_t)canvas[i];
    ck_assert_msg(differ == 0, "%s: %d canvas values differ from YOLOv5's", name, differ);
    ck_assert_int_eq(s->num_boxes, n_out);
    for (int k = 0; k < n_out; k++) { /* labels are unique: match boxes by label */
        int j = 0;
        while (j < s->num_boxes && s->labels[j] != (int)want_labels[k]) j++;
        ck_assert_msg(j < s->num_boxes, "%s: YOLOv5's box of label %g is missing", name, want_labels[k]);
        wbt_assert_close(name, s->boxes + 4 * j, want_boxes + 4 * k, 4, 1e-3, 0);
    }
    printf("%s: canvas equal to YOLOv5's, %d boxes equal\n", name, n_out);
    for (int t = 0; t < 9; t++) wb_data_sample_free(&tiles[t]);
    config_destroy(&cfg);
    wb_st_free(&f);
}

START_TEST(mosaic9_matches_yolov5) {
    check_mosaic9("augment_yolov5_mosaic9_in_order");
    check_mosaic9("augment_yolov5_mosaic9_shuffled");
}
END_TEST

int main(void) {
    char why[1024];
    if (wbt_parity_unavailable("augment_yolov5_unavailable", why, sizeof why)) {
        printf("SKIPPED: random_affine parity with YOLOv5's random_perspective not run: %s\n", why);
        return SKIP_EXIT_CODE;
    }
    Suite *s = suite_create("augment_yolov5");
    TCase *tc = tcase_create("random_perspective");
    tcase_add_test(tc, perspective_matches_yolov5);
    tcase_add_test(tc, mosaic_crop_matches_yolov5);
    tcase_add_test(tc, affine_matches_yolov5);
    tcase_add_test(tc, mosaic9_matches_yolov5);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
