/* resize's sampling = "tf_legacy": the float and 8-bit kernels against
 * TensorFlow 1's resize_bilinear written out in numpy (gen_resize_sampling.py),
 * the transform's option reaching the kernel, and its refusal of unknown
 * values. (half_pixel, the default, is test_transforms' torch parity.) */
#include <libconfig.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "config/params.h"
#include "data/bilinear.h"
#include "data/transforms.h"
#include "data/transforms_types.h"
#include "wbtest.h"

enum { H = 13, W = 17 };
static const int SIZES[][2] = {{5, 7}, {32, 40}, {13, 51}, {29, 6}};
#define N_SIZES ((int)(sizeof SIZES / sizeof *SIZES))

/* Loop index: one output size of the generator. */
START_TEST(tf_legacy_matches_tensorflow_formula) {
    int oh = SIZES[_i][0], ow = SIZES[_i][1];
    char name[64];
    snprintf(name, sizeof name, "resize_tf_legacy_%dx%d", oh, ow);
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) return;
    const float *src = wbt_parity_tensor(&f, "src", H * W * 3), *want = wbt_parity_tensor(&f, "dst", oh * ow * 3);
    uint8_t src8[H * W * 3];
    for (int i = 0; i < H * W * 3; i++) src8[i] = (uint8_t)src[i];
    float *got = malloc((size_t)oh * ow * 3 * sizeof(float)), *half = malloc((size_t)oh * ow * 3 * sizeof(float));
    uint8_t *got8 = malloc((size_t)oh * ow * 3);
    ck_assert(wb_resize_bilinear_f32_sampled(src, H, W, got, oh, ow, WB_RESIZE_TF_LEGACY));
    ck_assert(wb_resize_bilinear_u8_sampled(src8, H, W, got8, oh, ow, WB_RESIZE_TF_LEGACY));
    ck_assert(wb_resize_bilinear_f32(src, H, W, half, oh, ow));
    /* float32 positions and lerps against TF.js's doubles: a few 1e-5 on 0..255 */
    wbt_assert_close(name, got, want, oh * ow * 3, 1e-3, 1e-6);
    double worst8 = 0, moved = 0;
    for (int i = 0; i < oh * ow * 3; i++) {
        worst8 = fmax(worst8, fabs(got8[i] - want[i]));
        moved = fmax(moved, fabs(half[i] - want[i]));
    }
    fprintf(stderr, "  %s: float max |diff| %.3g, 8-bit %.3g levels, half_pixel differs by up to %.1f\n", name,
            wbt_max_abs_diff(got, want, oh * ow * 3), worst8, moved);
    ck_assert_msg(worst8 <= 0.65, "%s: 8-bit off by %g levels", name, worst8);
    ck_assert_msg(moved > 1.0, "%s: half_pixel gives the same pixels, so the case tells nothing", name);
    free(got);
    free(half);
    free(got8);
    wb_st_free(&f);
}
END_TEST

static wb_status one_resize(const char *text, wb_data_sample *s, char *err, size_t n) {
    config_t cfg;
    config_init(&cfg);
    ck_assert_msg(config_read_string(&cfg, text), "bad test config: %s", config_error_text(&cfg));
    wb_pipeline *p = wb_pipeline_empty();
    wb_status st = wb_pipeline_add(p, "resize", wb_params_of(config_root_setting(&cfg)), err, n);
    uint64_t rng = wb_transform_rng(1, 0, 0);
    if (st == WB_OK) st = wb_pipeline_apply(p, 0, -1, s, &rng, NULL, err, n);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);
    return st;
}

/* The transform on float pixels gives the kernel's tf_legacy output; boxes scale by out / in as with half_pixel. */
START_TEST(resize_transform_takes_sampling) {
    uint8_t rgb[H * W * 3];
    float src[H * W * 3], want[20 * 30 * 3];
    for (int i = 0; i < H * W * 3; i++) rgb[i] = (uint8_t)(i * 37 % 251), src[i] = rgb[i];
    float box[4] = {1, 2, 9, 11};
    int label = 0;
    uint8_t ignore = 0;
    wb_data_sample s = {0};
    ck_assert(wb_data_sample_load(&s, rgb, H, W, H, W, box, &label, &ignore, 1));
    ck_assert(wb_data_sample_to_float(&s));
    char err[512];
    ck_assert_msg(one_resize("scale = [30, 20]; keep_ratio = false; sampling = \"tf_legacy\";", &s, err,
                             sizeof err) == WB_OK, "%s", err);
    ck_assert(wb_resize_bilinear_f32_sampled(src, H, W, want, 20, 30, WB_RESIZE_TF_LEGACY));
    ck_assert(s.w == 30 && s.h == 20 && s.is_float);
    ck_assert_msg(memcmp(s.img, want, sizeof want) == 0, "the transform's pixels are not the tf_legacy kernel's");
    ck_assert(fabsf(s.boxes[0] - 1.0f * 30 / W) < 1e-5f && fabsf(s.boxes[3] - 11.0f * 20 / H) < 1e-5f);
    wb_data_sample_free(&s);
    wb_data_sample t = {0};
    ck_assert(wb_data_sample_load(&t, rgb, H, W, H, W, box, &label, &ignore, 1));
    ck_assert(one_resize("scale = [30, 20]; keep_ratio = false; sampling = \"tf\";", &t, err, sizeof err) ==
              WB_ERR_INVALID);
    ck_assert_msg(strstr(err, "\"half_pixel\" or \"tf_legacy\""), "unexpected message: %s", err);
    wb_data_sample_free(&t);
}
END_TEST

int main(void) {
    Suite *s = suite_create("resize_sampling");
    TCase *t = tcase_create("resize_sampling");
    tcase_add_loop_test(t, tf_legacy_matches_tensorflow_formula, 0, N_SIZES);
    tcase_add_test(t, resize_transform_takes_sampling);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
