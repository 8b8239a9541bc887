/* work_dir/evolve.csv of `workbench evolve`, in YOLOv5's layout so its
 * tools (utils/plots.py plot_evolve) read it: a header of column names, each
 * right-aligned in 20 characters, then one row per generation ('%20.5g'):
 * the seven results (precision, recall, mAP@0.5, mAP@0.5:0.95, three
 * validation losses), then the hyperparameters in wb_evolve_keys order. */
#ifndef WB_CORE_APP_EVOLVE_CSV_H
#define WB_CORE_APP_EVOLVE_CSV_H

#include <stddef.h>
#include <stdint.h>
#include "evolve_hyp.h"

#define WB_EVOLVE_N_RESULTS 7
#define WB_EVOLVE_N_COLS (WB_EVOLVE_N_RESULTS + WB_EVOLVE_N_HYP)
#define WB_EVOLVE_MAX_ROWS 100000
#define WB_EVOLVE_MAX_LINE 4096

extern const char *const wb_evolve_result_names[WB_EVOLVE_N_RESULTS];

typedef struct wb_evolve_rows {
    double (*v)[WB_EVOLVE_N_COLS];
    int n;
} wb_evolve_rows;

/* YOLOv5's fitness of a row: 0.1 mAP@0.5 + 0.9 mAP@0.5:0.95. */
double wb_evolve_fitness(const double *row);

/* Reads the rows of an evolve.csv; a missing file is 0 rows. 0, or -1 with
 * "path:line: why" in err (another header, a short row, a bad number). */
int wb_evolve_csv_read(const char *path, wb_evolve_rows *rows, char *err, size_t err_size);

/* Appends one row (and the header when the file is new), flushed to disk. */
int wb_evolve_csv_append(const char *path, const double *row, char *err, size_t err_size);

/* The row of highest fitness (the first of equals); -1 when there is none. */
int wb_evolve_best(const wb_evolve_rows *rows);

/* YOLOv5's 'single' parent: one of the five fittest rows (at least one row),
 * drawn with weights fitness - the lowest of the five + 1e-6. */
const double *wb_evolve_select_parent(const wb_evolve_rows *rows, uint64_t *rng);

void wb_evolve_rows_free(wb_evolve_rows *rows);

#endif
