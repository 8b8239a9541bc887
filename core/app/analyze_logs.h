/* `workbench analyze-logs`: mmdetection's tools/analysis_tools/analyze_logs.py
 * for log.json files: curves of chosen keys for several runs in one picture
 * (plot_curve), and the time of the runs' epochs (cal_train_time). */
#ifndef WB_CORE_APP_ANALYZE_LOGS_H
#define WB_CORE_APP_ANALYZE_LOGS_H

#include <stdbool.h>
#include <stdio.h>

typedef struct wb_analyze_opts {
    const char *const *logs;     /* log.json paths */
    int n_logs;
    const char *const *keys;     /* one panel each, every run a line in it */
    int n_keys;
    const char *const *legends;  /* a label per log, or NULL: each log's folder name */
    const char *title;           /* NULL: none */
    const char *out;             /* .png, .jpg */
    bool include_outliers;       /* train time: keep each epoch's first log line (the loader's warm-up) */
} wb_analyze_opts;

/* Draws the curves into o->out. Returns an exit code (2: a key no log has,
 * logs on different axes; 1: a log cannot be read, the picture not written). */
int wb_analyze_logs_plot(const wb_analyze_opts *o, FILE *out);
/* Prints each log's slowest, fastest and average epoch (seconds per
 * iteration, as cal_train_time) and the spread. Returns an exit code. */
int wb_analyze_logs_train_time(const wb_analyze_opts *o, FILE *out);

#endif
