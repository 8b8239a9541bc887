#include "line_plot.h"

#include <math.h>

void wb_plot_line(const wb_axes *a, const double *x, const double *y, int n, wb_rgb color, double width,
                  bool markers) {
    cairo_t *cr = a->cr;
    wb_axes_clip(a);
    wb_set_rgb(cr, color);
    cairo_set_line_width(cr, width);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    bool open = false;
    for (int i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            open = false;
            continue;
        }
        double px = wb_axes_x(a, x[i]), py = wb_axes_y(a, y[i]);
        if (open) cairo_line_to(cr, px, py);
        else cairo_move_to(cr, px, py);
        open = true;
    }
    cairo_stroke(cr);
    for (int i = 0; markers && i < n; i++) {
        if (!isfinite(y[i])) continue;
        cairo_arc(cr, wb_axes_x(a, x[i]), wb_axes_y(a, y[i]), 1.6 * width, 0, 2 * M_PI);
        cairo_fill(cr);
    }
    cairo_restore(cr);
}

void wb_plot_legend(const wb_axes *a, const wb_legend_entry *e, int n, bool lower) {
    if (n <= 0) return;
    cairo_t *cr = a->cr;
    double font = a->font, line = 1.5 * font, sample = 2.0 * font, widest = 0;
    for (int i = 0; i < n; i++) widest = fmax(widest, wb_plot_text_width(e[i].label, font));
    double w = sample + 1.5 * font + widest, h = n * line + 0.6 * font;
    double x = lower ? a->left + 0.6 * font : a->left + a->width - w - 0.6 * font;
    double y = lower ? a->top + a->height - h - 0.6 * font : a->top + 0.6 * font;
    cairo_rectangle(cr, x, y, w, h);
    cairo_set_source_rgba(cr, 1, 1, 1, 0.85);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.8, 0.8, 0.8);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    for (int i = 0; i < n; i++) {
        double cy = y + 0.3 * font + (i + 0.5) * line;
        wb_set_rgb(cr, e[i].color);
        cairo_set_line_width(cr, e[i].width);
        cairo_move_to(cr, x + 0.5 * font, cy), cairo_line_to(cr, x + 0.5 * font + sample, cy);
        cairo_stroke(cr);
        wb_plot_text(cr, e[i].label, font, x + sample + font, cy, 0, 0.5, 0, (wb_rgb){0, 0, 0});
    }
}
