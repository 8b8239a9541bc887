#include "batch_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "axes.h"
#include "figure.h"

wb_status wb_plot_batch_init(wb_plot_batch *pb, const float *images, int n, int h, int w, const wb_denorm *d) {
    memset(pb, 0, sizeof *pb);
    pb->n = n < WB_PLOT_BATCH_MAX ? n : WB_PLOT_BATCH_MAX;
    pb->w = w, pb->h = h;
    pb->rgb = malloc((size_t)pb->n * h * w * 3);
    if (!pb->rgb) return WB_ERR_NOMEM;
    for (int i = 0; i < pb->n; i++) wb_denorm_image(images, i, h, w, d, pb->rgb + (size_t)i * h * w * 3);
    return WB_OK;
}

wb_status wb_plot_batch_add(wb_plot_batch *pb, int i, const float *boxes, const int *labels, const float *scores,
                            int n) {
    if (i >= pb->n || n <= 0) return WB_OK;
    if (pb->total + n > pb->cap) {
        int cap = pb->cap ? pb->cap : 256;
        while (cap < pb->total + n) cap *= 2;
        float *b = realloc(pb->boxes, (size_t)cap * 4 * sizeof *b);
        if (b) pb->boxes = b;
        float *s = realloc(pb->scores, (size_t)cap * sizeof *s);
        if (s) pb->scores = s;
        int *l = realloc(pb->labels, (size_t)cap * sizeof *l);
        if (l) pb->labels = l;
        int *im = realloc(pb->image, (size_t)cap * sizeof *im);
        if (im) pb->image = im;
        if (!b || !s || !l || !im) return WB_ERR_NOMEM;
        pb->cap = cap;
    }
    memcpy(pb->boxes + 4 * pb->total, boxes, (size_t)n * 4 * sizeof *boxes);
    memcpy(pb->labels + pb->total, labels, (size_t)n * sizeof *labels);
    for (int k = 0; k < n; k++) pb->scores[pb->total + k] = scores ? scores[k] : 1.0f, pb->image[pb->total + k] = i;
    pb->predictions |= scores != NULL;
    pb->total += n;
    return WB_OK;
}

wb_status wb_plot_batch_add_truth(wb_plot_batch *pb, const wb_batch_truth *t) {
    for (int i = 0; i < t->batch && i < pb->n; i++) {
        const wb_gt_image *g = &t->images[i];
        for (int k = 0; k < g->num_boxes; k++) {
            if (g->ignore[k]) continue;
            wb_status st = wb_plot_batch_add(pb, i, g->boxes + 4 * k, g->labels + k, NULL, 1);
            if (st != WB_OK) return st;
        }
    }
    return WB_OK;
}

/* One image as a cairo surface (cairo keeps pixels as 32-bit xRGB words). */
static cairo_surface_t *surface_of(const uint8_t *rgb, int w, int h) {
    cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
    if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) return s;
    cairo_surface_flush(s);
    unsigned char *data = cairo_image_surface_get_data(s);
    int stride = cairo_image_surface_get_stride(s);
    for (int y = 0; y < h; y++) {
        uint32_t *row = (uint32_t *)(data + (size_t)y * stride);
        const uint8_t *src = rgb + (size_t)y * w * 3;
        for (int x = 0; x < w; x++) row[x] = (uint32_t)src[3 * x] << 16 | (uint32_t)src[3 * x + 1] << 8 | src[3 * x + 2];
    }
    cairo_surface_mark_dirty(s);
    return s;
}

static void draw_box(cairo_t *cr, const float *b, double ox, double oy, double scale, const char *text, double font,
                     wb_rgb color) {
    double x1 = ox + b[0] * scale, y1 = oy + b[1] * scale, x2 = ox + b[2] * scale, y2 = oy + b[3] * scale;
    wb_set_rgb(cr, color);
    cairo_set_line_width(cr, fmax(1.0, font / 8));
    cairo_rectangle(cr, x1, y1, x2 - x1, y2 - y1);
    cairo_stroke(cr);
    double tw = wb_plot_text_width(text, font);
    if (tw <= 0) return;
    double th = 1.25 * font, ty = y1 - th >= oy ? y1 - th : y1;
    cairo_rectangle(cr, x1, ty, tw + 0.4 * font, th);
    cairo_fill(cr);
    wb_plot_text(cr, text, font, x1 + 0.2 * font, ty + th / 2, 0, 0.5, 0, (wb_rgb){255, 255, 255});
}

wb_status wb_plot_batch_save(const wb_plot_batch *pb, const char *const *names, int num_names, const char *path,
                             char *err, size_t n) {
    int ns = (int)ceil(sqrt((double)(pb->n > 0 ? pb->n : 1)));
    double scale = 1920.0 / ns / (pb->w > pb->h ? pb->w : pb->h);
    if (scale > 1) scale = 1;
    int tw = (int)(pb->w * scale), th = (int)(pb->h * scale);
    wb_figure f;
    wb_figure_open(&f, ns * tw, ns * th);
    double font = fmax(9.0, (tw + th) * ns * 0.01);
    for (int i = 0; i < pb->n; i++) {
        double ox = (double)tw * (i % ns), oy = (double)th * (i / ns); /* row by row, as read */
        cairo_surface_t *img = surface_of(pb->rgb + (size_t)i * pb->h * pb->w * 3, pb->w, pb->h);
        cairo_save(f.cr);
        cairo_translate(f.cr, ox, oy);
        cairo_scale(f.cr, scale, scale);
        cairo_set_source_surface(f.cr, img, 0, 0);
        cairo_paint(f.cr);
        cairo_restore(f.cr);
        cairo_surface_destroy(img);
        cairo_save(f.cr);
        cairo_rectangle(f.cr, ox, oy, tw, th);
        cairo_clip(f.cr);
        for (int at = 0; at < pb->total; at++) {
            if (pb->image[at] != i || (pb->predictions && !(pb->scores[at] > 0.25f))) continue;
            int label = pb->labels[at];
            char text[256], num[16];
            snprintf(num, sizeof num, "%d", label);
            const char *name = label >= 0 && label < num_names && names ? names[label] : num;
            if (pb->predictions) snprintf(text, sizeof text, "%s %.1f", name, pb->scores[at]);
            else snprintf(text, sizeof text, "%s", name);
            draw_box(f.cr, pb->boxes + 4 * at, ox, oy, scale, text, 0.6 * font, wb_class_color(label));
        }
        cairo_restore(f.cr);
        cairo_set_source_rgb(f.cr, 1, 1, 1);
        cairo_set_line_width(f.cr, 2);
        cairo_rectangle(f.cr, ox, oy, tw, th);
        cairo_stroke(f.cr);
    }
    return wb_figure_save(&f, path, err, n);
}

void wb_plot_batch_free(wb_plot_batch *pb) {
    free(pb->rgb), free(pb->boxes), free(pb->scores), free(pb->labels), free(pb->image);
    memset(pb, 0, sizeof *pb);
}
