/* Transform pipeline: box/image consistency of every geometric transform,
 * flips, letterbox inverse, resize sizes (mmcv/YOLOv5 formulas) and pixels
 * (torch bilinear parity), the 8-bit kernels against the float ones and HSV
 * against a double-precision reference, colour transforms, parameters from
 * a config. Samples start 8-bit; tests of float paths widen them first. */
#include <libconfig.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "config/params.h"
#include "data/bilinear.h"
#include "data/hsv.h"
#include "data/transforms.h"
#include "data/transforms_types.h"
#include "wbtest.h"

/* Channel c of pixel (x, y), whatever the sample's pixel type. */
static float pixel(const wb_data_sample *s, int x, int y, int c) {
    size_t i = ((size_t)y * s->w + x) * 3 + c;
    return s->is_float ? s->img[i] : (float)s->img8[i];
}

/* A w x h black image with one white filled box at integer corners (the
 * pixels whose centres fall inside it) and a second, ignored box. */
static void make_box_sample(wb_data_sample *s, int w, int h, const float box[4]) {
    uint8_t *rgb = calloc((size_t)w * h * 3, 1);
    for (int y = (int)box[1]; y < (int)box[3]; y++)
        for (int x = (int)box[0]; x < (int)box[2]; x++) memset(rgb + ((size_t)y * w + x) * 3, 255, 3);
    float boxes[8] = {box[0], box[1], box[2], box[3], 0, 0, 5, 5};
    int labels[2] = {3, 1};
    uint8_t ignore[2] = {0, 1};
    ck_assert(wb_data_sample_load(s, rgb, h, w, h, w, boxes, labels, ignore, 2));
    free(rgb);
}

/* IoU between the bright pixels and the pixels whose centres are in box 0. */
static double mask_iou(const wb_data_sample *s) {
    const float *b = s->boxes;
    int64_t inter = 0, uni = 0;
    for (int y = 0; y < s->h; y++)
        for (int x = 0; x < s->w; x++) {
            bool bright = pixel(s, x, y, 0) > 127.0f;
            bool inside = x + 0.5f > b[0] && x + 0.5f < b[2] && y + 0.5f > b[1] && y + 0.5f < b[3];
            inter += bright && inside;
            uni += bright || inside;
        }
    return uni ? (double)inter / (double)uni : 0.0;
}

static wb_pipeline *one_step(const char *type, const char *config_text, config_t *cfg) {
    config_init(cfg);
    ck_assert_msg(config_read_string(cfg, config_text), "bad test config: %s", config_error_text(cfg));
    const wb_params *p = wb_params_of(config_root_setting(cfg));
    char err[512];
    wb_pipeline *pipe = wb_pipeline_empty();
    ck_assert_msg(wb_pipeline_add(pipe, type, p, err, sizeof err) == WB_OK, "%s: %s", type, err);
    return pipe;
}

static void run(const wb_pipeline *p, wb_data_sample *s, uint64_t seed) {
    char err[512];
    uint64_t rng = wb_transform_rng(seed, 0, 0);
    ck_assert_msg(wb_pipeline_apply(p, 0, -1, s, &rng, NULL, err, sizeof err) == WB_OK, "%s", err);
}

/* Every geometric transform keeps the box on the drawn object, on 8-bit and
 * on float pixels (IoU >= 0.9;
 * bilinear edges blur one pixel ring, so 0.9 leaves room for a 20-px box
 * shrunk to a few pixels' border but catches any off-by-scale or flip bug). */
START_TEST(geometric_transforms_keep_boxes_on_pixels) {
    static const struct {
        const char *type, *cfg;
    } cases[] = {
        {"resize", "scale = [1333, 800]; keep_ratio = true;"},
        {"resize", "scale = [64, 200]; keep_ratio = false;"},
        {"resize", "scale = [300, 50]; keep_ratio = true;"},
        {"letterbox", "size = [640, 640];"},
        {"letterbox", "size = [320, 256]; auto = true; stride = 32;"},
        {"letterbox", "size = [100, 100]; scale_up = false;"},
        {"random_flip", "prob = 1.0; direction = \"horizontal\";"},
        {"random_flip", "prob = 1.0; direction = \"vertical\";"},
        {"pad", "size_divisor = 32;"},
        {"pad", "size = [300, 200]; size_divisor = 0;"},
        {"random_crop", "crop_size = [60, 50];"},
        {"random_affine", "degrees = 0.0; scale = 0.3; translate = 0.1; shear = 0.0;"},
    };
    const float box[4] = {30, 20, 70, 60};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        config_t cfg;
        wb_pipeline *p = one_step(cases[i].type, cases[i].cfg, &cfg);
        bool may_cut = strncmp(cases[i].type, "random_", 7) == 0 && strcmp(cases[i].type, "random_flip") != 0;
        for (uint64_t seed = 0; seed < 5; seed++) {
            wb_data_sample s = {0};
            make_box_sample(&s, 120, 90, box);
            if (seed % 2) ck_assert(wb_data_sample_to_float(&s)); /* both pixel types */
            run(p, &s, seed);
            /* the ignored corner box travels along, still ignored, unless cut away */
            if (!may_cut) ck_assert_int_eq(s.num_boxes, 2);
            ck_assert(s.num_boxes >= 1 && s.labels[0] == 3 && s.ignore[0] == 0);
            if (s.num_boxes == 2) ck_assert(s.labels[1] == 1 && s.ignore[1] == 1);
            double iou = mask_iou(&s);
            ck_assert_msg(iou >= 0.9, "%s {%s} seed %d: mask IoU %.3f < 0.9 (box %.1f %.1f %.1f %.1f, image %dx%d)",
                          cases[i].type, cases[i].cfg, (int)seed, iou, s.boxes[0], s.boxes[1], s.boxes[2],
                          s.boxes[3], s.w, s.h);
            wb_data_sample_free(&s);
        }
        wb_pipeline_destroy(p);
        config_destroy(&cfg);
    }
}
END_TEST

/* With rotation and shear a re-fitted box is the bounding box of the warped
 * corners: every object pixel lies inside it (1 px for bilinear edges), and
 * it is not much larger than needed (a 10-degree turn of a square needs at
 * most 1/(cos + sin)^2 = 0.74 fill, shear adds a little: 0.6 as the floor). */
START_TEST(affine_refit_boxes_cover_rotated_objects) {
    config_t cfg;
    wb_pipeline *p = one_step("random_affine", "degrees = 10.0; shear = 2.0; scale = 0.2; translate = 0.05;", &cfg);
    const float box[4] = {40, 25, 80, 65};
    for (uint64_t seed = 0; seed < 10; seed++) {
        wb_data_sample s = {0};
        make_box_sample(&s, 120, 90, box);
        if (seed % 2) ck_assert(wb_data_sample_to_float(&s)); /* both pixel types */
        run(p, &s, seed);
        ck_assert(s.num_boxes >= 1 && s.labels[0] == 3);
        const float *b = s.boxes;
        int64_t bright = 0;
        for (int y = 0; y < s.h; y++)
            for (int x = 0; x < s.w; x++) {
                if (pixel(&s, x, y, 0) <= 127.0f) continue;
                bright++;
                ck_assert_msg(x + 0.5f > b[0] - 1 && x + 0.5f < b[2] + 1 && y + 0.5f > b[1] - 1 && y + 0.5f < b[3] + 1,
                              "seed %d: object pixel (%d, %d) outside box %.1f %.1f %.1f %.1f", (int)seed, x, y,
                              b[0], b[1], b[2], b[3]);
            }
        double fill = (double)bright / ((b[2] - b[0]) * (b[3] - b[1]));
        ck_assert_msg(fill > 0.6, "seed %d: box %.1f %.1f %.1f %.1f is loose, fill %.2f", (int)seed, b[0], b[1],
                      b[2], b[3], fill);
        wb_data_sample_free(&s);
    }
    wb_pipeline_destroy(p);
    config_destroy(&cfg);
}
END_TEST

/* A sample source for mosaic outside the loader: item i is a 70x50 image
 * with a white box whose place depends on i. */
typedef struct tile_source {
    wb_data_sample slots[WB_MAX_EXTRA_SAMPLES];
} tile_source;

static void tile_box(int64_t i, float box[4]) {
    box[0] = 5.0f + (float)(i % 4) * 10.0f, box[1] = 4.0f + (float)(i % 3) * 8.0f;
    box[2] = box[0] + 20.0f, box[3] = box[1] + 16.0f;
}

static wb_status load_tile(void *user, int slot, int64_t index, int step, uint64_t rng, wb_data_sample **out,
                           char *err, size_t n) {
    (void)step, (void)rng, (void)err, (void)n;
    tile_source *t = user;
    float box[4];
    tile_box(index, box);
    make_box_sample(&t->slots[slot], 70, 50, box);
    *out = &t->slots[slot];
    return WB_OK;
}

/* Mosaic: 4 tiles of drawn boxes on a 2x canvas. Each kept, unclipped-enough
 * box must be >= 90% bright inside, and the bright pixels must be the
 * union of the boxes (IoU >= 0.9), so no tile's boxes went to another place. */
START_TEST(mosaic_keeps_every_tile_consistent) {
    config_t cfg;
    wb_pipeline *p = one_step("mosaic", "size = [60, 45];", &cfg);
    tile_source src = {0};
    wb_sample_source more = {&src, 10, load_tile};
    for (uint64_t seed = 0; seed < 10; seed++) {
        wb_data_sample s = {0};
        float box[4];
        tile_box(7, box);
        make_box_sample(&s, 70, 50, box);
        /* a float sample among 8-bit tiles: the canvas is float */
        bool widen = seed % 2 == 1;
        if (widen) ck_assert(wb_data_sample_to_float(&s));
        char err[256];
        uint64_t rng = wb_transform_rng(seed, 0, 7);
        ck_assert_msg(wb_pipeline_apply(p, 0, -1, &s, &rng, &more, err, sizeof err) == WB_OK, "%s", err);
        ck_assert(s.w == 120 && s.h == 90 && s.is_float == widen);
        int64_t inter = 0, uni = 0;
        for (int y = 0; y < s.h; y++)
            for (int x = 0; x < s.w; x++) {
                float v = pixel(&s, x, y, 0);
                /* tiles are black and white; where none lands, the fill */
                ck_assert_msg(v == 0.0f || v == 255.0f || v == 114.0f, "seed %d: (%d, %d) is %g", (int)seed, x, y, v);
                bool bright = v > 127.0f, inside = false;
                for (int b = 0; b < s.num_boxes; b++) {
                    const float *q = s.boxes + 4 * b;
                    inside |= !s.ignore[b] && x + 0.5f > q[0] && x + 0.5f < q[2] && y + 0.5f > q[1] && y + 0.5f < q[3];
                }
                inter += bright && inside;
                uni += bright || inside;
            }
        ck_assert_msg(uni > 0 && (double)inter / (double)uni >= 0.9, "seed %d: IoU %.3f", (int)seed,
                      (double)inter / (double)uni);
        wb_data_sample_free(&s);
    }
    for (int i = 0; i < WB_MAX_EXTRA_SAMPLES; i++) wb_data_sample_free(&src.slots[i]);

    /* without a source it explains itself; a second combining step is refused */
    wb_data_sample s = {0};
    float box[4] = {1, 1, 5, 5};
    make_box_sample(&s, 20, 20, box);
    char err[256];
    uint64_t rng = 1;
    ck_assert(wb_pipeline_apply(p, 0, -1, &s, &rng, NULL, err, sizeof err) != WB_OK);
    ck_assert_msg(strstr(err, "mosaic") && strstr(err, "loader"), "%s", err);
    ck_assert(wb_pipeline_add(p, "mosaic", NULL, err, sizeof err) == WB_ERR_INVALID);
    ck_assert_msg(strstr(err, "only one mosaic step"), "%s", err);
    wb_data_sample_free(&s);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);
}
END_TEST

/* random_affine without a size after a mosaic comes back to one tile, as
 * YOLOv5's border of -size / 2 does; on its own it keeps the input size. */
START_TEST(affine_after_mosaic_outputs_one_tile) {
    config_t cfg;
    wb_pipeline *p = one_step("mosaic", "size = [60, 45];", &cfg);
    char err[256];
    ck_assert(wb_pipeline_add(p, "random_affine", NULL, err, sizeof err) == WB_OK);
    tile_source src = {0};
    wb_sample_source more = {&src, 10, load_tile};
    wb_data_sample s = {0};
    float box[4];
    tile_box(3, box);
    make_box_sample(&s, 70, 50, box);
    uint64_t rng = wb_transform_rng(4, 0, 3);
    ck_assert_msg(wb_pipeline_apply(p, 0, -1, &s, &rng, &more, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_msg(s.w == 60 && s.h == 45 && s.valid_w == 60, "mosaic + affine gave %dx%d", s.w, s.h);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);

    p = one_step("random_affine", "", &cfg);
    make_box_sample(&s, 70, 50, box);
    run(p, &s, 1);
    ck_assert(s.w == 70 && s.h == 50);
    wb_data_sample_free(&s);
    for (int i = 0; i < WB_MAX_EXTRA_SAMPLES; i++) wb_data_sample_free(&src.slots[i]);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);
}
END_TEST

/* The 8-bit warp and resize against the float kernels on the same random
 * levels (the worst case for fixed-point weights: neighbours differ by up to
 * 255), within the documented 0.65 levels (bilinear.h). The warps zoom,
 * shift part of the output off the image (border pixels, the edge path) and
 * rotate + shear; the resizes go down and up by ratios that are not whole. */
START_TEST(fixed_point_kernels_match_float_ones) {
    enum { H = 97, W = 131 };
    uint8_t *src8 = malloc(H * W * 3);
    float *src = malloc(H * W * 3 * sizeof(float));
    uint64_t rng = 5;
    for (int i = 0; i < H * W * 3; i++) src8[i] = (uint8_t)(256.0f * wb_rng_uniform(&rng)), src[i] = src8[i];
    const double mats[][6] = {
        {1.37, 0, -20.3, 0, 1.37, -11.7},          /* zoom in, shifted: border on no side */
        {0.61, 0, 31.2, 0, 0.61, 25.9},            /* zoom out: border all round */
        {0.96, 0.17, 8.4, -0.19, 1.02, 12.1},      /* rotation + shear, corners off the image */
        {-1.0, 0, 131.0, 0, 1.0, 0},                /* mirror: positions on exact pixel centres */
    };
    enum { OH = 88, OW = 120 };
    uint8_t *out8 = malloc(OH * OW * 3);
    float *out = malloc(OH * OW * 3 * sizeof(float));
    for (size_t k = 0; k < sizeof mats / sizeof mats[0]; k++) {
        wb_warp_affine_u8(src8, H, W, mats[k], 114, out8, OH, OW);
        wb_warp_affine_f32(src, H, W, mats[k], 114.0f, out, OH, OW);
        double worst = 0;
        int border = 0;
        for (int i = 0; i < OH * OW * 3; i++) {
            worst = fmax(worst, fabs(out8[i] - out[i]));
            border += out[i] == 114.0f;
        }
        ck_assert_msg(worst <= 0.65, "warp %zu: 8-bit off by %g levels", k, worst);
        if (k == 1 || k == 2) ck_assert_msg(border > OW, "warp %zu reaches no border (%d)", k, border);
    }
    const int sizes[][2] = {{41, 57}, {200, 173}, {97, 300}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        int oh = sizes[k][0], ow = sizes[k][1];
        uint8_t *r8 = malloc((size_t)oh * ow * 3);
        float *r = malloc((size_t)oh * ow * 3 * sizeof(float));
        ck_assert(wb_resize_bilinear_u8(src8, H, W, r8, oh, ow) && wb_resize_bilinear_f32(src, H, W, r, oh, ow));
        double worst = 0;
        for (int i = 0; i < oh * ow * 3; i++) worst = fmax(worst, fabs(r8[i] - r[i]));
        ck_assert_msg(worst <= 0.65, "resize to %dx%d: 8-bit off by %g levels", ow, oh, worst);
        free(r8);
        free(r);
    }
    free(src8);
    free(src);
    free(out8);
    free(out);
}
END_TEST

/* mixup: the blend is r * own + (1 - r) * other everywhere, with one r in
 * Beta(32, 32)'s bulk, and the boxes of both are kept. The own tile has a
 * white box A, the other a white box B elsewhere: a pixel in A only reads
 * 255 r, one in B only 255 (1 - r). Float arithmetic on 0..255 values is
 * exact to ~1e-4, so 1e-3 is a tight bound. */
static int tiles_loaded;
static wb_status load_counted(void *user, int slot, int64_t index, int step, uint64_t rng, wb_data_sample **out,
                              char *err, size_t n) {
    tiles_loaded++;
    return load_tile(user, slot, index, step, rng, out, err, n);
}

START_TEST(mixup_blends_pixels_and_keeps_both_boxes) {
    config_t cfg;
    wb_pipeline *p = one_step("mixup", "prob = 1.0;", &cfg);
    tile_source src = {0};
    wb_sample_source more = {&src, 1, load_counted}; /* the other is always item 0 */
    float other[4];
    tile_box(0, other);
    for (uint64_t seed = 0; seed < 5; seed++) {
        wb_data_sample s = {0};
        float own[4] = {40, 30, 60, 45};
        make_box_sample(&s, 70, 50, own);
        char err[256];
        uint64_t rng = wb_transform_rng(seed, 0, 3);
        ck_assert_msg(wb_pipeline_apply(p, 0, -1, &s, &rng, &more, err, sizeof err) == WB_OK, "%s", err);
        ck_assert_int_eq(s.num_boxes, 4);
        ck_assert(s.boxes[0] == 40 && s.boxes[8] == other[0] && s.boxes[9] == other[1]);
        ck_assert(s.is_float); /* the blend keeps the ratio's fractions */
        ck_assert(s.ignore[1] && s.ignore[3] && !s.ignore[0] && !s.ignore[2]);
        float r = s.img[((size_t)40 * 70 + 50) * 3] / 255.0f; /* (50, 40): in A only */
        ck_assert_msg(r > 0.25f && r < 0.75f, "ratio %f far outside Beta(32, 32)'s bulk", r);
        float b_only = s.img[((size_t)(other[1] + 2) * 70 + (size_t)other[0] + 2) * 3];
        ck_assert_msg(fabsf(b_only - 255.0f * (1.0f - r)) < 1e-3f, "B pixel %f, r %f", b_only, r);
        ck_assert(s.img[0] == 0.0f); /* black in both */
        wb_data_sample_free(&s);
    }
    wb_pipeline_destroy(p);
    config_destroy(&cfg);

    /* prob = 0: nothing is loaded; different sizes: an error naming the fix */
    p = one_step("mixup", "prob = 0.0;", &cfg);
    tiles_loaded = 0;
    wb_data_sample s = {0};
    float box[4] = {1, 1, 5, 5};
    make_box_sample(&s, 70, 50, box);
    char err[256];
    uint64_t rng = 9;
    ck_assert(wb_pipeline_apply(p, 0, -1, &s, &rng, &more, err, sizeof err) == WB_OK);
    ck_assert_int_eq(tiles_loaded, 0);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);
    p = one_step("mixup", "prob = 1.0;", &cfg);
    make_box_sample(&s, 30, 20, box);
    ck_assert(wb_pipeline_apply(p, 0, -1, &s, &rng, &more, err, sizeof err) != WB_OK);
    ck_assert_msg(strstr(err, "mixup") && strstr(err, "same size"), "%s", err);
    /* one mixup per pipeline, but a mosaic may come before it */
    ck_assert(wb_pipeline_add(p, "mixup", NULL, err, sizeof err) == WB_ERR_INVALID);
    wb_pipeline_destroy(p);
    p = wb_pipeline_empty();
    ck_assert(wb_pipeline_add(p, "mosaic", NULL, err, sizeof err) == WB_OK);
    ck_assert_msg(wb_pipeline_add(p, "mixup", NULL, err, sizeof err) == WB_OK, "%s", err);
    wb_pipeline_destroy(p);
    wb_data_sample_free(&s);
    for (int i = 0; i < WB_MAX_EXTRA_SAMPLES; i++) wb_data_sample_free(&src.slots[i]);
    config_destroy(&cfg);
}
END_TEST

/* The ratio's distribution: Beta(32, 32) has mean 1/2 and variance
 * ab / ((a + b)^2 (a + b + 1)) = 1/260 = 0.003846. Over 4000 draws the
 * mean's standard error is 0.00098 (4 sigma: 0.004) and the variance's
 * relative error about 2.3% (4 sigma: 10%). */
START_TEST(beta_draws_have_the_right_moments) {
    uint64_t rng = 12345;
    double sum = 0, sq = 0;
    const int n = 4000;
    for (int i = 0; i < n; i++) {
        double v = wb_tf_beta(&rng, 32.0f, 32.0f);
        ck_assert(v > 0.0 && v < 1.0);
        sum += v, sq += v * v;
    }
    double mean = sum / n, var = sq / n - mean * mean;
    ck_assert_msg(fabs(mean - 0.5) < 0.004, "mean %f", mean);
    ck_assert_msg(fabs(var / (1.0 / 260.0) - 1.0) < 0.10, "variance %f, expected %f", var, 1.0 / 260.0);
    /* a skewed one too: Beta(2, 6) has mean 0.25 (standard error 0.0024) */
    sum = 0;
    for (int i = 0; i < n; i++) sum += wb_tf_beta(&rng, 2.0f, 6.0f);
    ck_assert_msg(fabs(sum / n - 0.25) < 0.01, "Beta(2, 6) mean %f", sum / n);
}
END_TEST

/* random_resize uses the batch's stream only: two samples with the same
 * batch_rng get the same size whatever their own streams, the size is one of
 * the scales, and ratio_range gives YOLOv5's multiples of the step. */
START_TEST(random_resize_size_is_the_batch_choice) {
    config_t cfg;
    wb_pipeline *p = one_step("random_resize", "scales = [48, 40, 64, 56, 80, 72]; keep_ratio = false;", &cfg);
    int seen[3] = {0};
    for (uint64_t batch = 0; batch < 30; batch++) {
        int w0 = 0, h0 = 0;
        for (uint64_t item = 0; item < 3; item++) {
            wb_data_sample s = {0};
            float box[4] = {10, 8, 40, 32}; /* >= 20 px after any of the scales, as above */
            make_box_sample(&s, 50 + (int)item * 7, 40, box);
            s.batch_rng = wb_transform_rng(1, 0, -1 - (int64_t)batch);
            run(p, &s, item);
            if (item == 0) w0 = s.w, h0 = s.h;
            ck_assert_msg(s.w == w0 && s.h == h0, "batch %d: %dx%d vs %dx%d", (int)batch, s.w, s.h, w0, h0);
            ck_assert(mask_iou(&s) >= 0.9);
            wb_data_sample_free(&s);
        }
        int k = w0 == 48 && h0 == 40 ? 0 : w0 == 64 && h0 == 56 ? 1 : w0 == 80 && h0 == 72 ? 2 : -1;
        ck_assert_msg(k >= 0, "%dx%d is not one of the scales", w0, h0);
        seen[k]++;
    }
    ck_assert_msg(seen[0] && seen[1] && seen[2], "scales used %d/%d/%d times in 30 batches", seen[0], seen[1], seen[2]);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);

    p = one_step("random_resize", "scales = [640, 640]; ratio_range = [0.5, 1.5]; size_step = 32; keep_ratio = false;",
                 &cfg);
    bool hit_lo = false, hit_hi = false;
    for (uint64_t batch = 0; batch < 200; batch++) {
        wb_data_sample s = {0};
        float box[4] = {1, 1, 5, 5};
        make_box_sample(&s, 20, 20, box);
        s.batch_rng = wb_transform_rng(2, 0, -1 - (int64_t)batch);
        run(p, &s, 0);
        ck_assert_msg(s.w == s.h && s.w % 32 == 0 && s.w >= 320 && s.w <= 960, "size %dx%d", s.w, s.h);
        hit_lo |= s.w == 320, hit_hi |= s.w == 960;
        wb_data_sample_free(&s);
    }
    ck_assert_msg(hit_lo && hit_hi, "YOLOv5's range is 320..960 inclusive");
    wb_pipeline_destroy(p);
    config_destroy(&cfg);
}
END_TEST

/* Photometric transforms change pixels only: boxes, sizes, mapping untouched,
 * values stay in 0..255 and the same seed gives the same pixels, from 8-bit
 * and from float input. */
START_TEST(colour_transforms_keep_geometry) {
    static const char *types[] = {"photometric_distortion", "yolo_hsv"};
    const float box[4] = {10, 10, 30, 30};
    const size_t n = 50 * 40 * 3;
    for (int t = 0; t < 2; t++) {
        config_t cfg;
        wb_pipeline *p = one_step(types[t], "", &cfg);
        for (uint64_t seed = 0; seed < 8; seed++) {
            bool widen = seed % 2 == 1;
            wb_data_sample a = {0}, b = {0};
            make_box_sample(&a, 50, 40, box);
            for (size_t i = 0; i < n; i++) a.img8[i] = (uint8_t)((i * 37) % 256);
            make_box_sample(&b, 50, 40, box);
            memcpy(b.img8, a.img8, n);
            if (widen) ck_assert(wb_data_sample_to_float(&a) && wb_data_sample_to_float(&b));
            run(p, &a, seed);
            run(p, &b, seed);
            ck_assert(a.w == 50 && a.h == 40 && a.num_boxes == 2);
            ck_assert(memcmp(a.boxes, box, sizeof box) == 0);
            ck_assert(a.is_float == b.is_float);
            ck_assert(memcmp(wb_data_sample_pixels(&a), wb_data_sample_pixels(&b), n * wb_data_sample_value_size(&a)) == 0);
            for (int y = 0; y < 40; y++)
                for (int x = 0; x < 50; x++)
                    for (int c = 0; c < 3; c++) {
                        float v = pixel(&a, x, y, c);
                        ck_assert_msg(v >= 0.0f && v <= 255.0f, "%s: value %g", types[t], v);
                    }
            wb_data_sample_free(&a);
            wb_data_sample_free(&b);
        }
        wb_pipeline_destroy(p);
        config_destroy(&cfg);
    }
}
END_TEST

/* With zero gains yolo_hsv is RGB->HSV->RGB: exact up to float rounding on
 * float pixels (values up to 255, a few ulps of 255 is ~1e-4), and so
 * exactly the same levels on 8-bit pixels (1e-4 never crosses a rounding
 * boundary at .5 from an integer). */
START_TEST(hsv_round_trip_is_identity) {
    config_t cfg;
    wb_pipeline *p = one_step("yolo_hsv", "hgain = 0.0; sgain = 0.0; vgain = 0.0;", &cfg);
    const size_t n = 64 * 64 * 3;
    wb_data_sample s = {0};
    const float box[4] = {1, 1, 2, 2};
    make_box_sample(&s, 64, 64, box);
    uint64_t rng = 7;
    for (size_t i = 0; i < n; i++) s.img8[i] = (uint8_t)(256.0f * wb_rng_uniform(&rng));
    uint8_t *levels = malloc(n);
    memcpy(levels, s.img8, n);
    run(p, &s, 3);
    ck_assert(!s.is_float);
    for (size_t i = 0; i < n; i++) ck_assert_msg(s.img8[i] == levels[i], "value %zu: %d became %d", i, levels[i], s.img8[i]);

    float *before = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) before[i] = (float)levels[i];
    ck_assert(wb_data_sample_to_float(&s));
    run(p, &s, 3);
    wbt_assert_close("hsv round trip", s.img, before, (int64_t)n, 1e-3, 0.0);
    free(before);
    free(levels);
    wb_data_sample_free(&s);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);
}
END_TEST

/* OpenCV's float RGB -> HSV -> RGB with the gains, in double and with
 * branches (colorsys' formulation): an independent reference for the
 * kernels' branch-free float version. */
static void reference_hsv(const float in[3], const wb_hsv_gains *g, double out[3]) {
    double r = in[0], gr = in[1], b = in[2];
    double mx = fmax(r, fmax(gr, b)), mn = fmin(r, fmin(gr, b)), d = mx - mn;
    double h = 0, s = mx > 0 ? d / mx : 0, v = mx;
    if (d > 0) {
        if (mx == r)
            h = 60 * (gr - b) / d;
        else if (mx == gr)
            h = 120 + 60 * (b - r) / d;
        else
            h = 240 + 60 * (r - gr) / d;
    }
    if (h < 0) h += 360; /* OpenCV's hue is in [0, 360) before the gain */
    h = fmod(fmod(h * g->hue_gain + g->hue_shift, 360.0) + 360.0, 360.0);
    s = fmin(s * g->sat_gain, 1.0);
    v = fmin(v * g->val_gain, 255.0);
    int sector = (int)(h / 60.0) % 6;
    double f = h / 60.0 - floor(h / 60.0), p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    const double rgb[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
    memcpy(out, rgb[sector], sizeof rgb[sector]);
}

/* The float kernel within 2e-3 of the double reference (float rounding of
 * values up to 255 through ~20 operations), the 8-bit kernel within half a
 * level of it plus that (it rounds the same float result), over random
 * pixels, greys and saturated colours, with YOLO-like and hue-shift gains. */
START_TEST(hsv_kernels_match_a_double_reference) {
    const wb_hsv_gains gains[] = {
        {1.012f, 0.0f, 1.6f, 0.7f}, {0.987f, 0.0f, 0.35f, 1.39f}, {1.0f, 17.5f, 1.3f, 1.0f}, {1.0f, -18.0f, 0.6f, 1.0f},
    };
    enum { N = 4096 };
    uint8_t *u8 = malloc(N * 3);
    float *f = malloc(N * 3 * sizeof(float)), *in = malloc(N * 3 * sizeof(float));
    uint64_t rng = 99;
    for (int i = 0; i < N * 3; i++) in[i] = (float)(int)(256.0f * wb_rng_uniform(&rng));
    for (int c = 0; c < 3; c++) in[c] = 77.0f;                              /* grey: no hue */
    in[3] = 255.0f, in[4] = 0.0f, in[5] = 0.0f;                              /* pure red */
    in[6] = 0.0f, in[7] = 0.0f, in[8] = 0.0f;                                /* black */
    in[9] = 255.0f, in[10] = 0.0f, in[11] = 1.0f;                            /* hue just under 360 */
    for (size_t k = 0; k < sizeof gains / sizeof gains[0]; k++) {
        for (int i = 0; i < N * 3; i++) f[i] = in[i], u8[i] = (uint8_t)in[i];
        wb_hsv_scale_f32(f, N, &gains[k]);
        wb_hsv_scale_u8(u8, N, &gains[k]);
        double worst_f = 0, worst_u8 = 0;
        for (int i = 0; i < N; i++) {
            double want[3];
            reference_hsv(in + 3 * i, &gains[k], want);
            for (int c = 0; c < 3; c++) {
                worst_f = fmax(worst_f, fabs(f[3 * i + c] - want[c]));
                worst_u8 = fmax(worst_u8, fabs(u8[3 * i + c] - want[c]));
            }
        }
        ck_assert_msg(worst_f <= 2e-3, "gains %zu: float kernel off by %g", k, worst_f);
        ck_assert_msg(worst_u8 <= 0.5 + 2e-3, "gains %zu: 8-bit kernel off by %g levels", k, worst_u8);
    }
    free(u8);
    free(f);
    free(in);
}
END_TEST

START_TEST(flip_twice_is_identity) {
    static const char *dirs[] = {"prob = 1.0; direction = \"horizontal\";", "prob = 1.0; direction = \"vertical\";"};
    const size_t n = 33 * 17 * 3;
    for (int d = 0; d < 4; d++) { /* each direction on 8-bit, then float pixels */
        config_t cfg;
        wb_pipeline *p = one_step("random_flip", dirs[d % 2], &cfg);
        char err[256];
        ck_assert(wb_pipeline_add(p, "random_flip", wb_params_of(config_root_setting(&cfg)), err, sizeof err) ==
                  WB_OK);
        wb_data_sample s = {0};
        const float box[4] = {3.25f, 7.5f, 20.75f, 11.0f};
        make_box_sample(&s, 33, 17, box);
        for (size_t i = 0; i < n; i++) s.img8[i] = (uint8_t)(i % 251);
        if (d >= 2) {
            ck_assert(wb_data_sample_to_float(&s));
            for (size_t i = 0; i < n; i++) s.img[i] = (float)i;
        }
        run(p, &s, 0);
        for (size_t i = 0; i < n; i++)
            ck_assert_float_eq(d >= 2 ? s.img[i] : s.img8[i], d >= 2 ? (float)i : (float)(i % 251));
        ck_assert(memcmp(s.boxes, box, sizeof box) == 0);
        ck_assert(!s.flip_h && !s.flip_v);
        wb_data_sample_free(&s);
        wb_pipeline_destroy(p);
        config_destroy(&cfg);
    }
}
END_TEST

/* Sizes from the published formulas, worked by hand:
 * mmcv rescale_size(640x480, (1333, 800)): f = min(1333/640, 800/480) = 1.6667 -> 1067x800.
 * YOLOv5 letterbox(500x333, 640, auto, 32): r = 1.28 -> 640x426, dh = 214 % 32 = 22 -> 11 + 11 -> 640x448;
 * without auto: 640x640 with top 107 (round(106.9)), bottom 107. */
START_TEST(output_sizes_follow_mmcv_and_yolov5) {
    config_t cfg;
    const float box[4] = {10, 10, 20, 20};
    wb_data_sample s = {0};
    wb_pipeline *p = one_step("resize", "scale = [1333, 800];", &cfg);
    make_box_sample(&s, 640, 480, box);
    run(p, &s, 0);
    ck_assert(s.w == 1067 && s.h == 800 && s.valid_w == 1067);
    ck_assert_float_eq_tol(s.scale_x, 1067.0f / 640.0f, 1e-6f);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);

    p = one_step("letterbox", "size = [640, 640]; auto = true; stride = 32;", &cfg);
    make_box_sample(&s, 500, 333, box);
    run(p, &s, 0);
    ck_assert_msg(s.w == 640 && s.h == 448, "letterbox auto gave %dx%d", s.w, s.h);
    ck_assert_float_eq(s.offset_y, 11.0f);
    ck_assert_float_eq(pixel(&s, 0, 5, 0), 114.0f);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);

    p = one_step("letterbox", "size = [640, 640];", &cfg);
    make_box_sample(&s, 500, 333, box);
    run(p, &s, 0);
    ck_assert(s.w == 640 && s.h == 640 && s.valid_h == 640);
    ck_assert_float_eq(s.offset_y, 107.0f);
    ck_assert_float_eq(s.offset_x, 0.0f);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);

    p = one_step("pad", "size_divisor = 32; pad_value = 7.0;", &cfg);
    make_box_sample(&s, 70, 33, box);
    run(p, &s, 0);
    ck_assert(s.w == 96 && s.h == 64 && s.valid_w == 70 && s.valid_h == 33);
    ck_assert_float_eq(pixel(&s, 95, 63, 0), 7.0f);
    wb_data_sample_free(&s);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);
}
END_TEST

/* Letterbox (+ flips) then mapping back gives the original boxes within
 * 1 px, as the task requires (rounding of the resized size is < 0.5 px
 * times 1/scale; the mapping itself is exact). */
START_TEST(letterbox_inverse_maps_boxes_back) {
    static const char *pipes[] = {"size = [640, 640];", "size = [416, 320]; auto = true;",
                                  "size = [256, 256]; scale_up = false;"};
    uint64_t rng = 11;
    for (int k = 0; k < 3; k++)
        for (int flip = 0; flip < 2; flip++)
            for (int trial = 0; trial < 10; trial++) {
                config_t cfg, fcfg;
                wb_pipeline *p = one_step("letterbox", pipes[k], &cfg);
                if (flip) {
                    config_init(&fcfg);
                    ck_assert(config_read_string(&fcfg, "prob = 1.0;"));
                    char err[256];
                    ck_assert(wb_pipeline_add(p, "random_flip", wb_params_of(config_root_setting(&fcfg)), err,
                                              sizeof err) == WB_OK);
                }
                int w = 50 + (int)(wb_rng_next(&rng) % 900), h = 50 + (int)(wb_rng_next(&rng) % 900);
                float box[4] = {0.1f * w, 0.2f * h, 0.7f * w, 0.9f * h};
                wb_data_sample s = {0};
                make_box_sample(&s, w, h, box);
                run(p, &s, (uint64_t)trial);
                float back[4];
                memcpy(back, s.boxes, sizeof back);
                wb_sample_boxes_to_original(&s, back, 1);
                for (int i = 0; i < 4; i++)
                    ck_assert_msg(fabsf(back[i] - box[i]) <= 1.0f, "%s flip %d %dx%d: coord %d %.2f vs %.2f",
                                  pipes[k], flip, w, h, i, back[i], box[i]);
                wb_data_sample_free(&s);
                wb_pipeline_destroy(p);
                config_destroy(&cfg);
                if (flip) config_destroy(&fcfg);
            }
}
END_TEST

/* An exact scale (320x160 -> 640x320 in a 640x641 canvas, 160 px border on
 * top and 161 below) must map back exactly, flipped or not: this catches
 * using the wrong border side after a flip, a 1-px error the test above allows. */
START_TEST(letterbox_mapping_is_exact_for_exact_scales) {
    static const char *flips[] = {NULL, "prob = 1.0; direction = \"vertical\";",
                                  "prob = 1.0; direction = \"horizontal\";"};
    for (int k = 0; k < 3; k++) {
        /* flip first, so the letterbox border is added to an already flipped image */
        config_t cfg, fcfg;
        wb_pipeline *p = one_step("random_flip", flips[k] ? flips[k] : "prob = 0.0;", &cfg);
        config_init(&fcfg);
        char err[256];
        ck_assert(config_read_string(&fcfg, "size = [640, 641];"));
        ck_assert(wb_pipeline_add(p, "letterbox", wb_params_of(config_root_setting(&fcfg)), err, sizeof err) ==
                  WB_OK);
        const float box[4] = {10, 20, 100, 60};
        wb_data_sample s = {0};
        make_box_sample(&s, 320, 160, box);
        run(p, &s, 0);
        ck_assert(s.w == 640 && s.h == 641 && s.scale_x == 2.0f && s.scale_y == 2.0f);
        ck_assert_float_eq(s.offset_y, (k == 1 ? 161.0f : 160.0f));
        float back[4];
        memcpy(back, s.boxes, sizeof back);
        wb_sample_boxes_to_original(&s, back, 1);
        wbt_assert_close("letterbox inverse", back, box, 4, 1e-4, 0.0);
        wb_data_sample_free(&s);
        wb_pipeline_destroy(p);
        config_destroy(&cfg);
        config_destroy(&fcfg);
    }
}
END_TEST

START_TEST(boxes_clipped_and_degenerate_dropped) {
    wb_data_sample s = {0};
    uint8_t rgb[10 * 10 * 3] = {0};
    float boxes[16] = {-5, 2, 4, 8, 20, 20, 30, 30, 3, 3, 3, 9, NAN, 0, 4, 4};
    int labels[4] = {0, 1, 2, 3};
    ck_assert(wb_data_sample_load(&s, rgb, 10, 10, 10, 10, boxes, labels, NULL, 4));
    run(NULL, &s, 0);
    ck_assert_int_eq(s.num_boxes, 1); /* outside, zero width and NaN boxes dropped */
    ck_assert(s.boxes[0] == 0.0f && s.boxes[1] == 2.0f && s.boxes[2] == 4.0f && s.labels[0] == 0);
    wb_data_sample_free(&s);
}
END_TEST

/* normalize: ((v - mean) / std), in RGB or swapped to BGR. */
START_TEST(normalize_rgb_and_bgr) {
    static const char *cfgs[] = {"mean = [10.0, 20.0, 30.0]; std = [2.0, 4.0, 5.0]; to_rgb = true;",
                                 "mean = [10.0, 20.0, 30.0]; std = [2.0, 4.0, 5.0]; to_rgb = false;"};
    const float expect[2][3] = {{(200 - 10) / 2.0f, (100 - 20) / 4.0f, (50 - 30) / 5.0f},
                                {(50 - 10) / 2.0f, (100 - 20) / 4.0f, (200 - 30) / 5.0f}};
    for (int k = 0; k < 2; k++) {
        config_t cfg;
        wb_pipeline *p = one_step("normalize", cfgs[k], &cfg);
        uint8_t rgb[3] = {200, 100, 50};
        wb_data_sample s = {0};
        ck_assert(wb_data_sample_load(&s, rgb, 1, 1, 1, 1, NULL, NULL, NULL, 0));
        run(p, &s, 0);
        wbt_assert_close("normalize", s.img, expect[k], 3, 1e-5, 1e-6);
        wb_data_sample_free(&s);
        wb_pipeline_destroy(p);
        config_destroy(&cfg);
    }
}
END_TEST

/* Bilinear resize against torch.nn.functional.interpolate(bilinear,
 * align_corners=False): same formula in float32. Source coordinates up to
 * ~50 carry ~2e-6 rounding (one ulp), times neighbour differences up to 255
 * gives up to 5e-4 on either side (torch itself is 2e-4 from a float64
 * evaluation here), hence 1e-3 absolute. A wrong index or weight is >= 1.
 * The input is whole levels, so the same pixels also go through the 8-bit
 * kernel, which must come within its documented 0.65 levels of torch
 * (bilinear.h: 0.5 from rounding the result, 2 x 255 / 4096 from 11-bit
 * weights). */
START_TEST(resize_pixels_match_torch) {
    wb_st_file f;
    if (!wbt_parity_open("transforms_resize", &f)) return;
    const float *sizes = wbt_parity_tensor(&f, "sizes", 6); /* h, w, down h, w, up h, w */
    int h = (int)sizes[0], w = (int)sizes[1];
    const float *src = wbt_parity_tensor(&f, "input", (int64_t)h * w * 3);
    uint8_t *levels = malloc((size_t)h * w * 3);
    for (int i = 0; i < h * w * 3; i++) levels[i] = (uint8_t)src[i];
    static const char *outs[] = {"down", "up"};
    for (int k = 0; k < 4; k++) {
        bool as_float = k < 2;
        int oh = (int)sizes[2 + 2 * (k % 2)], ow = (int)sizes[3 + 2 * (k % 2)];
        const float *want = wbt_parity_tensor(&f, outs[k % 2], (int64_t)oh * ow * 3);
        char text[128];
        snprintf(text, sizeof text, "scale = [%d, %d]; keep_ratio = false;", ow, oh);
        config_t cfg;
        wb_pipeline *p = one_step("resize", text, &cfg);
        wb_data_sample s = {0};
        ck_assert(wb_data_sample_load(&s, levels, h, w, h, w, NULL, NULL, NULL, 0));
        if (as_float) {
            ck_assert(wb_data_sample_to_float(&s));
            memcpy(s.img, src, (size_t)h * w * 3 * sizeof(float));
        }
        run(p, &s, 0);
        ck_assert(s.h == oh && s.w == ow && s.is_float == as_float);
        float *got = malloc((size_t)oh * ow * 3 * sizeof(float));
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
                for (int c = 0; c < 3; c++) got[((size_t)y * ow + x) * 3 + c] = pixel(&s, x, y, c);
        char what[32];
        snprintf(what, sizeof what, "%s %s", outs[k % 2], as_float ? "float" : "8-bit");
        wbt_assert_close(what, got, want, (int64_t)oh * ow * 3, as_float ? 1e-3 : 0.65, 0.0);
        free(got);
        wb_data_sample_free(&s);
        wb_pipeline_destroy(p);
        config_destroy(&cfg);
    }
    free(levels);
    wb_st_free(&f);
}
END_TEST

/* The registry: every type has a schema whose defaults build a pipeline; a
 * whole mmdet-style list builds from a config; unknown types are named. */
START_TEST(schemas_and_pipeline_from_config) {
    const char *const *types = wb_transform_types();
    int n = 0;
    char err[512];
    for (; types[n]; n++) {
        ck_assert_ptr_nonnull(wb_transform_schema(types[n]));
        wb_pipeline *p = wb_pipeline_empty();
        ck_assert_msg(wb_pipeline_add(p, types[n], NULL, err, sizeof err) == WB_OK, "%s", err);
        wb_pipeline_destroy(p);
    }
    ck_assert_int_ge(n, 10);
    ck_assert_ptr_null(wb_transform_schema("no_such_transform"));

    config_t cfg;
    config_init(&cfg);
    ck_assert(config_read_string(&cfg,
        "pipeline = ( { type = \"resize\"; scale = [1333, 800]; keep_ratio = true; },"
        "  { type = \"random_flip\"; prob = 0.5; },"
        "  { type = \"normalize\"; mean = [123.675, 116.28, 103.53]; std = [58.395, 57.12, 57.375]; to_rgb = true; },"
        "  { type = \"pad\"; size_divisor = 32; } );"
        "bad = ( { type = \"rezise\"; } );"));
    const wb_params *steps[4];
    config_setting_t *list = config_lookup(&cfg, "pipeline");
    for (int i = 0; i < 4; i++) steps[i] = wb_params_of(config_setting_get_elem(list, (unsigned)i));
    wb_pipeline *p = wb_pipeline_create(steps, 4, err, sizeof err);
    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(wb_pipeline_length(p), 4);
    wb_data_sample s = {0};
    const float box[4] = {10, 10, 40, 30};
    make_box_sample(&s, 100, 60, box);
    run(p, &s, 5);
    ck_assert(s.valid_w == 1333 && s.valid_h == 800 && s.w == 1344 && s.h == 800);
    wb_data_sample_free(&s);
    wb_pipeline_destroy(p);

    const wb_params *bad = wb_params_of(config_setting_get_elem(config_lookup(&cfg, "bad"), 0));
    ck_assert_ptr_null(wb_pipeline_create(&bad, 1, err, sizeof err));
    ck_assert_msg(strstr(err, "rezise") && strstr(err, "resize"), "message: %s", err);
    config_destroy(&cfg);
}
END_TEST

int main(void) {
    Suite *s = suite_create("transforms");
    TCase *tc = tcase_create("transforms");
    tcase_add_test(tc, geometric_transforms_keep_boxes_on_pixels);
    tcase_add_test(tc, affine_refit_boxes_cover_rotated_objects);
    tcase_add_test(tc, mosaic_keeps_every_tile_consistent);
    tcase_add_test(tc, affine_after_mosaic_outputs_one_tile);
    tcase_add_test(tc, fixed_point_kernels_match_float_ones);
    tcase_add_test(tc, mixup_blends_pixels_and_keeps_both_boxes);
    tcase_add_test(tc, beta_draws_have_the_right_moments);
    tcase_add_test(tc, random_resize_size_is_the_batch_choice);
    tcase_add_test(tc, colour_transforms_keep_geometry);
    tcase_add_test(tc, hsv_round_trip_is_identity);
    tcase_add_test(tc, hsv_kernels_match_a_double_reference);
    tcase_add_test(tc, flip_twice_is_identity);
    tcase_add_test(tc, output_sizes_follow_mmcv_and_yolov5);
    tcase_add_test(tc, letterbox_inverse_maps_boxes_back);
    tcase_add_test(tc, letterbox_mapping_is_exact_for_exact_scales);
    tcase_add_test(tc, boxes_clipped_and_degenerate_dropped);
    tcase_add_test(tc, normalize_rgb_and_bgr);
    tcase_add_test(tc, resize_pixels_match_torch);
    tcase_add_test(tc, schemas_and_pipeline_from_config);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
