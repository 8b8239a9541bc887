/* results.csv: YOLOv5's per-epoch table of a run, made from its log.json so
 * that every number is the log's. One row per epoch with train lines:
 *   train/<term>: each loss term and the total `loss`, the mean over the
 *     epoch's log lines weighted by the iterations each covers (a line
 *     averages log.interval iterations; the mean is the epoch's exact mean
 *     when the interval divides the epoch, as it does when it is at most
 *     the epoch length and a divisor of it),
 *   metrics/<name>: the validation after that epoch (precision, recall,
 *     mAP_0.5, mAP_0.5:0.95 first, then the evaluator's own), empty when
 *     none ran,
 *   val/<term>: that validation's loss terms and their sum val/loss (the
 *     val line's val/ keys: the head's loss in eval mode, averaged over the
 *     validation batches as YOLOv5's val.py does),
 *   x/<lr key>: the learning rates of the epoch's last line (lr, the main
 *     group's, and lr0, lr1, lr2: YOLOv5's biases, weights, norm weights);
 *     the logged momentum is not a column, as in YOLOv5.
 * An iteration-based run's validations are logged by iteration, not epoch,
 * and are not in the table. */
#ifndef WB_CORE_PLOTS_RESULTS_TABLE_H
#define WB_CORE_PLOTS_RESULTS_TABLE_H

#include <stddef.h>
#include <stdint.h>
#include <workbench/types.h>

#define WB_RESULTS_MAX_COLS 64

typedef struct wb_results_table {
    int n_cols;
    char cols[WB_RESULTS_MAX_COLS][64];
    int n_rows;
    int64_t *epoch;   /* n_rows, ascending */
    double *values;   /* row r, column c at [r * WB_RESULTS_MAX_COLS + c]; NaN: not in the log */
} wb_results_table;

/* Reads work_dir's log.json; lines of a resumed run replace those of the
 * epochs they repeat. */
wb_status wb_results_from_log(const char *log_path, wb_results_table *t, char *err, size_t err_size);
wb_status wb_results_write_csv(const wb_results_table *t, const char *path, char *err, size_t err_size);
/* The column's index, or -1. */
int wb_results_col(const wb_results_table *t, const char *name);
void wb_results_free(wb_results_table *t);

#endif
