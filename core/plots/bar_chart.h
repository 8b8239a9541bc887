/* A bar chart in axes: one bar per category at x = 0..n-1, the category
 * names under the axis (turned upright when they would collide). */
#ifndef WB_CORE_PLOTS_BAR_CHART_H
#define WB_CORE_PLOTS_BAR_CHART_H

#include "axes.h"

/* Sets the axes' limits (x -0.5..n-0.5, y 0..max with 5% room) and numbered
 * ticks on y only; labels may be NULL. */
void wb_plot_bars(wb_axes *a, const double *values, int n, const char *const *labels, const wb_rgb *colors);

#endif
