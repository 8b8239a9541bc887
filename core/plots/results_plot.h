/* results.png: YOLOv5's grid of small plots against epoch, one per loss
 * column of results.csv and for precision, recall, mAP@0.5 and
 * mAP@0.5:0.95 (the evaluator's own metrics and the learning rates are in
 * the table only). */
#ifndef WB_CORE_PLOTS_RESULTS_PLOT_H
#define WB_CORE_PLOTS_RESULTS_PLOT_H

#include "results_table.h"

/* 5 panels a row, 480 x 600 pixels each: 2400 x 600 * rows. */
wb_status wb_results_plot(const wb_results_table *t, const char *path, char *err, size_t err_size);

#endif
