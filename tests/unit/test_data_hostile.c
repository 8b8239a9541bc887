/* Hostile data for the image decoder and the loader, every input generated
 * here: files that are no image (git-lfs pointers, HEIC, empty), FIFOs,
 * images above data.max_image_pixels, large images shrunk while they are
 * decoded (bounded memory), too many boxes, and datasets where nothing
 * decodes (the loader stops with one summary instead of looping). */
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "check/scan_common.h"
#include "data/image.h"
#include "data/image_write.h"
#include "data/loader.h"
#include "data/transforms.h"
#include "wbtest.h"

#define TMP WB_BINARY_DIR "/test_data_hostile_tmp"

static const char *tmp_path(const char *name) {
    static char path[8][512];
    static int next;
    mkdir(TMP, 0755);
    char *p = path[next++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", TMP, name);
    return p;
}

static const char *write_file(const char *name, const void *bytes, size_t n) {
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    if (n) ck_assert_uint_eq(fwrite(bytes, 1, n, f), n);
    fclose(f);
    return path;
}

static int occurrences(const char *haystack, const char *needle) {
    int n = 0;
    for (const char *p = haystack; (p = strstr(p, needle)); p += strlen(needle)) n++;
    return n;
}

/* Decoding path fails with exactly "path: expect". */
static void expect_refusal(const char *path, const char *expect) {
    wb_decode_opts o = {0};
    wb_image img;
    char err[1024], want[1024];
    ck_assert_int_ne(wb_image_decode_file(path, &o, &img, err, sizeof err), WB_OK);
    ck_assert_ptr_null(img.rgb);
    snprintf(want, sizeof want, "%s: %s", path, expect);
    ck_assert_msg(strcmp(err, want) == 0, "got '%s'\nwant '%s'", err, want);
    ck_assert_int_eq(occurrences(err, path), 1); /* the path once, not repeated */
}

START_TEST(files_that_are_no_image_say_what_they_are) {
    const char lfs[] = "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a2146\nsize 123456\n";
    expect_refusal(write_file("lfs.jpg", lfs, sizeof lfs - 1),
                   "a git-lfs pointer, not the image; fetch the images with `git lfs pull`");
    const uint8_t heic[] = {0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'h', 'e', 'i', 'c', 0, 0, 0, 0, 'm', 'i', 'f', '1'};
    expect_refusal(write_file("photo.jpg", heic, sizeof heic),
                   "a HEIC image, not JPEG, PNG, BMP, TIFF or WebP; convert it, e.g. `heif-convert IMG.heic IMG.jpg`");
    expect_refusal(write_file("zero.jpg", "", 0), "image is empty (0 bytes)");
    const char text[] = "just some text, not an image";
    expect_refusal(write_file("text.png", text, sizeof text - 1),
                   "not a JPEG, PNG, BMP, TIFF or WebP file (unknown signature)");
    /* a 2 GiB (sparse) file is refused before a byte of it is read into memory */
    const char *huge = write_file("huge.jpg", "", 0);
    ck_assert_int_eq(truncate(huge, (off_t)2 << 30), 0);
    expect_refusal(huge, "file of 2147483648 bytes, larger than any image within the pixel limit; is it an image?");
    unlink(huge);
}
END_TEST

/* A FIFO is refused at once (an open for reading would wait for a writer). */
START_TEST(fifo_is_refused_without_blocking) {
    const char *path = tmp_path("fifo.jpg");
    unlink(path);
    ck_assert_int_eq(mkfifo(path, 0600), 0);
    expect_refusal(path, "is a FIFO (named pipe); expected a regular file");
    int w, h;
    char err[512];
    ck_assert_int_ne(wb_image_probe_file(path, &w, &h, err, sizeof err), WB_OK);
    ck_assert_msg(strstr(err, "not a regular file"), "%s", err);
    unlink(path);
}
END_TEST

/* A w x h RGB PNG whose pixel (x, y) is pattern(x, y, c), written row by row
 * (no full image in memory, so it can be large). */
static uint8_t pattern(uint32_t x, uint32_t y, int c) { return (uint8_t)((x * 7 + y * 13 + (uint32_t)c * 50) % 251); }

static const char *write_png(const char *name, uint32_t w, uint32_t h, bool zeros) {
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    ck_assert(png && info && !setjmp(png_jmpbuf(png)));
    png_init_io(png, f);
    png_set_compression_level(png, 1);
    png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    uint8_t *row = calloc((size_t)w * 3, 1);
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; !zeros && x < w; x++)
            for (int c = 0; c < 3; c++) row[x * 3 + c] = pattern(x, y, c);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    fclose(f);
    return path;
}

START_TEST(pixel_limit_names_the_setting) {
    const char *path = write_png("big.png", 100, 80, false);
    wb_decode_opts o = {.max_pixels = 5000, .limit_key = "data.max_image_pixels"};
    wb_image img;
    char err[1024], want[1024];
    ck_assert_int_eq(wb_image_decode_file(path, &o, &img, err, sizeof err), WB_ERR_UNSUPPORTED);
    snprintf(want, sizeof want,
             "%s: image is 100x80 (8000 pixels), above data.max_image_pixels = 5000; downscale the image or raise "
             "data.max_image_pixels",
             path);
    ck_assert_msg(strcmp(err, want) == 0, "got '%s'", err);
    o.max_pixels = 8000;
    ck_assert_int_eq(wb_image_decode_file(path, &o, &img, err, sizeof err), WB_OK);
    wb_image_free(&img);
}
END_TEST

/* Shrunk PNG rows are k x k block means (partial blocks at the right and bottom). */
START_TEST(png_shrinks_to_block_means_while_streaming) {
    const uint32_t w = 91, h = 61;
    const char *path = write_png("shrink.png", w, h, false);
    wb_decode_opts o = {.min_side = 20, .shrink_above = 0};
    wb_image img;
    char err[512];
    ck_assert_msg(wb_image_decode_file(path, &o, &img, err, sizeof err) == WB_OK, "%s", err);
    const uint32_t k = 61 / 20; /* 3 */
    ck_assert_int_eq(img.width, 31);
    ck_assert_int_eq(img.height, 21);
    ck_assert_int_eq(img.orig_width, 91);
    ck_assert_int_eq(img.orig_height, 61);
    for (uint32_t oy = 0; oy < 21; oy++)
        for (uint32_t ox = 0; ox < 31; ox++)
            for (int c = 0; c < 3; c++) {
                uint32_t sum = 0, count = 0;
                for (uint32_t y = oy * k; y < oy * k + k && y < h; y++)
                    for (uint32_t x = ox * k; x < ox * k + k && x < w; x++) sum += pattern(x, y, c), count++;
                ck_assert_int_eq(img.rgb[(oy * 31 + ox) * 3 + c], (sum + count / 2) / count);
            }
    wb_image_free(&img);
    /* below shrink_above the decode is exact */
    o.shrink_above = (int64_t)w * h;
    ck_assert_int_eq(wb_image_decode_file(path, &o, &img, err, sizeof err), WB_OK);
    ck_assert_int_eq(img.width, 91);
    ck_assert_int_eq(img.rgb[(5 * 91 + 7) * 3 + 1], pattern(7, 5, 1));
    wb_image_free(&img);
}
END_TEST

static long peak_rss_kib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* 8192 x 4100 RGB is 100 MiB decoded; shrunk while streaming, the peak stays far below. */
START_TEST(large_png_never_exists_at_full_size) {
    const char *path = write_png("large.png", 8192, 4100, true);
    long before = peak_rss_kib();
    wb_decode_opts o = {.min_side = 128, .shrink_above = (int64_t)1 << 24, .max_pixels = (int64_t)1 << 26};
    wb_image img;
    char err[512];
    ck_assert_msg(wb_image_decode_file(path, &o, &img, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(img.height, 4100 / 32 + 1); /* k = 4100 / 128 = 32 */
    ck_assert_int_eq(img.width, 8192 / 32);
    long grown = peak_rss_kib() - before;
    ck_assert_msg(grown < 32 * 1024, "decoding grew the peak RSS by %ld KiB", grown);
    wb_image_free(&img);
    unlink(path);
}
END_TEST

/* The dataset doctor reads every byte of a large image, never holds it at full
 * size, and reports its stored size for the box checks. */
START_TEST(check_decodes_large_images_shrunk) {
    const char *path = write_png("check_large.png", 8192, 4100, true);
    long before = peak_rss_kib();
    wb_check_report r = {0};
    int width = 0, height = 0;
    ck_assert(wb_scan_image(&r, path, path, &width, &height));
    ck_assert_int_eq(width, 8192);
    ck_assert_int_eq(height, 4100);
    ck_assert_int_eq(wb_check_errors(&r), 0);
    long grown = peak_rss_kib() - before;
    ck_assert_msg(grown < 32 * 1024, "checking grew the peak RSS by %ld KiB", grown);
    unlink(path);
}
END_TEST

START_TEST(large_jpeg_uses_dct_scaling) {
    enum { W = 512, H = 384 };
    uint8_t *rgb = calloc((size_t)W * H * 3, 1);
    char err[512];
    const char *path = tmp_path("large.jpg");
    ck_assert_int_eq(wb_image_save_jpeg(path, rgb, W, H, 80, err, sizeof err), WB_OK);
    free(rgb);
    wb_decode_opts o = {.min_side = 90, .shrink_above = 1000};
    wb_image img;
    ck_assert_int_eq(wb_image_decode_file(path, &o, &img, err, sizeof err), WB_OK);
    ck_assert_int_eq(img.width, W / 4); /* 1/4: 96 >= 90 on the shorter side, 1/8 would be 48 */
    ck_assert_int_eq(img.orig_width, W);
    wb_image_free(&img);
}
END_TEST

/* A pipeline of default-configured steps. */
static wb_pipeline *pipeline_of(const char *const *types, int n) {
    wb_pipeline *p = wb_pipeline_empty();
    char err[256];
    for (int i = 0; i < n; i++) ck_assert_msg(wb_pipeline_add(p, types[i], NULL, err, sizeof err) == WB_OK, "%s", err);
    return p;
}

/* Shrink-on-decode only where the first sizing step comes before anything
 * that needs the full image; size bounds for the memory estimate. */
START_TEST(pipeline_decode_side_and_size_bounds) {
    static const char *const flip_resize[] = {"random_flip", "photometric_distortion", "resize"};
    static const char *const crop_resize[] = {"random_crop", "resize"};
    static const char *const mosaic_affine[] = {"mosaic", "random_affine", "random_flip"};
    static const char *const colour_only[] = {"normalize"};
    wb_pipeline *p = pipeline_of(flip_resize, 3);
    ck_assert_int_eq(wb_pipeline_decode_min_side(p), 1333); /* resize's default scale [1333, 800] */
    ck_assert_int_eq(wb_pipeline_max_pixels(p, 0), 1333 * 800);
    wb_pipeline_destroy(p);
    p = pipeline_of(crop_resize, 2);
    ck_assert_int_eq(wb_pipeline_decode_min_side(p), 0); /* the crop needs the image as it is */
    wb_pipeline_destroy(p);
    p = pipeline_of(mosaic_affine, 3);
    ck_assert_int_eq(wb_pipeline_decode_min_side(p), 0);
    ck_assert_int_eq(wb_pipeline_max_pixels(p, 0), 640 * 640); /* the 2x2 canvas, back to one tile */
    wb_pipeline_destroy(p);
    p = pipeline_of(colour_only, 1);
    ck_assert_int_eq(wb_pipeline_decode_min_side(p), 0);
    ck_assert_int_eq(wb_pipeline_max_pixels(p, 0), 0); /* unknown: the images decide */
    wb_pipeline_destroy(p);
}
END_TEST

/* ---- the loader on datasets of files ---- */

typedef struct files_ds {
    int64_t n;
    const char *path;      /* every item's image */
    int boxes;             /* per item */
} files_ds;

static int64_t files_length(void *ds) { return ((files_ds *)ds)->n; }

static wb_status files_get(void *dsp, wb_ctx *ctx, int64_t i, wb_sample *s) {
    (void)ctx;
    files_ds *ds = dsp;
    float *box = calloc((size_t)ds->boxes * 4 + 4, sizeof *box);
    int *labels = calloc((size_t)ds->boxes + 1, sizeof *labels);
    for (int k = 0; k < ds->boxes; k++) box[4 * k + 2] = box[4 * k + 3] = 4;
    *s = (wb_sample){.struct_size = sizeof *s, .image_path = ds->path, .num_boxes = ds->boxes, .boxes = box,
                     .labels = labels, .image_id = i};
    return WB_OK;
}

static void files_release(void *ds, wb_sample *s) {
    (void)ds;
    free(s->boxes);
    free(s->labels);
}

static const wb_dataset_vtable files_vt = {.struct_size = sizeof(wb_dataset_vtable),
                                           .length = files_length,
                                           .get = files_get,
                                           .release_sample = files_release};

/* Runs the loader over ds until it ends; its status, message in msg. */
static wb_status drain(files_ds *ds, wb_loader_opts o, char *msg, size_t n) {
    char err[512];
    wb_loader *l = wb_loader_create(&o, &files_vt, ds, err, sizeof err);
    ck_assert_msg(l != NULL, "%s", err);
    wb_batch *b;
    wb_status st;
    while ((st = wb_loader_next(l, &b)) == WB_OK && b) wb_loader_release(l, b);
    snprintf(msg, n, "%s", wb_loader_error(l));
    wb_loader_destroy(l);
    return st;
}

START_TEST(loader_stops_when_nothing_decodes) {
    const char lfs[] = "version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1\n";
    files_ds ds = {.n = 1000, .path = write_file("pointer.jpg", lfs, sizeof lfs - 1)};
    /* endless epochs: only the bad-sample rule ends this */
    wb_loader_opts o = {.batch_size = 4, .workers = 2, .shuffle = true, .seed = 1, .max_epochs = 0};
    char msg[1024];
    ck_assert_int_eq(drain(&ds, o, msg, sizeof msg), WB_ERR_IO);
    printf("%s\n", msg);
    ck_assert_msg(strstr(msg, "samples in a row failed to load (") == msg + strspn(msg, "0123456789 "), "%s", msg);
    ck_assert_msg(strstr(msg, "a git-lfs pointer, not the image"), "%s", msg);
    ck_assert_msg(strstr(msg, "`workbench check EXPERIMENT` lists every bad image"), "%s", msg);
    ck_assert_int_le(occurrences(msg, ds.path), 3); /* the first few, not all */

    /* a small dataset: one epoch of failures is enough */
    ds.n = 5;
    ck_assert_int_eq(drain(&ds, o, msg, sizeof msg), WB_ERR_IO);
    ck_assert_msg(strstr(msg, "all 5 samples of the dataset failed to load; the first:\n  ") == msg, "%s", msg);
}
END_TEST

START_TEST(loader_refuses_images_with_too_many_boxes) {
    enum { W = 16, H = 16 };
    uint8_t rgb[W * H * 3] = {0};
    char err[512];
    const char *path = tmp_path("boxes.jpg");
    ck_assert_int_eq(wb_image_save_jpeg(path, rgb, W, H, 80, err, sizeof err), WB_OK);
    files_ds ds = {.n = 3, .path = path, .boxes = 1001};
    wb_loader_opts o = {.batch_size = 1, .workers = 1, .max_epochs = 1, .max_boxes = 1000,
                        .on_bad_sample = WB_BAD_SAMPLE_FAIL};
    char msg[1024], want[1024];
    ck_assert_int_eq(drain(&ds, o, msg, sizeof msg), WB_ERR_INVALID);
    snprintf(want, sizeof want,
             "sample 0: %s: 1001 boxes, above data.max_boxes_per_image = 1000; check its labels, or raise the limit "
             "if the image really holds that many objects",
             path);
    ck_assert_msg(strcmp(msg, want) == 0, "got '%s'", msg);
    ds.boxes = 1000;
    ck_assert_int_eq(drain(&ds, o, msg, sizeof msg), WB_OK);
}
END_TEST

int main(void) {
    Suite *s = suite_create("data_hostile");
    TCase *tc = tcase_create("data_hostile");
    tcase_set_timeout(tc, 60); /* a FIFO that blocks fails here instead of stalling CI */
    tcase_add_test(tc, files_that_are_no_image_say_what_they_are);
    tcase_add_test(tc, fifo_is_refused_without_blocking);
    tcase_add_test(tc, pixel_limit_names_the_setting);
    tcase_add_test(tc, png_shrinks_to_block_means_while_streaming);
    tcase_add_test(tc, large_png_never_exists_at_full_size);
    tcase_add_test(tc, check_decodes_large_images_shrunk);
    tcase_add_test(tc, large_jpeg_uses_dct_scaling);
    tcase_add_test(tc, pipeline_decode_side_and_size_bounds);
    tcase_add_test(tc, loader_stops_when_nothing_decodes);
    tcase_add_test(tc, loader_refuses_images_with_too_many_boxes);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
