/* PNG through libpng's sequential read API, transformed to 8-bit RGB
 * the way PIL's convert('RGB') does: palette expanded (transparency
 * ignored), gray replicated, alpha dropped (not composited), 16-bit reduced
 * to the high byte. */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image_codecs.h"
#include "image_limits.h"

typedef struct png_source {
    const uint8_t *bytes;
    size_t n, pos;
    char *err;
    size_t err_size;
} png_source;

static void read_bytes(png_structp png, png_bytep dst, size_t len) {
    png_source *src = png_get_io_ptr(png);
    if (len > src->n - src->pos) png_error(png, "file ends before the image data does (truncated)");
    memcpy(dst, src->bytes + src->pos, len);
    src->pos += len;
}

static void on_error(png_structp png, png_const_charp msg) {
    png_source *src = png_get_error_ptr(png);
    snprintf(src->err, src->err_size, "corrupt PNG (libpng: %s)", msg);
    png_longjmp(png, 1);
}

/* Warnings (unknown chunks, odd sRGB profiles) leave the pixels intact. */
static void on_warning(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

/* Largest factor k >= 2 with the shorter side / k still >= min_side, else 1. */
static int shrink_factor(png_uint_32 w, png_uint_32 h, int min_side, int interlaced) {
    if (min_side <= 0 || interlaced) return 1; /* interlaced rows arrive in passes, not in order */
    png_uint_32 shorter = w < h ? w : h;
    png_uint_32 k = shorter / (png_uint_32)min_side;
    return k >= 2 ? (int)k : 1;
}

/* Reads the h rows one at a time into k x k block averages (the last block of
 * a row or column averages what is left), so that only one full-width row
 * and one row of sums exist: an image of any size costs O(width). */
static void read_shrunk(png_structp png, png_uint_32 w, png_uint_32 h, int k, uint8_t *row, uint64_t *sums,
                        uint8_t *out) {
    png_uint_32 ow = (w + (png_uint_32)k - 1) / (png_uint_32)k;
    memset(sums, 0, (size_t)ow * 3 * sizeof *sums);
    for (png_uint_32 y = 0; y < h; y++) {
        png_read_row(png, row, NULL);
        const uint8_t *px = row;
        for (png_uint_32 x0 = 0, ox = 0; x0 < w; x0 += (png_uint_32)k, ox++) {
            png_uint_32 cols = w - x0 < (png_uint_32)k ? w - x0 : (png_uint_32)k;
            uint64_t r = 0, g = 0, b = 0;
            for (png_uint_32 i = 0; i < cols; i++, px += 3) r += px[0], g += px[1], b += px[2];
            sums[ox * 3] += r, sums[ox * 3 + 1] += g, sums[ox * 3 + 2] += b;
        }
        int rows_in = (int)(y % (png_uint_32)k) + 1;
        if (rows_in < k && y != h - 1) continue;
        uint8_t *dst = out + (size_t)(y / (png_uint_32)k) * ow * 3;
        for (png_uint_32 ox = 0; ox < ow; ox++) {
            png_uint_32 cols = w - ox * (png_uint_32)k < (png_uint_32)k ? w - ox * (png_uint_32)k : (png_uint_32)k;
            uint64_t count = (uint64_t)cols * (uint64_t)rows_in;
            for (int c = 0; c < 3; c++) dst[ox * 3 + c] = (uint8_t)((sums[ox * 3 + c] + count / 2) / count);
        }
        memset(sums, 0, (size_t)ow * 3 * sizeof *sums);
    }
}

wb_status wb_decode_png(const uint8_t *bytes, size_t n, int min_side, wb_image *img, char *err, size_t err_size) {
    png_source src = {bytes, n, 0, err, err_size};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        snprintf(err, err_size, "out of memory creating a PNG reader");
        return WB_ERR_NOMEM;
    }
    /* volatile: modified between setjmp and a possible longjmp. */
    uint8_t *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    uint8_t *volatile row = NULL;
    uint64_t *volatile sums = NULL;
    wb_status volatile st = WB_ERR_IO;
    if (setjmp(png_jmpbuf(png))) goto done;
    png_set_read_fn(png, &src, read_bytes);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    if ((int64_t)w * h > WB_IMAGE_MAX_PIXELS) {
        snprintf(err, err_size, "PNG is %ux%u, above the %lld-pixel limit", (unsigned)w, (unsigned)h,
                 (long long)WB_IMAGE_MAX_PIXELS);
        st = WB_ERR_UNSUPPORTED;
        goto done;
    }
    int color = png_get_color_type(png, info);
    png_set_strip_16(png);
    png_set_packing(png);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY || color == PNG_COLOR_TYPE_GRAY_ALPHA) {
        png_set_expand_gray_1_2_4_to_8(png);
        png_set_gray_to_rgb(png);
    }
    png_set_strip_alpha(png);
    int k = shrink_factor(w, h, min_side, png_set_interlace_handling(png) > 1);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) {
        snprintf(err, err_size, "PNG colour layout could not be converted to RGB");
        goto done;
    }
    png_uint_32 ow = (w + (png_uint_32)k - 1) / (png_uint_32)k, oh = (h + (png_uint_32)k - 1) / (png_uint_32)k;
    pixels = malloc((size_t)ow * oh * 3);
    if (k > 1) {
        row = malloc((size_t)w * 3);
        sums = malloc((size_t)ow * 3 * sizeof *sums);
    } else {
        rows = malloc(sizeof(png_bytep) * h);
    }
    if (!pixels || (k > 1 ? !row || !sums : !rows)) {
        snprintf(err, err_size, "out of memory decoding a %ux%u PNG", (unsigned)w, (unsigned)h);
        st = WB_ERR_NOMEM;
        goto done;
    }
    if (k > 1) {
        read_shrunk(png, w, h, k, row, sums, pixels);
    } else {
        for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * w * 3;
        png_read_image(png, rows);
    }
    img->rgb = pixels;
    img->width = (int)ow;
    img->height = (int)oh;
    pixels = NULL;
    st = WB_OK;
done:
    free(rows);
    free(row);
    free(sums);
    free(pixels);
    png_destroy_read_struct(&png, &info, NULL);
    return st;
}
