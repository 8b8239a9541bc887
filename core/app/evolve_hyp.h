/* The hyperparameters `workbench evolve` mutates: YOLOv5 7.0's evolution
 * table (train.py's `meta`: per-key mutation gain and bounds) in the order
 * of its hyp.scratch-low.yaml, whose values are the starting point unless a
 * hyp file gives others. A hyp set is an array of WB_EVOLVE_N_HYP values in
 * that order. */
#ifndef WB_CORE_APP_EVOLVE_HYP_H
#define WB_CORE_APP_EVOLVE_HYP_H

#include <stddef.h>
#include <stdint.h>

#define WB_EVOLVE_N_HYP 29

typedef struct wb_evolve_key {
    const char *name;
    double gain;       /* mutation scale 0-1 (0: never mutated) */
    double lo, hi;     /* every generation's value is clipped to these */
    double start;      /* hyp.scratch-low.yaml */
} wb_evolve_key;

extern const wb_evolve_key wb_evolve_keys[WB_EVOLVE_N_HYP];

/* The starting values: hyp.scratch-low's, with those of a YOLOv5 hyp file
 * (path may be NULL). 0, or 2 with the reason in err (unreadable file, a name
 * that is not evolved). */
int wb_evolve_hyp_start(const char *path, double *hyp, char *err, size_t err_size);

/* YOLOv5's mutation of a parent: every value times
 * clip(1 + gain * [u < 0.8] * N(0, 1) * v * 0.2, 0.3, 3) (v one uniform draw
 * per try), drawn again until some factor differs from 1. */
void wb_evolve_mutate(const double *parent, double *child, uint64_t *rng);

/* Clips to the bounds and rounds to 5 decimals, as YOLOv5 does before training. */
void wb_evolve_constrain(double *hyp);

/* Writes `name: value` lines (a YOLOv5 hyp file, readable by --hyp) after
 * the header text (may be NULL). 0, or -1 with the reason in err. */
int wb_evolve_hyp_write(const char *path, const char *header, const double *hyp, char *err, size_t err_size);

#endif
