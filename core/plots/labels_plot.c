#include "labels_plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "bar_chart.h"
#include "figure.h"
#include "heatmap.h"

enum { SIDE = 1600, HALF = SIDE / 2, BINS = 50, MAX_OUTLINES = 1000 };

/* A BINS x BINS histogram of (a, b) in 0..1, b upwards; cells in square-root
 * scale so that sparse regions still show, empty ones white. */
static void histogram(wb_axes *a, const wb_label_box *boxes, size_t n, bool sizes, const char *xl, const char *yl) {
    double counts[BINS * BINS] = {0}, top = 0;
    for (size_t i = 0; i < n; i++) {
        double x = sizes ? boxes[i].w : boxes[i].cx, y = sizes ? boxes[i].h : boxes[i].cy;
        int bx = (int)fmin(fmax(x * BINS, 0), BINS - 1), by = (int)fmin(fmax(y * BINS, 0), BINS - 1);
        counts[(BINS - 1 - by) * BINS + bx]++;
    }
    for (int i = 0; i < BINS * BINS; i++) {
        counts[i] = counts[i] > 0 ? sqrt(counts[i]) : NAN;
        if (counts[i] > top) top = counts[i];
    }
    wb_plot_heatmap(a, counts, BINS, BINS, top, false, NULL, NULL);
    wb_axes_limits(a, 0, 1, 0, 1);
    a->ticks = WB_TICKS_X | WB_TICKS_Y;
    wb_axes_draw(a, NULL, xl, yl);
}

/* YOLOv5 draws each box centred on a blank square: their shapes at a glance. */
static void outlines(wb_axes *a, const wb_label_box *boxes, size_t n) {
    cairo_t *cr = a->cr;
    wb_axes_clip(a);
    cairo_set_line_width(cr, 1.0);
    for (size_t i = 0; i < n && i < MAX_OUTLINES; i++) {
        wb_rgb c = wb_class_color(boxes[i].label);
        cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, 0.6);
        double w = boxes[i].w * a->width, h = boxes[i].h * a->height;
        cairo_rectangle(cr, a->left + (a->width - w) / 2, a->top + (a->height - h) / 2, w, h);
        cairo_stroke(cr);
    }
    cairo_restore(cr);
    a->ticks = 0;
    wb_axes_draw(a, "box shapes", NULL, NULL);
}

wb_status wb_labels_plot(const wb_label_box *boxes, size_t n, int num_classes, const char *const *names,
                         const char *path, char *err, size_t en) {
    int k = num_classes > 0 ? num_classes : 1;
    double *counts = calloc((size_t)k, sizeof *counts);
    wb_rgb *colors = malloc((size_t)k * sizeof *colors);
    if (!counts || !colors) {
        free(counts), free(colors);
        snprintf(err, en, "out of memory plotting %s", path);
        return WB_ERR_NOMEM;
    }
    for (size_t i = 0; i < n; i++)
        if (boxes[i].label >= 0 && boxes[i].label < num_classes) counts[boxes[i].label]++;
    for (int c = 0; c < k; c++) colors[c] = wb_class_color(c);
    wb_figure f;
    wb_figure_open(&f, SIDE, SIDE);
    wb_axes a;
    wb_axes_place(&a, f.cr, 0, 0, HALF, HALF, 16);
    a.height -= 4 * a.font; /* room for upright class names */
    wb_plot_bars(&a, counts, num_classes, names, colors);
    wb_axes_draw(&a, "instances", NULL, NULL);
    wb_axes_place(&a, f.cr, HALF, 0, HALF, HALF, 16);
    outlines(&a, boxes, n);
    wb_axes_place(&a, f.cr, 0, HALF, HALF, HALF, 16);
    histogram(&a, boxes, n, false, "x", "y");
    wb_axes_place(&a, f.cr, HALF, HALF, HALF, HALF, 16);
    histogram(&a, boxes, n, true, "width", "height");
    free(counts), free(colors);
    return wb_figure_save(&f, path, err, en);
}
