#include "bar_chart.h"

#include <math.h>

void wb_plot_bars(wb_axes *a, const double *values, int n, const char *const *labels, const wb_rgb *colors) {
    double top = 0;
    for (int i = 0; i < n; i++) top = fmax(top, values[i]);
    wb_axes_limits(a, -0.5, n - 0.5, 0, top > 0 ? 1.05 * top : 1);
    a->ticks = WB_TICKS_Y;
    cairo_t *cr = a->cr;
    double slot = a->width / (n > 0 ? n : 1), widest = 0;
    for (int i = 0; i < n; i++) {
        double x = wb_axes_x(a, i - 0.4), y = wb_axes_y(a, values[i]);
        cairo_rectangle(cr, x, y, 0.8 * slot, wb_axes_y(a, 0) - y);
        wb_set_rgb(cr, colors[i]);
        cairo_fill(cr);
        if (labels) widest = fmax(widest, wb_plot_text_width(labels[i], a->font));
    }
    if (!labels || slot < 0.6 * a->font) return; /* too many to read: the ticks say enough */
    bool upright = widest > 0.9 * slot;
    for (int i = 0; i < n; i++)
        wb_plot_text(cr, labels[i], a->font, wb_axes_x(a, i), a->top + a->height + 0.5 * a->font, upright ? 1 : 0.5,
                     upright ? 0.5 : 0, upright ? -M_PI / 2 : 0, (wb_rgb){0, 0, 0});
}
