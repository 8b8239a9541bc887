/* A heatmap in axes: rows x cols cells coloured on a white-to-blue scale
 * (matplotlib's "Blues"), row 0 at the top, optionally each cell's value
 * written in it, category names beside the rows and under the columns. */
#ifndef WB_CORE_PLOTS_HEATMAP_H
#define WB_CORE_PLOTS_HEATMAP_H

#include <stdbool.h>
#include "axes.h"

/* values row-major; a NaN cell stays white and unlabelled. vmax: the value
 * drawn darkest. Sets the axes' limits to the cells and turns
 * numbered ticks off. */
void wb_plot_heatmap(wb_axes *a, const double *values, int rows, int cols, double vmax, bool annotate,
                     const char *const *row_labels, const char *const *col_labels);
/* The colour of t in 0..1 on the same scale. */
wb_rgb wb_blues(double t);

#endif
