/* Rect batches: the sampler's batch shapes equal YOLOv5 7.0's on the shared
 * coco128 (tests/parity/gen_rect_yolov5.py; skipped, saying so, without the
 * data), from image sizes read by our own header probe; batches hold images
 * of neighbouring aspect ratios, shuffling moves whole batches only; the
 * letterbox takes the batch's shape. Also YOLOv5's other letterbox: a mosaic
 * (or mosaic9) its prob skips letterboxes the image to its tile size. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data/image.h"
#include "data/sampler.h"
#include "data/transforms.h"
#include "config/params.h"
#include "wbtest.h"

#define COCO128_IMAGES WB_SOURCE_DIR "/../shared/datasets/coco128/images/train2017"

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sizes of the coco128 images in file-name order, as the yolo dataset lists them; 0 when absent. */
static int coco128_sizes(int32_t **sizes) {
    DIR *d = opendir(COCO128_IMAGES);
    if (!d) return 0;
    char *names[256];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 256)
        if (strstr(e->d_name, ".jpg")) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    *sizes = malloc((size_t)n * 2 * sizeof **sizes);
    for (int i = 0; i < n; i++) {
        char path[1024], err[256];
        int w, h;
        snprintf(path, sizeof path, "%s/%s", COCO128_IMAGES, names[i]);
        ck_assert_msg(wb_image_probe_file(path, &w, &h, err, sizeof err) == WB_OK, "%s", err);
        (*sizes)[2 * i] = w, (*sizes)[2 * i + 1] = h;
        free(names[i]);
    }
    return n;
}

static void check_case(const char *name, const int32_t *sizes, int n) {
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) ck_abort_msg("%s missing though coco128 is here", name);
    int batch = (int)wbt_parity_attr(&f, "batch");
    double pad = wbt_parity_attr(&f, "pad");
    const float *want_sizes = wbt_parity_tensor(&f, "sizes", 2 * n);
    for (int i = 0; i < 2 * n; i++)
        ck_assert_msg(sizes[i] == (int32_t)want_sizes[i], "image %d: our size %d x %d, YOLOv5's exif_size %g x %g",
                      i / 2, sizes[i & ~1], sizes[i | 1], want_sizes[i & ~1], want_sizes[i | 1]);
    wb_rect_opts r = {sizes, 640, 32, pad};
    wb_sampler_opts o = {.n_items = n, .rect = &r, .batch_size = batch, .seed = 1};
    wb_epoch_plan p;
    ck_assert_int_eq(wb_sampler_plan(&o, 0, &p), WB_OK);
    const float *want = wbt_parity_tensor(&f, "shapes", 2 * p.n_batches);
    int distinct = 0;
    for (int64_t b = 0; b < p.n_batches; b++) {
        ck_assert_msg(p.shapes[2 * b] == (int32_t)want[2 * b] && p.shapes[2 * b + 1] == (int32_t)want[2 * b + 1],
                      "%s batch %lld: %d x %d, YOLOv5 %g x %g", name, (long long)b, p.shapes[2 * b],
                      p.shapes[2 * b + 1], want[2 * b], want[2 * b + 1]);
        distinct += b == 0 || p.shapes[2 * b] != p.shapes[2 * b - 2] || p.shapes[2 * b + 1] != p.shapes[2 * b - 1];
    }
    printf("%s: %lld batch shapes equal YOLOv5's (%d changes along the sorted batches; first %d x %d, last %d x %d)\n",
           name, (long long)p.n_batches, distinct, p.shapes[0], p.shapes[1], p.shapes[2 * p.n_batches - 2],
           p.shapes[2 * p.n_batches - 1]);
    wb_epoch_plan_free(&p);
    wb_st_free(&f);
}

START_TEST(coco128_shapes_match_yolov5) {
    int32_t *sizes = NULL;
    int n = coco128_sizes(&sizes);
    if (n == 0) {
        printf("coco128_shapes_match_yolov5: skipped: no %s (the shared datasets)\n", COCO128_IMAGES);
        return;
    }
    check_case("rect_coco128_b16_p0", sizes, n);
    check_case("rect_coco128_b16_p5", sizes, n);
    check_case("rect_coco128_b7_p5", sizes, n);
    free(sizes);
}
END_TEST

/* Shuffled rect epochs: the same batches (images and shapes) in another order. */
START_TEST(shuffle_moves_whole_batches) {
    enum { N = 11, B = 3 };
    int32_t sizes[2 * N];
    for (int i = 0; i < N; i++) sizes[2 * i] = 100 + 37 * i % 200, sizes[2 * i + 1] = 150;
    wb_rect_opts r = {sizes, 320, 32, 0.0};
    wb_sampler_opts o = {.n_items = N, .rect = &r, .batch_size = B, .seed = 3};
    wb_epoch_plan sorted, shuffled;
    ck_assert_int_eq(wb_sampler_plan(&o, 0, &sorted), WB_OK);
    o.shuffle = true;
    ck_assert_int_eq(wb_sampler_plan(&o, 5, &shuffled), WB_OK);
    ck_assert_int_eq(sorted.n_batches, 4);
    /* sorted: aspect ratios h / w never fall along the order */
    for (int i = 1; i < N; i++) {
        int64_t a = sorted.order[i - 1], b = sorted.order[i];
        ck_assert((double)sizes[2 * a + 1] / sizes[2 * a] <= (double)sizes[2 * b + 1] / sizes[2 * b]);
    }
    int moved = 0;
    for (int64_t k = 0; k < shuffled.n_batches; k++) {
        int64_t len = shuffled.starts[k + 1] - shuffled.starts[k];
        bool found = false;
        for (int64_t j = 0; j < sorted.n_batches && !found; j++) {
            found = sorted.starts[j + 1] - sorted.starts[j] == len &&
                    !memcmp(sorted.order + sorted.starts[j], shuffled.order + shuffled.starts[k], (size_t)len * 8) &&
                    sorted.shapes[2 * j] == shuffled.shapes[2 * k] &&
                    sorted.shapes[2 * j + 1] == shuffled.shapes[2 * k + 1];
            moved += found && j != k;
        }
        ck_assert_msg(found, "shuffled batch %lld is not one of the sorted batches with its shape", (long long)k);
    }
    ck_assert_int_gt(moved, 0);
    wb_epoch_plan_free(&sorted);
    wb_epoch_plan_free(&shuffled);
}
END_TEST

/* A letterbox in a rect batch pads to the batch's shape instead of its size. */
START_TEST(letterbox_takes_the_batch_shape) {
    config_t cfg;
    config_init(&cfg);
    ck_assert(config_read_string(&cfg, "size = [640, 640];"));
    char err[256];
    wb_pipeline *p = wb_pipeline_empty();
    ck_assert(wb_pipeline_add(p, "letterbox", wb_params_of(config_root_setting(&cfg)), err, sizeof err) == WB_OK);
    uint8_t rgb[200 * 100 * 3] = {0};
    const float box[4] = {10, 10, 50, 40};
    const int label = 0;
    wb_data_sample s = {0};
    ck_assert(wb_data_sample_load(&s, rgb, 100, 200, 100, 200, box, &label, NULL, 1));
    s.batch_w = 640, s.batch_h = 352;
    uint64_t rng = 1;
    ck_assert(wb_pipeline_apply(p, 0, -1, &s, &rng, NULL, err, sizeof err) == WB_OK);
    ck_assert_int_eq(s.w, 640);
    ck_assert_int_eq(s.h, 352);
    /* scale 3.2, content 640 x 320, 16 rows above */
    ck_assert_float_eq_tol(s.boxes[0], 32.0f, 1e-4f);
    ck_assert_float_eq_tol(s.boxes[1], 48.0f, 1e-4f);
    ck_assert_float_eq_tol(s.boxes[3], 144.0f, 1e-4f);
    int size = 0, stride = 0;
    ck_assert(wb_pipeline_letterbox(p, &size, &stride));
    ck_assert_int_eq(size, 640);
    ck_assert_int_eq(stride, 32);
    wb_data_sample_free(&s);
    wb_pipeline_destroy(p);
    config_destroy(&cfg);
}
END_TEST

START_TEST(skipped_mosaic_letterboxes_to_its_tile) {
    const char *types[] = {"mosaic", "mosaic9"};
    for (int k = 0; k < 2; k++) {
        config_t cfg;
        config_init(&cfg);
        ck_assert(config_read_string(&cfg, "size = [64, 48]; prob = 0.0;"));
        char err[256];
        wb_pipeline *p = wb_pipeline_empty();
        ck_assert(wb_pipeline_add(p, types[k], wb_params_of(config_root_setting(&cfg)), err, sizeof err) == WB_OK);
        uint8_t rgb[200 * 100 * 3] = {0};
        const float box[4] = {10, 10, 50, 40};
        const int label = 0;
        wb_data_sample s = {0};
        ck_assert(wb_data_sample_load(&s, rgb, 100, 200, 100, 200, box, &label, NULL, 1));
        uint64_t rng = 1;
        ck_assert_msg(wb_pipeline_apply(p, 0, -1, &s, &rng, NULL, err, sizeof err) == WB_OK, "%s", err);
        /* scale min(48 / 100, 64 / 200) = 0.32: content 64 x 32, 8 rows above */
        ck_assert_int_eq(s.w, 64);
        ck_assert_int_eq(s.h, 48);
        const float want[4] = {3.2f, 11.2f, 16.0f, 20.8f};
        for (int i = 0; i < 4; i++) ck_assert_float_eq_tol(s.boxes[i], want[i], 1e-4f);
        wb_data_sample_free(&s);
        wb_pipeline_destroy(p);
        config_destroy(&cfg);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("rect");
    TCase *tc = tcase_create("rect");
    tcase_add_test(tc, coco128_shapes_match_yolov5);
    tcase_add_test(tc, shuffle_moves_whole_batches);
    tcase_add_test(tc, letterbox_takes_the_batch_shape);
    tcase_add_test(tc, skipped_mosaic_letterboxes_to_its_tile);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
