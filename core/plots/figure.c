#include "figure.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../data/image_write.h"

void wb_figure_open(wb_figure *f, int width, int height) {
    f->width = width, f->height = height;
    f->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height);
    f->cr = cairo_create(f->surface);
    cairo_set_source_rgb(f->cr, 1, 1, 1);
    cairo_paint(f->cr);
}

static bool ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* cairo's RGB24 is a native-endian 32-bit xRGB word per pixel. */
static wb_status save_jpeg(cairo_surface_t *s, const char *path, char *err, size_t n) {
    int w = cairo_image_surface_get_width(s), h = cairo_image_surface_get_height(s);
    int stride = cairo_image_surface_get_stride(s);
    const unsigned char *data = cairo_image_surface_get_data(s);
    uint8_t *rgb = malloc((size_t)w * h * 3);
    if (!rgb) {
        snprintf(err, n, "%s: out of memory for a %dx%d picture", path, w, h);
        return WB_ERR_NOMEM;
    }
    for (int y = 0; y < h; y++) {
        const uint32_t *row = (const uint32_t *)(data + (size_t)y * stride);
        for (int x = 0; x < w; x++) {
            uint8_t *px = rgb + ((size_t)y * w + x) * 3;
            px[0] = (uint8_t)(row[x] >> 16), px[1] = (uint8_t)(row[x] >> 8), px[2] = (uint8_t)row[x];
        }
    }
    wb_status st = wb_image_save_jpeg(path, rgb, w, h, 90, err, n);
    free(rgb);
    return st;
}

static wb_status save_png(cairo_surface_t *s, const char *path, char *err, size_t n) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cairo_status_t cs = cairo_surface_write_to_png(s, tmp);
    if (cs != CAIRO_STATUS_SUCCESS || rename(tmp, path) != 0) {
        snprintf(err, n, "cannot write %s: %s", path, cs != CAIRO_STATUS_SUCCESS ? cairo_status_to_string(cs)
                 : "rename failed");
        remove(tmp);
        return WB_ERR_IO;
    }
    return WB_OK;
}

wb_status wb_figure_save(wb_figure *f, const char *path, char *err, size_t n) {
    cairo_surface_flush(f->surface);
    cairo_status_t cs = cairo_status(f->cr);
    wb_status st = WB_OK;
    if (cs != CAIRO_STATUS_SUCCESS) {
        snprintf(err, n, "%s: drawing failed: %s", path, cairo_status_to_string(cs));
        st = WB_ERR_INTERNAL;
    } else if (ends_with(path, ".jpg") || ends_with(path, ".jpeg")) {
        st = save_jpeg(f->surface, path, err, n);
    } else {
        st = save_png(f->surface, path, err, n);
    }
    wb_figure_close(f);
    return st;
}

void wb_figure_close(wb_figure *f) {
    if (f->cr) cairo_destroy(f->cr);
    if (f->surface) cairo_surface_destroy(f->surface);
    f->cr = NULL, f->surface = NULL;
}
