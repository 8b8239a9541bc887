/* PNG through libpng's progressive-free read API, transformed to 8-bit RGB
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

wb_status wb_decode_png(const uint8_t *bytes, size_t n, wb_image *img, char *err, size_t err_size) {
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
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != (size_t)w * 3) {
        snprintf(err, err_size, "PNG colour layout could not be converted to RGB");
        goto done;
    }
    pixels = malloc((size_t)w * h * 3);
    rows = malloc(sizeof(png_bytep) * h);
    if (!pixels || !rows) {
        snprintf(err, err_size, "out of memory decoding a %ux%u PNG", (unsigned)w, (unsigned)h);
        st = WB_ERR_NOMEM;
        goto done;
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * w * 3;
    png_read_image(png, rows);
    img->rgb = pixels;
    img->width = (int)w;
    img->height = (int)h;
    pixels = NULL;
    st = WB_OK;
done:
    free(rows);
    free(pixels);
    png_destroy_read_struct(&png, &info, NULL);
    return st;
}
