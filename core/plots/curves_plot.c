#include "curves_plot.h"

#include <stdio.h>
#include <stdlib.h>
#include "figure.h"
#include "line_plot.h"

enum { WIDTH = 1600, HEIGHT = 1200, MAX_NAMED = 20 };
static const wb_rgb k_grey = {128, 128, 128}, k_mean = {31, 119, 180};

static const char *name_of(const char *const *names, int label, char *buf, size_t n) {
    if (names) return names[label];
    snprintf(buf, n, "%d", label);
    return buf;
}

/* One figure: each class's curve over x, then the mean curve `mean` with its legend entry. */
static wb_status plot(const wb_ap_result *r, const char *const *names, const double *x, const double *curves,
                      const double *mean, const char *mean_label, const char *per_class_fmt, const double *per_class,
                      const char *xlabel, const char *ylabel, const char *path, char *err, size_t n) {
    wb_figure f;
    wb_figure_open(&f, WIDTH, HEIGHT);
    wb_axes a;
    wb_axes_place(&a, f.cr, 0, 0, WIDTH, HEIGHT, 22);
    wb_axes_limits(&a, 0, 1, 0, 1);
    bool named = r->n_classes <= MAX_NAMED;
    wb_legend_entry legend[MAX_NAMED + 1];
    char labels[MAX_NAMED][160];
    int n_legend = 0;
    for (int ci = 0; ci < r->n_classes; ci++) {
        wb_rgb color = named ? wb_class_color(r->classes[ci]) : k_grey;
        wb_plot_line(&a, x, curves + (size_t)ci * WB_AP_GRID, WB_AP_GRID, color, named ? 1.5 : 1.0, false);
        if (!named) continue;
        char num[16];
        snprintf(labels[ci], sizeof labels[ci], per_class_fmt, name_of(names, r->classes[ci], num, sizeof num),
                 per_class ? per_class[ci] : 0.0);
        legend[n_legend++] = (wb_legend_entry){labels[ci], color, 3.0};
    }
    wb_plot_line(&a, x, mean, WB_AP_GRID, k_mean, 5.0, false);
    legend[n_legend++] = (wb_legend_entry){mean_label, k_mean, 5.0};
    wb_plot_legend(&a, legend, n_legend, true);
    wb_axes_draw(&a, NULL, xlabel, ylabel);
    return wb_figure_save(&f, path, err, n);
}

/* plot_mc_curve: a metric against confidence, the mean smoothed with f = 0.05. */
static wb_status metric_curve(const wb_ap_result *r, const char *const *names, const double *grid,
                              const double *curves, const char *ylabel, const char *file, const char *dir, char *err,
                              size_t n) {
    double mean[WB_AP_GRID] = {0}, smooth[WB_AP_GRID];
    for (int ci = 0; ci < r->n_classes; ci++)
        for (int g = 0; g < WB_AP_GRID; g++) mean[g] += curves[(size_t)ci * WB_AP_GRID + g] / r->n_classes;
    wb_ap_smooth(mean, WB_AP_GRID, 0.05, smooth);
    int best = 0;
    for (int g = 1; g < WB_AP_GRID; g++)
        if (smooth[g] > smooth[best]) best = g;
    char label[128], path[4096];
    snprintf(label, sizeof label, "all classes %.2f at %.3f", smooth[best], grid[best]);
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return plot(r, names, grid, curves, smooth, label, "%s", NULL, "Confidence", ylabel, path, err, n);
}

wb_status wb_curves_plot(const wb_ap_result *r, const char *const *names, const char *dir, char *err, size_t n) {
    double grid[WB_AP_GRID], mean[WB_AP_GRID] = {0};
    double *ap50 = malloc((size_t)(r->n_classes + 1) * sizeof *ap50);
    if (!ap50) {
        snprintf(err, n, "out of memory plotting the metric curves");
        return WB_ERR_NOMEM;
    }
    for (int g = 0; g < WB_AP_GRID; g++) grid[g] = wb_ap_grid(g);
    for (int ci = 0; ci < r->n_classes; ci++) {
        ap50[ci] = r->ap[(size_t)ci * WB_AP_IOUS];
        for (int g = 0; g < WB_AP_GRID; g++) mean[g] += r->pr_curve[(size_t)ci * WB_AP_GRID + g] / r->n_classes;
    }
    char label[128], path[4096];
    snprintf(label, sizeof label, "all classes %.3f mAP@0.5", r->map50);
    snprintf(path, sizeof path, "%s/PR_curve.png", dir);
    wb_status st = plot(r, names, grid, r->pr_curve, mean, label, "%s %.3f", ap50, "Recall", "Precision", path, err, n);
    free(ap50);
    if (st == WB_OK) st = metric_curve(r, names, grid, r->f1_curve, "F1", "F1_curve.png", dir, err, n);
    if (st == WB_OK) st = metric_curve(r, names, grid, r->p_curve, "Precision", "P_curve.png", dir, err, n);
    if (st == WB_OK) st = metric_curve(r, names, grid, r->r_curve, "Recall", "R_curve.png", dir, err, n);
    return st;
}
