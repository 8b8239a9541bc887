/* Axes of a plot on a cairo surface: a rectangle of the figure with data
 * limits, a frame, "nice" ticks (1, 2, 5 x 10^k) with labels, a title and
 * axis labels, all text through pango (core/render/text.h). */
#ifndef WB_CORE_PLOTS_AXES_H
#define WB_CORE_PLOTS_AXES_H

#include <cairo.h>
#include <stdbool.h>
#include "../render/canvas.h"

enum { WB_TICKS_X = 1, WB_TICKS_Y = 2 };

typedef struct wb_axes {
    cairo_t *cr;
    double left, top, width, height; /* the plotting area, surface pixels */
    double x0, x1, y0, y1;           /* data limits */
    double font;                     /* tick label size, pixels; titles are 1.2 x */
    int ticks;                       /* WB_TICKS_X | WB_TICKS_Y: which axes get numbered ticks */
    bool whole_x;                    /* x counts things (epochs): ticks at whole numbers only */
} wb_axes;

/* Axes inside the cell (x, y, w, h) of the figure, margins left for tick
 * and axis labels; limits 0..1 until set. */
void wb_axes_place(wb_axes *a, cairo_t *cr, double x, double y, double w, double h, double font);
void wb_axes_limits(wb_axes *a, double x0, double x1, double y0, double y1);
/* y limits that hold the finite values of v with 5% margins (matplotlib's autoscale). */
void wb_axes_fit_y(wb_axes *a, const double *v, int n);
double wb_axes_x(const wb_axes *a, double x);
double wb_axes_y(const wb_axes *a, double y);
/* Frame, ticks and tick labels, title above, axis labels; any text may be NULL. */
void wb_axes_draw(const wb_axes *a, const char *title, const char *xlabel, const char *ylabel);
/* cairo_save and a clip to the plotting area; undo with cairo_restore. */
void wb_axes_clip(const wb_axes *a);

/* UTF-8 text of px pixels at (x, y): (ax, ay) is the point of the text's box
 * placed there, as fractions (0, 0 top-left; 0.5, 0.5 centre), rotated by
 * angle radians about it, in colour c. Nothing without fonts (warned once). */
void wb_plot_text(cairo_t *cr, const char *text, double px, double x, double y, double ax, double ay, double angle,
                  wb_rgb c);
/* The width in pixels that text takes at px (0 without fonts). */
double wb_plot_text_width(const char *text, double px);
void wb_set_rgb(cairo_t *cr, wb_rgb c);

#endif
