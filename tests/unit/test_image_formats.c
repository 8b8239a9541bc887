/* BMP (stb_image), TIFF (libtiff) and WebP (libwebp): decodes equal to
 * Pillow's (tests/parity/gen_image_formats.py, files written by Pillow:
 * palettes, gray, 1-bit, alpha, LZW / deflate / PackBits, lossy and
 * lossless WebP; the TIFF Orientation tag applied as OpenCV does), header sizes equal to the
 * decode, and the corrupt and hostile files test_image gives JPEG and PNG:
 * truncated data, a truncated header, an empty file, huge or zero
 * dimensions, a damaged signature. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "data/image.h"
#include "data/image_header.h"
#include "wbt_image.h"
#include "wbtest.h"

#define TMP_DIR WB_BINARY_DIR "/test_image_formats_tmp"

static const char *const cases[] = {
    "bmp_rgb",      "bmp_rgba",           "bmp_palette", "bmp_gray",      "bmp_1bit",    "tiff_raw",
    "tiff_lzw",     "tiff_deflate",       "tiff_gray",   "tiff_palette",  "tiff_orientation_6",
    "webp_lossy",   "webp_lossless",      "webp_alpha",  "webp_lossy_alpha",
};

START_TEST(test_matches_pil) {
    char case_name[128];
    snprintf(case_name, sizeof case_name, "image_format_%s", cases[_i]);
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    const char *path = wb_st_meta(&f, "path");
    const wb_st_tensor *t = wb_st_find(&f, "rgb");
    ck_assert_ptr_nonnull(t);
    wb_image img;
    char err[512];
    ck_assert_msg(wb_image_load_file(path, 0, &img, err, sizeof err) == WB_OK, "%s: %s", cases[_i], err);
    ck_assert_msg(img.height == t->shape[0] && img.width == t->shape[1], "%s: decoded %dx%d, Pillow %lldx%lld",
                  cases[_i], img.width, img.height, (long long)t->shape[1], (long long)t->shape[0]);
    int worst = 0;
    for (size_t i = 0; i < (size_t)img.width * img.height * 3; i++) {
        int d = abs((int)img.rgb[i] - (int)t->data[i]);
        if (d > worst) worst = d;
    }
    ck_assert_msg(worst == 0, "%s: pixels differ from Pillow's by up to %d levels", cases[_i], worst);
    int w = 0, h = 0;
    ck_assert_msg(wb_image_probe_file(path, &w, &h, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(w, img.orig_width);
    ck_assert_int_eq(h, img.orig_height);
    wb_image_free(&img);
    wb_st_free(&f);
}
END_TEST

static void put_le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* The bytes of one generated file, or NULL (skipped, said why) without the parity cases. */
static uint8_t *fixture_bytes(const char *name, size_t *n) {
    char case_name[128];
    snprintf(case_name, sizeof case_name, "image_format_%s", name);
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return NULL;
    uint8_t *b = wbt_read_all(wb_st_meta(&f, "path"), n);
    wb_st_free(&f);
    return b;
}

/* What every format shares: cut data, a cut header, no bytes, a damaged signature. */
static void check_common(const char *name, const char *ext, const char *truncated_text) {
    size_t n;
    uint8_t *b = fixture_bytes(name, &n);
    if (!b) return;
    char file[64];
    snprintf(file, sizeof file, "half_%s.%s", name, ext);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, file, b, n / 2), truncated_text);
    snprintf(file, sizeof file, "head_%s.%s", name, ext);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, file, b, 12), "truncated");
    snprintf(file, sizeof file, "empty.%s", ext);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, file, b, 0), "empty");
    b[1] ^= 0x20; /* BM -> Bm, II -> Ii, RIFF -> RiFF */
    snprintf(file, sizeof file, "magic_%s.%s", name, ext);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, file, b, n), "not a JPEG, PNG, BMP, TIFF or WebP file");
    free(b);
}

START_TEST(test_corrupt_bmp) {
    check_common("bmp_rgb", "bmp", "BMP");
    size_t n;
    uint8_t *b = fixture_bytes("bmp_rgb", &n);
    if (!b) return;
    put_le32(b + 18, 100000), put_le32(b + 22, 100000);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "huge.bmp", b, n), "pixel limit");
    put_le32(b + 18, 0);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "zero_width.bmp", b, n), "invalid width or height");
    put_le32(b + 18, 53), put_le32(b + 22, 37), put_le32(b + 14, 77);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "dib_size.bmp", b, n), "unknown DIB header size");
    free(b);
}
END_TEST

/* Offset of a little-endian TIFF's first-directory entry for tag, or 0. */
static size_t tiff_entry(const uint8_t *b, size_t n, unsigned tag) {
    uint32_t ifd = (uint32_t)b[4] | (uint32_t)b[5] << 8 | (uint32_t)b[6] << 16 | (uint32_t)b[7] << 24;
    unsigned count = (unsigned)(b[ifd] | b[ifd + 1] << 8);
    for (unsigned i = 0; i < count && ifd + 2 + (i + 1) * 12 <= n; i++) {
        size_t e = ifd + 2 + (size_t)i * 12;
        if ((unsigned)(b[e] | b[e + 1] << 8) == tag) return e;
    }
    return 0;
}

START_TEST(test_corrupt_tiff) {
    check_common("tiff_raw", "tif", "TIFF"); /* directory first: libtiff finds the strips cut */
    check_common("tiff_lzw", "tif", "truncated"); /* directory last: the header is cut */
    size_t n;
    uint8_t *b = fixture_bytes("tiff_raw", &n);
    if (!b) return;
    ck_assert_msg(b[0] == 'I', "Pillow wrote a big-endian TIFF; the test patches little-endian entries");
    size_t we = tiff_entry(b, n, 256), he = tiff_entry(b, n, 257);
    ck_assert(we && he);
    /* sizes as LONG values */
    b[we + 2] = 4, b[we + 3] = 0, b[he + 2] = 4, b[he + 3] = 0;
    put_le32(b + we + 8, 100000), put_le32(b + he + 8, 100000);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "huge.tif", b, n), "pixel limit");
    put_le32(b + we + 8, 0);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "zero_width.tif", b, n), "no valid width and height");
    put_le32(b + we + 8, 53), put_le32(b + he + 8, 37);
    put_le32(b + 4, 3);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "ifd_in_header.tif", b, n), "corrupt header");
    free(b);
}
END_TEST

START_TEST(test_corrupt_webp) {
    check_common("webp_lossy", "webp", "WebP");
    check_common("webp_lossless", "webp", "WebP");
    size_t n;
    uint8_t *b = fixture_bytes("webp_lossy", &n);
    if (!b) return;
    ck_assert(memcmp(b + 12, "VP8 ", 4) == 0);
    uint8_t *zero = malloc(n);
    memcpy(zero, b, n);
    zero[26] = zero[27] = 0;
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "zero_width.webp", zero, n), "zero width or height");
    /* 14-bit sizes cap a VP8 frame at 16383 x 16383: a VP8X canvas of 100000 x 100000 is huge */
    uint8_t vp8x[64] = "RIFF\x38\0\0\0WEBPVP8X\x0a\0\0\0";
    uint32_t side = 100000 - 1;
    for (int i = 0; i < 3; i++) vp8x[24 + i] = (uint8_t)(side >> (8 * i)), vp8x[27 + i] = (uint8_t)(side >> (8 * i));
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "huge.webp", vp8x, sizeof vp8x), "pixel limit");
    memcpy(b + 23, "\0\0\0", 3);
    wbt_expect_load_error(wbt_write_fixture(TMP_DIR, "start_code.webp", b, n), "key frame start code");
    free(zero);
    free(b);
}
END_TEST

/* Headers alone (what the yolo plugin and `check` read): sizes and the TIFF orientation. */
START_TEST(test_headers) {
    const struct { const char *name; int w, h, orientation; wb_image_format format; } want[] = {
        {"bmp_1bit", 53, 37, 1, WB_IMG_BMP},          {"tiff_gray", 53, 37, 1, WB_IMG_TIFF},
        {"tiff_orientation_6", 37, 53, 6, WB_IMG_TIFF}, {"webp_lossless", 53, 37, 1, WB_IMG_WEBP},
        {"webp_alpha", 53, 37, 1, WB_IMG_WEBP},        {"webp_lossy", 53, 37, 1, WB_IMG_WEBP},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        size_t n;
        uint8_t *b = fixture_bytes(want[i].name, &n);
        if (!b) return;
        wb_image_header h;
        const char *why = NULL;
        ck_assert_msg(wb_image_header_parse(b, n, &h, &why) == WB_HDR_OK, "%s: %s", want[i].name, why);
        ck_assert_int_eq(h.format, want[i].format);
        ck_assert_msg(h.width == want[i].w && h.height == want[i].h && h.orientation == want[i].orientation,
                      "%s: %dx%d orientation %d", want[i].name, h.width, h.height, h.orientation);
        free(b);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("image_formats");
    TCase *tc = tcase_create("core");
    tcase_add_loop_test(tc, test_matches_pil, 0, (int)(sizeof cases / sizeof cases[0]));
    tcase_add_test(tc, test_corrupt_bmp);
    tcase_add_test(tc, test_corrupt_tiff);
    tcase_add_test(tc, test_corrupt_webp);
    tcase_add_test(tc, test_headers);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
