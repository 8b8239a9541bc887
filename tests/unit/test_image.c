/* Image decoding against PIL (tests/parity/gen_image.py) on the shared
 * images and generated variants, header probing, and corrupt inputs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data/image.h"
#include "wbt_image.h"
#include "wbtest.h"

#define SHARED_DIR WB_SOURCE_DIR "/../shared/datasets"
#define TMP_DIR WB_BINARY_DIR "/test_image_tmp"

static void require_shared(void) {
    struct stat sb;
    ck_assert_msg(stat(SHARED_DIR, &sb) == 0 && S_ISDIR(sb.st_mode),
                  "shared datasets not found at %s: the image tests need ../shared beside the checkout",
                  SHARED_DIR);
}

/* Mean and max |ours - PIL| over all channels of an image. */
typedef struct pixel_diff {
    double mean_abs, max_abs;
} pixel_diff;

static pixel_diff compare_to_pil(const wb_image *img, const float *ref) {
    pixel_diff d = {0, 0};
    size_t n = (size_t)img->width * img->height * 3;
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)img->rgb[i] - ref[i]);
        d.mean_abs += e;
        if (e > d.max_abs) d.max_abs = e;
    }
    d.mean_abs /= (double)n;
    return d;
}

/* Decodes one parity case's file and checks size and pixels. PIL links the
 * same libjpeg-turbo (accurate islow IDCT, fancy upsampling) and libpng, so
 * the decodes are expected to be identical: tolerance 0, except CMYK where
 * the RGB conversion is ours (same integer formula as PIL: also 0). */
static void check_case(const char *name) {
    require_shared();
    char case_name[128];
    snprintf(case_name, sizeof case_name, "image_%s", name);
    wb_st_file f;
    wbt_parity_open(case_name, &f);
    const char *path = wb_st_meta(&f, "path");
    int min_side = (int)wbt_parity_attr(&f, "min_side");
    const wb_st_tensor *t = wb_st_find(&f, "rgb");
    ck_assert_ptr_nonnull(t);
    wb_image img;
    char err[512];
    wb_status st = wb_image_load_file(path, min_side, &img, err, sizeof err);
    ck_assert_msg(st == WB_OK, "%s: %s", name, err);
    ck_assert_msg(img.height == t->shape[0] && img.width == t->shape[1],
                  "%s: decoded %dx%d, PIL %lldx%lld", name, img.width, img.height,
                  (long long)t->shape[1], (long long)t->shape[0]);
    pixel_diff d = compare_to_pil(&img, t->data);
    printf("image %-22s %4dx%-4d (orig %dx%d) mean |ours-PIL| %.4f, max %.0f\n", name, img.width, img.height,
           img.orig_width, img.orig_height, d.mean_abs, d.max_abs);
    ck_assert_msg(d.max_abs == 0.0, "%s: pixels differ from PIL: mean %.4f, max %.0f", name, d.mean_abs,
                  d.max_abs);
    int probe_w = 0, probe_h = 0;
    ck_assert_msg(wb_image_probe_file(path, &probe_w, &probe_h, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(probe_w, img.orig_width);
    ck_assert_int_eq(probe_h, img.orig_height);
    if (min_side > 0) {
        ck_assert_msg((img.width < img.height ? img.width : img.height) >= min_side,
                      "%s: DCT scaling went below the %d-pixel hint", name, min_side);
        ck_assert_msg(img.width < img.orig_width, "%s: hint %d did not scale down", name, min_side);
    }
    wb_image_free(&img);
    wb_st_free(&f);
}

static const char *const cases[] = {
    "bccd_420", "coco_444", "coco_gray", "bccd_420_quarter", "coco_444_half", "progressive", "cmyk",
    "gray_jpeg", "exif_orientation_1", "exif_orientation_2", "exif_orientation_3", "exif_orientation_4",
    "exif_orientation_5", "exif_orientation_6", "exif_orientation_7", "exif_orientation_8", "png_rgb",
    "png_rgba", "png_palette_trns", "png_gray", "png_gray_alpha", "png_1bit", "png_rgb16",
};

START_TEST(test_matches_pil) { check_case(cases[_i]); }
END_TEST

/* Every shared image (292 BCCD + 128 coco128): size equal to PIL's and each
 * channel mean within 0.001 of PIL's (means are stored as float32: ~1e-5). */
START_TEST(test_corpus_means) {
    require_shared();
    wb_st_file f;
    wbt_parity_open("image_corpus", &f);
    int count = (int)wbt_parity_attr(&f, "count");
    const float *means = wbt_parity_tensor(&f, "means", (int64_t)count * 3);
    const float *sizes = wbt_parity_tensor(&f, "sizes", (int64_t)count * 2);
    char *files = strdup(wb_st_meta(&f, "files"));
    ck_assert_int_eq(count, 292 + 128);
    int i = 0;
    double worst = 0.0;
    for (char *save = NULL, *p = strtok_r(files, ";", &save); p; p = strtok_r(NULL, ";", &save), i++) {
        wb_image img;
        char err[512];
        ck_assert_msg(wb_image_load_file(p, 0, &img, err, sizeof err) == WB_OK, "%s", err);
        ck_assert_msg(img.width == (int)sizes[2 * i] && img.height == (int)sizes[2 * i + 1], "%s: size", p);
        for (int ch = 0; ch < 3; ch++) {
            double sum = 0;
            for (size_t k = ch; k < (size_t)img.width * img.height * 3; k += 3) sum += img.rgb[k];
            double diff = fabs(sum / ((double)img.width * img.height) - means[3 * i + ch]);
            if (diff > worst) worst = diff;
            ck_assert_msg(diff < 1e-3, "%s channel %d: mean differs from PIL by %g", p, ch, diff);
        }
        wb_image_free(&img);
    }
    ck_assert_int_eq(i, count);
    printf("image corpus: %d images, worst channel-mean difference to PIL %.2g\n", count, worst);
    free(files);
    wb_st_free(&f);
}
END_TEST

/* ---- corrupt inputs, generated here ---- */

static const char *bccd_image(void) { return SHARED_DIR "/bccd/JPEGImages/BloodImage_00000.jpg"; }

START_TEST(test_truncated_jpeg) {
    require_shared();
    size_t n;
    uint8_t *b = wbt_read_all(bccd_image(), &n);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "truncated_half.jpg", b, n / 2), "Premature end of JPEG file");
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "truncated_header.jpg", b, 30), "truncated");
    /* The header alone is intact: probing works, decoding does not. */
    int w, h;
    char err[256];
    ck_assert_int_eq(wb_image_probe_file(TMP_DIR "/truncated_half.jpg", &w, &h, err, sizeof err), WB_OK);
    ck_assert_int_eq(w, 640);
    ck_assert_int_eq(h, 480);
    ck_assert_int_ne(wb_image_probe_file(TMP_DIR "/truncated_header.jpg", &w, &h, err, sizeof err), WB_OK);
    ck_assert_msg(strstr(err, "truncated") != NULL, "%s", err);
    free(b);
}
END_TEST

START_TEST(test_corrupt_jpeg_data) {
    require_shared();
    size_t n;
    uint8_t *b = wbt_read_all(bccd_image(), &n);
    /* Overwrite the middle of the entropy-coded data with a bogus marker. */
    memset(b + n / 2, 0xFF, 64);
    b[n / 2 + 64] = 0xC0;
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "corrupt_scan.jpg", b, n), "JPEG");
    free(b);
}
END_TEST

START_TEST(test_empty_random_missing) {
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "empty.jpg", NULL, 0), "empty (0 bytes)");
    uint8_t noise[4096];
    uint64_t rng = 7;
    for (size_t i = 0; i < sizeof noise; i++) noise[i] = (uint8_t)(wb_rng_next(&rng) >> 24);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "random.jpg", noise, sizeof noise), "not a JPEG, PNG, BMP, TIFF or WebP");
    wbt_expect_load_error(TMP_DIR "/no such file.jpg", "No such file");
    wbt_expect_load_error(TMP_DIR, "is a directory; expected a regular file");
    /* JPEG signature followed by garbage. */
    noise[0] = 0xFF, noise[1] = 0xD8, noise[2] = 0xFF, noise[3] = 0x00;
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "bad_marker.jpg", noise, sizeof noise), "corrupt header");
    int w, h;
    char err[256];
    ck_assert_int_ne(wb_image_probe_file(TMP_DIR "/empty.jpg", &w, &h, err, sizeof err), WB_OK);
    ck_assert_msg(strstr(err, "empty") != NULL, "%s", err);
}
END_TEST

/* Byte offset of a PNG chunk's data, or 0. */
static size_t png_chunk(const uint8_t *b, size_t n, const char *type) {
    for (size_t pos = 8; pos + 8 <= n;) {
        size_t len = (size_t)b[pos] << 24 | (size_t)b[pos + 1] << 16 | (size_t)b[pos + 2] << 8 | b[pos + 3];
        if (memcmp(b + pos + 4, type, 4) == 0) return pos + 8;
        pos += 12 + len;
    }
    return 0;
}

START_TEST(test_corrupt_png) {
    require_shared();
    char src[512];
    snprintf(src, sizeof src, "%s/image_fixtures/png_rgb.png", WB_PARITY_DIR);
    size_t n;
    uint8_t *b = wbt_read_all(src, &n);
    size_t idat = png_chunk(b, n, "IDAT");
    ck_assert_uint_gt(idat, 0);
    uint8_t *bad = malloc(n);
    memcpy(bad, b, n);
    size_t idat_len = (size_t)b[idat - 8] << 24 | (size_t)b[idat - 7] << 16 | (size_t)b[idat - 6] << 8 | b[idat - 5];
    bad[idat + idat_len] ^= 0x55; /* the IDAT CRC itself */
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "bad_crc_idat.png", bad, n), "CRC error");
    memcpy(bad, b, n);
    bad[idat + 10] ^= 0x55; /* compressed data changed: zlib notices before the CRC */
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "bad_data_idat.png", bad, n), "corrupt PNG");
    memcpy(bad, b, n);
    bad[16 + 3] ^= 0x01; /* IHDR width changed, CRC not */
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "bad_crc_ihdr.png", bad, n), "CRC error");
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "truncated.png", b, idat + 40), "truncated");
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "truncated_header.png", b, 20), "truncated");
    free(bad);
    free(b);
}
END_TEST

/* Decoding from memory gives the same result as from the file. */
START_TEST(test_memory_equals_file) {
    require_shared();
    size_t n;
    uint8_t *b = wbt_read_all(bccd_image(), &n);
    wb_image a, m;
    char err[256];
    ck_assert_int_eq(wb_image_load_file(bccd_image(), 200, &a, err, sizeof err), WB_OK);
    ck_assert_int_eq(wb_image_load_memory(b, n, 200, &m, err, sizeof err), WB_OK);
    ck_assert_int_eq(a.width, 320);
    ck_assert_int_eq(m.width, a.width);
    ck_assert_int_eq(m.height, a.height);
    ck_assert_int_eq(memcmp(a.rgb, m.rgb, (size_t)a.width * a.height * 3), 0);
    wb_image_free(&a);
    wb_image_free(&m);
    free(b);
}
END_TEST

static Suite *image_suite(void) {
    Suite *s = suite_create("image");
    TCase *tc = tcase_create("decode");
    tcase_set_timeout(tc, 120);
    tcase_add_loop_test(tc, test_matches_pil, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_corpus_means);
    tcase_add_test(tc, test_truncated_jpeg);
    tcase_add_test(tc, test_corrupt_jpeg_data);
    tcase_add_test(tc, test_empty_random_missing);
    tcase_add_test(tc, test_corrupt_png);
    tcase_add_test(tc, test_memory_equals_file);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return wbt_run_suite(image_suite()); }
