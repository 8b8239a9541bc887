#include "results_plot.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "figure.h"
#include "line_plot.h"

enum { PER_ROW = 5, PANEL_W = 480, PANEL_H = 600 };

/* YOLOv5's panels: the train losses, precision, recall, mAP@0.5 and
 * mAP@0.5:0.95, then the validation losses. */
static bool shown_column(const char *col) {
    static const char *const metrics[] = {"metrics/precision", "metrics/recall", "metrics/mAP_0.5",
                                          "metrics/mAP_0.5:0.95"};
    if (strncmp(col, "train/", 6) == 0 || strncmp(col, "val/", 4) == 0) return true;
    for (size_t i = 0; i < sizeof metrics / sizeof *metrics; i++)
        if (strcmp(col, metrics[i]) == 0) return true;
    return false;
}

wb_status wb_results_plot(const wb_results_table *t, const char *path, char *err, size_t n) {
    int shown[WB_RESULTS_MAX_COLS], n_shown = 0;
    for (int c = 0; c < t->n_cols; c++)
        if (shown_column(t->cols[c])) shown[n_shown++] = c;
    int rows = n_shown > 0 ? (n_shown + PER_ROW - 1) / PER_ROW : 1;
    double *x = malloc((size_t)(t->n_rows + 1) * sizeof *x), *y = malloc((size_t)(t->n_rows + 1) * sizeof *y);
    if (!x || !y) {
        free(x), free(y);
        snprintf(err, n, "out of memory plotting %s", path);
        return WB_ERR_NOMEM;
    }
    wb_figure f;
    wb_figure_open(&f, PER_ROW * PANEL_W, rows * PANEL_H);
    for (int r = 0; r < t->n_rows; r++) x[r] = (double)t->epoch[r];
    for (int i = 0; i < n_shown; i++) {
        int c = shown[i];
        for (int r = 0; r < t->n_rows; r++) y[r] = t->values[(size_t)r * WB_RESULTS_MAX_COLS + c];
        wb_axes a;
        wb_axes_place(&a, f.cr, (i % PER_ROW) * PANEL_W, (i / PER_ROW) * PANEL_H, PANEL_W, PANEL_H, 16);
        double first = t->n_rows ? x[0] : 0, last = t->n_rows ? x[t->n_rows - 1] : 1;
        double pad = last > first ? 0.05 * (last - first) : 0.5;
        wb_axes_limits(&a, first - pad, last + pad, 0, 1);
        a.whole_x = true;
        wb_axes_fit_y(&a, y, t->n_rows);
        wb_plot_line(&a, x, y, t->n_rows, (wb_rgb){31, 119, 180}, 2.0, true);
        wb_axes_draw(&a, t->cols[c], "epoch", NULL);
    }
    free(x), free(y);
    return wb_figure_save(&f, path, err, n);
}
