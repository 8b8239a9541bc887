#include "axes.h"

#include <math.h>
#include <stdio.h>
#include "../render/text.h"

static const wb_rgb k_black = {0, 0, 0};

void wb_set_rgb(cairo_t *cr, wb_rgb c) { cairo_set_source_rgb(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0); }

void wb_plot_text(cairo_t *cr, const char *text, double px, double x, double y, double ax, double ay, double angle,
                  wb_rgb c) {
    PangoLayout *layout = wb_text_layout(text, px);
    if (!layout) return;
    PangoRectangle r;
    pango_layout_get_pixel_extents(layout, NULL, &r);
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, angle);
    cairo_move_to(cr, -ax * r.width - r.x, -ay * r.height - r.y);
    wb_set_rgb(cr, c);
    wb_text_show(cr, layout);
    cairo_restore(cr);
    g_object_unref(layout);
}

double wb_plot_text_width(const char *text, double px) {
    PangoLayout *layout = wb_text_layout(text, px);
    if (!layout) return 0.0;
    PangoRectangle r;
    pango_layout_get_pixel_extents(layout, NULL, &r);
    g_object_unref(layout);
    return r.width;
}

void wb_axes_place(wb_axes *a, cairo_t *cr, double x, double y, double w, double h, double font) {
    /* Room for the title above, tick labels and an axis label on the left and below. */
    double left = 4.8 * font, bottom = 3.4 * font, top = 2.0 * font, right = 1.2 * font;
    *a = (wb_axes){cr, x + left, y + top, w - left - right, h - top - bottom, 0, 1, 0, 1, font, WB_TICKS_X | WB_TICKS_Y, false};
}

void wb_axes_limits(wb_axes *a, double x0, double x1, double y0, double y1) {
    a->x0 = x0, a->x1 = x1 > x0 ? x1 : x0 + 1, a->y0 = y0, a->y1 = y1 > y0 ? y1 : y0 + 1;
}

void wb_axes_fit_y(wb_axes *a, const double *v, int n) {
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
    if (!isfinite(lo)) lo = 0, hi = 1;
    double pad = hi > lo ? 0.05 * (hi - lo) : (lo != 0 ? 0.05 * fabs(lo) : 0.05);
    a->y0 = lo - pad, a->y1 = hi + pad;
}

double wb_axes_x(const wb_axes *a, double x) { return a->left + (x - a->x0) / (a->x1 - a->x0) * a->width; }
double wb_axes_y(const wb_axes *a, double y) { return a->top + (a->y1 - y) / (a->y1 - a->y0) * a->height; }

/* About five ticks at multiples of 1, 2 or 5 x 10^k; the label's decimals follow the step. */
static double tick_step(double span, int *decimals) {
    double raw = span / 5, mag = pow(10, floor(log10(raw))), norm = raw / mag;
    double step = (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
    int d = (int)-floor(log10(step) + 1e-9);
    *decimals = d > 0 ? d : 0;
    return step;
}

static void ticks(const wb_axes *a, bool vertical) {
    double lo = vertical ? a->y0 : a->x0, hi = vertical ? a->y1 : a->x1;
    int decimals;
    double step = tick_step(hi - lo, &decimals);
    if (!vertical && a->whole_x && step < 1) step = 1, decimals = 0;
    cairo_t *cr = a->cr;
    for (double v = ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) {
        char label[32];
        snprintf(label, sizeof label, "%.*f", decimals, fabs(v) < step * 1e-9 ? 0.0 : v);
        if (vertical) {
            double y = wb_axes_y(a, v);
            cairo_move_to(cr, a->left, y), cairo_line_to(cr, a->left - 0.4 * a->font, y);
            wb_plot_text(cr, label, a->font, a->left - 0.6 * a->font, y, 1, 0.5, 0, k_black);
        } else {
            double x = wb_axes_x(a, v);
            cairo_move_to(cr, x, a->top + a->height), cairo_line_to(cr, x, a->top + a->height + 0.4 * a->font);
            wb_plot_text(cr, label, a->font, x, a->top + a->height + 0.6 * a->font, 0.5, 0, 0, k_black);
        }
    }
    cairo_stroke(cr);
}

void wb_axes_draw(const wb_axes *a, const char *title, const char *xlabel, const char *ylabel) {
    cairo_t *cr = a->cr;
    cairo_set_line_width(cr, fmax(1.0, a->font / 12));
    wb_set_rgb(cr, k_black);
    cairo_rectangle(cr, a->left, a->top, a->width, a->height);
    cairo_stroke(cr);
    if (a->ticks & WB_TICKS_X) ticks(a, false);
    if (a->ticks & WB_TICKS_Y) ticks(a, true);
    double cx = a->left + a->width / 2, cy = a->top + a->height / 2;
    if (title) wb_plot_text(cr, title, 1.2 * a->font, cx, a->top - 0.4 * a->font, 0.5, 1, 0, k_black);
    if (xlabel) wb_plot_text(cr, xlabel, 1.1 * a->font, cx, a->top + a->height + 1.9 * a->font, 0.5, 0, 0, k_black);
    if (ylabel) wb_plot_text(cr, ylabel, 1.1 * a->font, a->left - 4.6 * a->font, cy, 0.5, 0, -M_PI / 2, k_black);
}

void wb_axes_clip(const wb_axes *a) {
    cairo_save(a->cr);
    cairo_rectangle(a->cr, a->left, a->top, a->width, a->height);
    cairo_clip(a->cr);
}
