#include "tb_pictures.h"

#include <cairo.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../render/canvas.h"

typedef struct png_buffer {
    unsigned char *data;
    size_t len, cap;
} png_buffer;

static cairo_status_t append(void *user, const unsigned char *data, unsigned int len) {
    png_buffer *b = user;
    if (b->len + len > b->cap) {
        size_t cap = (b->cap ? b->cap * 2 : 65536) + len;
        unsigned char *grown = realloc(b->data, cap);
        if (!grown) return CAIRO_STATUS_NO_MEMORY;
        b->data = grown, b->cap = cap;
    }
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return CAIRO_STATUS_SUCCESS;
}

/* PNG of an RGB image through cairo's writer (RGB24: one native-endian xRGB word a pixel). */
static int encode_png(const uint8_t *rgb, int w, int h, png_buffer *out) {
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) {
        cairo_surface_destroy(s);
        return -1;
    }
    cairo_surface_flush(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < h; y++) {
        uint32_t *row = (uint32_t *)(data + (size_t)y * stride);
        for (int x = 0; x < w; x++) {
            const uint8_t *px = rgb + ((size_t)y * w + x) * 3;
            row[x] = (uint32_t)px[0] << 16 | (uint32_t)px[1] << 8 | px[2];
        }
    }
    cairo_surface_mark_dirty(s);
    cairo_status_t st = cairo_surface_write_to_png_stream(s, append, out);
    cairo_surface_destroy(s);
    return st == CAIRO_STATUS_SUCCESS ? 0 : -1;
}

/* Image i of the batch with its detections drawn, as a new RGB buffer. */
static uint8_t *draw_image(const wb_plot_batch *pb, int i, const char *const *names, int num_names) {
    size_t bytes = (size_t)pb->w * pb->h * 3;
    uint8_t *rgb = malloc(bytes);
    if (!rgb) return NULL;
    memcpy(rgb, pb->rgb + (size_t)i * bytes, bytes);
    wb_canvas c = {rgb, pb->w, pb->h};
    int thickness = (pb->w + pb->h) / 400 + 1;
    for (int at = 0; at < pb->total; at++) {
        if (pb->image[at] != i || !(pb->scores[at] > 0.25f)) continue;
        const float *b = pb->boxes + 4 * at;
        int label = pb->labels[at];
        wb_rgb color = wb_class_color(label);
        char text[256], num[16];
        snprintf(num, sizeof num, "%d", label);
        snprintf(text, sizeof text, "%s %.2f", label >= 0 && label < num_names && names ? names[label] : num,
                 pb->scores[at]);
        wb_draw_rect(&c, b[0], b[1], b[2], b[3], thickness, color);
        wb_draw_label(&c, (int)b[0], (int)b[1], text, color);
    }
    return rgb;
}

void wb_tb_pictures(wb_event_file *tb, const wb_plot_batch *pred, const char *const *names, int num_names,
                    int64_t step) {
    if (!tb || !pred || !pred->rgb) return;
    for (int i = 0; i < pred->n && i < WB_TB_PICTURES; i++) {
        uint8_t *rgb = draw_image(pred, i, names, num_names);
        png_buffer png = {0};
        if (rgb && encode_png(rgb, pred->w, pred->h, &png) == 0) {
            char tag[64];
            snprintf(tag, sizeof tag, "val/prediction_%d", i);
            wb_event_file_image(tb, tag, step, png.data, png.len, pred->w, pred->h);
        }
        free(png.data);
        free(rgb);
    }
    wb_event_file_flush(tb);
}
