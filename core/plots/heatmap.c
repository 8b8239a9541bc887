#include "heatmap.h"

#include <math.h>
#include <stdio.h>

wb_rgb wb_blues(double t) {
    /* matplotlib's Blues at 0, 1/4, 1/2, 3/4, 1, linearly between. */
    static const double stops[5][3] = {
        {247, 251, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
    t = fmin(fmax(t, 0.0), 1.0) * 4;
    int i = t >= 4 ? 3 : (int)t;
    double f = t - i;
    wb_rgb c;
    c.r = (uint8_t)lrint(stops[i][0] + f * (stops[i + 1][0] - stops[i][0]));
    c.g = (uint8_t)lrint(stops[i][1] + f * (stops[i + 1][1] - stops[i][1]));
    c.b = (uint8_t)lrint(stops[i][2] + f * (stops[i + 1][2] - stops[i][2]));
    return c;
}

void wb_plot_heatmap(wb_axes *a, const double *values, int rows, int cols, double vmax, bool annotate,
                     const char *const *row_labels, const char *const *col_labels) {
    wb_axes_limits(a, 0, cols, 0, rows);
    a->ticks = 0;
    cairo_t *cr = a->cr;
    double cw = a->width / cols, ch = a->height / rows;
    double font = fmin(a->font, 0.35 * fmin(cw, ch * 1.6));
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            double v = values[(size_t)r * cols + c], t = vmax > 0 ? v / vmax : 0;
            if (isnan(v)) continue;
            double x = a->left + c * cw, y = a->top + r * ch;
            cairo_rectangle(cr, x, y, ceil(cw), ceil(ch));
            wb_set_rgb(cr, wb_blues(t));
            cairo_fill(cr);
            if (!annotate || font < 5) continue;
            char text[32];
            snprintf(text, sizeof text, "%.2f", v);
            wb_plot_text(cr, text, font, x + cw / 2, y + ch / 2, 0.5, 0.5, 0,
                         t > 0.5 ? (wb_rgb){255, 255, 255} : (wb_rgb){0, 0, 0});
        }
    double label_font = fmin(a->font, 0.8 * fmin(cw, ch) + 1);
    if (label_font < 5) return;
    for (int r = 0; row_labels && r < rows; r++)
        wb_plot_text(cr, row_labels[r], label_font, a->left - 0.4 * a->font, a->top + (r + 0.5) * ch, 1, 0.5, 0,
                     (wb_rgb){0, 0, 0});
    for (int c = 0; col_labels && c < cols; c++)
        wb_plot_text(cr, col_labels[c], label_font, a->left + (c + 0.5) * cw, a->top + a->height + 0.4 * a->font, 1,
                     0.5, -M_PI / 2, (wb_rgb){0, 0, 0});
}
