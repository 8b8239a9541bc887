/* Training log lines in the format mmdetection users read every day, to the
 * terminal and as JSON lines to work_dir/log.json. */
#ifndef WB_CORE_TRAINLOG_H
#define WB_CORE_TRAINLOG_H

#include <stdint.h>
#include <stdio.h>
#include <workbench/module.h>

/* The numbers of train log lines, up to an epoch's end: their means weighted
 * by the iterations each line covers are the epoch's TensorBoard scalars. */
#define WB_TRAINLOG_MAX_KEYS (WB_MAX_LOSS_TERMS + 12)
typedef struct wb_epoch_means {
    int n;
    char keys[WB_TRAINLOG_MAX_KEYS][WB_NAME_MAX];
    double sums[WB_TRAINLOG_MAX_KEYS];
    int64_t iters;
} wb_epoch_means;

typedef struct wb_trainlog {
    FILE *json;          /* work_dir/log.json, appended */
    int tty;             /* stderr is a terminal: draw a progress bar between log lines */
    int by_epoch;        /* "Epoch [e][i/n]" lines; else "Iter [i/max]" */
    int64_t logged_iter; /* the iteration of the last train line (or of the start) */
    wb_epoch_means epoch;
} wb_trainlog;

typedef struct wb_iter_stats {
    int64_t epoch, iter_in_epoch, iters_per_epoch;  /* 1-based epoch, 1-based iter */
    int64_t iteration, max_iters;
    float lr;
    double time, data_time;   /* seconds per iteration, averaged over the interval */
    double eta_seconds;
    double memory_mb;
    double grad_norm;
    int n_terms;
    char names[WB_MAX_LOSS_TERMS][WB_NAME_MAX];
    double values[WB_MAX_LOSS_TERMS];  /* interval averages */
    double total;
    /* YOLOv5's parameter groups (x/lr0..2 of results.csv): lr0 the biases'
     * (bias_lr, apart during warmup), lr1 the weights with decay and lr2 the
     * norm weights (both `lr`); momentum (SGD only) as the step used it. */
    float bias_lr, momentum;
    int has_momentum;
} wb_iter_stats;

/* Opens work_dir/log.json for appending. A run resumed from `resumed_from`
 * (NULL: a new run) at iteration start_iter first appends a marker line,
 * {"mode": "resume", "iteration": N, "checkpoint": ..., "time": ...}, so the
 * lines of each stretch of the run can be told apart. Scalars also go to the
 * run's TensorBoard log (core/tblog/tb_run.h) when it is open. */
int wb_trainlog_open(wb_trainlog *l, const char *work_dir, const char *resumed_from, int64_t start_iter);
void wb_trainlog_iter(wb_trainlog *l, const wb_iter_stats *s);
void wb_trainlog_progress(wb_trainlog *l, const wb_iter_stats *s);
/* "Epoch(val) [N]  bbox_mAP: 0.5010, ..." and {"mode": "val", ...}; unit is "epoch" or "iter". */
void wb_trainlog_val(wb_trainlog *l, const char *unit, int64_t done, int n, const char (*names)[48],
                     const double *values);
void wb_trainlog_close(wb_trainlog *l);
/* "1 day, 2:03:04" style */
void wb_format_eta(double seconds, char *buf, size_t size);

#endif
