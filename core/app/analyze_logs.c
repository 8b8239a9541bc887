#include "analyze_logs.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../plots/figure.h"
#include "../plots/line_plot.h"
#include "log_json.h"

enum { PANEL_W = 900, PANEL_H = 600, PER_ROW = 2 };

/* matplotlib's tab10, the colours mmdetection's curves come in. */
static const wb_rgb k_colors[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
                                  {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

static int read_logs(const wb_analyze_opts *o, wb_log_json *logs, FILE *out) {
    char err[4200];
    for (int i = 0; i < o->n_logs; i++)
        if (wb_log_json_read(&logs[i], o->logs[i], err, sizeof err) != 0) {
            fprintf(out, "error: %s\n", err);
            for (int k = 0; k < i; k++) wb_log_json_free(&logs[k]);
            return 1;
        }
    return 0;
}

/* The points of key in a log, in file order. */
static int series(const wb_log_json *l, const char *key, double *x, double *y) {
    int n = 0;
    for (int i = 0; i < l->n; i++)
        if (wb_log_json_number(l, i, key, &y[n])) x[n++] = wb_log_json_x(l, i);
    return n;
}

/* "KEY is in no line of LOG; it has: a, b, ..." */
static void missing_key(const wb_log_json *l, const char *key, FILE *out) {
    fprintf(out, "error: %s has no \"%s\"; its numbers are:", l->path, key);
    char seen[4096] = "";
    size_t at = 0;
    for (int i = 0; i < l->n; i++)
        for (const cJSON *c = l->lines[i]->child; c; c = c->next) {
            if (!cJSON_IsNumber(c) || !strcmp(c->string, "epoch") || !strcmp(c->string, "iter")) continue;
            char quoted[128];
            snprintf(quoted, sizeof quoted, " %s,", c->string);
            if (strstr(seen, quoted) || at + strlen(quoted) >= sizeof seen) continue;
            at += (size_t)snprintf(seen + at, sizeof seen - at, "%s", quoted);
        }
    if (at) seen[at - 1] = '\0';
    fprintf(out, "%s (choose --keys among them)\n", seen);
}

/* A log's label: its folder's name (work_dirs/NAME/log.json), else the path. */
static void label_of(const char *path, char *label, size_t size) {
    const char *slash = strrchr(path, '/');
    if (!slash) {
        snprintf(label, size, "%s", path);
        return;
    }
    const char *start = slash;
    while (start > path && start[-1] != '/') start--;
    snprintf(label, size, "%.*s", slash > start ? (int)(slash - start) : (int)strlen(path), slash > start ? start : path);
}

static void draw_panel(const wb_analyze_opts *o, const wb_log_json *logs, const char *key, const char *const *labels,
                       wb_axes *a, double *x, double *y) {
    double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
    for (int k = 0; k < o->n_logs; k++) {
        int n = series(&logs[k], key, x, y);
        for (int i = 0; i < n; i++) {
            x0 = fmin(x0, x[i]), x1 = fmax(x1, x[i]);
            if (isfinite(y[i])) y0 = fmin(y0, y[i]), y1 = fmax(y1, y[i]);
        }
    }
    double pad = x1 > x0 ? 0.03 * (x1 - x0) : 0.5;
    double ypad = y1 > y0 ? 0.05 * (y1 - y0) : (y1 == y1 && isfinite(y1) ? fabs(y1) * 0.05 + 0.05 : 1.0);
    wb_axes_limits(a, x0 - pad, x1 + pad, isfinite(y0) ? y0 - ypad : 0, isfinite(y1) ? y1 + ypad : 1);
    wb_legend_entry legend[16];
    int n_legend = 0;
    for (int k = 0; k < o->n_logs; k++) {
        int n = series(&logs[k], key, x, y);
        wb_rgb color = k_colors[k % (int)(sizeof k_colors / sizeof *k_colors)];
        /* validation numbers come once an epoch: dots show where they were taken */
        bool markers = n > 0 && !wb_log_json_is_train(&logs[k], 0) ? true : n <= 30;
        wb_plot_line(a, x, y, n, color, 2.0, markers);
        if (n_legend < 16) legend[n_legend++] = (wb_legend_entry){labels[k], color, 2.0};
    }
    wb_axes_draw(a, key, logs[0].by_iter ? "iteration" : "epoch", NULL);
    wb_plot_legend(a, legend, n_legend, false);
}

int wb_analyze_logs_plot(const wb_analyze_opts *o, FILE *out) {
    wb_log_json *logs = calloc((size_t)o->n_logs, sizeof *logs);
    char (*labels)[256] = calloc((size_t)o->n_logs, sizeof *labels);
    const char **label_ptrs = calloc((size_t)o->n_logs, sizeof *label_ptrs);
    if (!logs || !labels || !label_ptrs || read_logs(o, logs, out) != 0) {
        if (!logs || !labels || !label_ptrs) fprintf(out, "error: out of memory\n");
        free(logs), free(labels), free(label_ptrs);
        return 1;
    }
    int rc = 0, most = 1;
    for (int k = 0; k < o->n_logs && rc == 0; k++) {
        if (logs[k].by_iter != logs[0].by_iter) {
            fprintf(out, "error: %s counts %s and %s counts %s: their curves cannot share an axis; plot them "
                    "separately\n", o->logs[0], logs[0].by_iter ? "iterations" : "epochs", o->logs[k],
                    logs[k].by_iter ? "iterations" : "epochs");
            rc = 2;
        }
        if (logs[k].n > most) most = logs[k].n;
        if (o->legends) snprintf(labels[k], sizeof labels[k], "%s", o->legends[k]);
        else label_of(o->logs[k], labels[k], sizeof labels[k]);
        label_ptrs[k] = labels[k];
    }
    double *x = malloc((size_t)most * sizeof *x), *y = malloc((size_t)most * sizeof *y);
    for (int i = 0; i < o->n_keys && rc == 0; i++)
        for (int k = 0; k < o->n_logs && rc == 0; k++)
            if (x && y && series(&logs[k], o->keys[i], x, y) == 0) {
                missing_key(&logs[k], o->keys[i], out);
                rc = 2;
            }
    if (rc == 0 && (!x || !y)) {
        fprintf(out, "error: out of memory\n");
        rc = 1;
    }
    if (rc == 0) {
        int cols = o->n_keys < PER_ROW ? o->n_keys : PER_ROW, rows = (o->n_keys + PER_ROW - 1) / PER_ROW;
        int top = o->title ? 50 : 0;
        wb_figure f;
        wb_figure_open(&f, cols * PANEL_W, rows * PANEL_H + top);
        if (o->title) wb_plot_text(f.cr, o->title, 24, cols * PANEL_W / 2.0, 12, 0.5, 0, 0, (wb_rgb){0, 0, 0});
        for (int i = 0; i < o->n_keys; i++) {
            wb_axes a;
            wb_axes_place(&a, f.cr, (i % PER_ROW) * PANEL_W, top + (i / PER_ROW) * PANEL_H, PANEL_W, PANEL_H, 16);
            draw_panel(o, logs, o->keys[i], label_ptrs, &a, x, y);
        }
        char err[4200];
        if (wb_figure_save(&f, o->out, err, sizeof err) != WB_OK) {
            fprintf(out, "error: %s\n", err);
            rc = 1;
        } else {
            fprintf(out, "%d curve%s of %d log%s: %s\n", o->n_keys * o->n_logs, o->n_keys * o->n_logs > 1 ? "s" : "",
                    o->n_logs, o->n_logs > 1 ? "s" : "", o->out);
        }
    }
    free(x), free(y);
    for (int k = 0; k < o->n_logs; k++) wb_log_json_free(&logs[k]);
    free(logs), free(labels), free(label_ptrs);
    return rc;
}

/* Sums of one epoch's train lines: every line, and all but its first. */
typedef struct epoch_sums {
    int64_t epoch;
    double all_time, all_iters, rest_time, rest_iters;
    double prev_iter;
} epoch_sums;

/* Each epoch's seconds per iteration: its train lines' "time" weighted by
 * the iterations each covers, the epoch's first line left out unless
 * include_outliers (it holds the loader's warm-up) or it is the epoch's only
 * one, as cal_train_time. */
static int epoch_times(const wb_log_json *l, bool include_outliers, int64_t *epochs, double *times) {
    epoch_sums *e = calloc((size_t)l->n + 1, sizeof *e);
    if (!e) return -1;
    int n = 0;
    for (int i = 0; i < l->n; i++) {
        double epoch = 0, iter = 0, t = 0;
        if (!wb_log_json_is_train(l, i) || !wb_log_json_number(l, i, "epoch", &epoch)) continue;
        bool first = n == 0 || e[n - 1].epoch != (int64_t)epoch;
        if (first) e[n++] = (epoch_sums){.epoch = (int64_t)epoch};
        epoch_sums *s = &e[n - 1];
        wb_log_json_number(l, i, "iter", &iter);
        double covered = iter - s->prev_iter;
        s->prev_iter = iter;
        if (!wb_log_json_number(l, i, "time", &t) || covered <= 0) continue;
        s->all_time += t * covered, s->all_iters += covered;
        if (!first) s->rest_time += t * covered, s->rest_iters += covered;
    }
    int out = 0;
    for (int k = 0; k < n; k++) {
        bool all = include_outliers || e[k].rest_iters == 0;
        double iters = all ? e[k].all_iters : e[k].rest_iters;
        if (iters > 0) epochs[out] = e[k].epoch, times[out++] = (all ? e[k].all_time : e[k].rest_time) / iters;
    }
    free(e);
    return out;
}

int wb_analyze_logs_train_time(const wb_analyze_opts *o, FILE *out) {
    for (int k = 0; k < o->n_logs; k++) {
        wb_log_json l;
        char err[4200];
        if (wb_log_json_read(&l, o->logs[k], err, sizeof err) != 0) {
            fprintf(out, "error: %s\n", err);
            return 1;
        }
        int64_t *epochs = malloc((size_t)(l.n + 1) * sizeof *epochs);
        double *times = malloc((size_t)(l.n + 1) * sizeof *times);
        int n = epochs && times ? epoch_times(&l, o->include_outliers, epochs, times) : -1;
        fprintf(out, "-----Analyze train time of %s-----\n", o->logs[k]);
        if (n <= 0) {
            fprintf(out, "%s\n", n < 0 ? "out of memory" : "no train line with a time");
        } else {
            int slow = 0, fast = 0;
            double mean = 0, var = 0;
            for (int i = 0; i < n; i++) {
                if (times[i] > times[slow]) slow = i;
                if (times[i] < times[fast]) fast = i;
                mean += times[i] / n;
            }
            for (int i = 0; i < n; i++) var += (times[i] - mean) * (times[i] - mean) / n;
            fprintf(out, "slowest epoch %lld, average time is %.4f s/iter\n", (long long)epochs[slow], times[slow]);
            fprintf(out, "fastest epoch %lld, average time is %.4f s/iter\n", (long long)epochs[fast], times[fast]);
            fprintf(out, "time std over epochs is %.4f\n", sqrt(var));
            fprintf(out, "average iter time: %.4f s/iter\n", mean);
            if (l.per_epoch > 0)
                fprintf(out, "average epoch time: %.2f s (%lld iterations)\n", mean * (double)l.per_epoch,
                        (long long)l.per_epoch);
        }
        free(epochs), free(times);
        wb_log_json_free(&l);
        if (n < 0) return 1;
    }
    return 0;
}
