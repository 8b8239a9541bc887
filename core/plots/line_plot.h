/* Lines in axes: a series as a polyline (optionally with dot markers), and a
 * legend box of coloured line samples with their labels. */
#ifndef WB_CORE_PLOTS_LINE_PLOT_H
#define WB_CORE_PLOTS_LINE_PLOT_H

#include <stdbool.h>
#include "axes.h"

/* Points whose y is not finite break the line. */
void wb_plot_line(const wb_axes *a, const double *x, const double *y, int n, wb_rgb color, double width,
                  bool markers);

typedef struct wb_legend_entry {
    const char *label;
    wb_rgb color;
    double width;
} wb_legend_entry;

/* At the lower left of the axes when lower, else the upper right. */
void wb_plot_legend(const wb_axes *a, const wb_legend_entry *e, int n, bool lower);

#endif
