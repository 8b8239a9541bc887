/* When the optimizer steps, and on what. Two ways:
 *  - every K iterations on the mean of their gradients (mmengine's
 *    accumulative_counts, as loss / K); a group never spans an epoch end, the
 *    run's end or a checkpoint, so no checkpoint misses a gradient;
 *  - YOLOv5's nominal batch (train.py, nbs > 0): K = max(round(nbs / batch),
 *    1), ramped during the warmup's nw iterations as max(1, round(np.interp(
 *    iter, [0, nw], [1, nbs / batch]))); the optimizer steps after iteration
 *    `iter` when iter - (the last step's iteration) >= K, on the sum of the
 *    gradients (YOLOv5's loss is a sum over the images of the batch); every
 *    epoch starts with no gradient, dropping the last iterations of the
 *    epoch before that filled no step. */
#ifndef WB_CORE_ACCUMULATION_H
#define WB_CORE_ACCUMULATION_H

#include <stdbool.h>
#include <stdint.h>

typedef struct wb_accumulation {
    int every;              /* mean mode: K (0 or 1: every iteration) */
    int nbs;                /* > 0: YOLOv5's nominal batch mode */
    int batch_size;         /* nominal batch mode: images per iteration */
    int64_t warmup_iters;   /* nominal batch mode: the ramp's length (the schedule's warmup) */
    /* state */
    int pending;            /* iterations whose gradients are summed and not yet stepped on */
    int64_t last_step;      /* nominal batch mode: iteration of the last step, -1 before the first */
} wb_accumulation;

/* YOLOv5's K: max(round(nbs / batch_size), 1), half to even. */
int wb_nominal_accumulate(int nbs, int batch_size);
/* YOLOv5's weight decay for it: weight_decay * batch_size * K / nbs. */
float wb_nominal_weight_decay(float weight_decay, int nbs, int batch_size);
/* K at 0-based iteration `iter` in nominal batch mode (the warmup ramp). */
int wb_accumulate_at(const wb_accumulation *a, int64_t iter);

/* The state a run (or a resume) starting at iteration `start` has. */
void wb_accumulation_begin(wb_accumulation *a, int64_t start);
/* At the start of iteration `iter`: true when the gradients summed so far
 * are to be dropped (nominal batch mode, first iteration of an epoch). */
bool wb_accumulation_drops(wb_accumulation *a, int64_t iter, int64_t per_epoch);
/* After the backward of iteration `iter`: true when the optimizer steps now,
 * with *grad_scale for the summed gradients. `boundary`: an epoch end, the
 * run's end or a checkpoint follows (mean mode ends its group there). */
bool wb_accumulation_step_now(wb_accumulation *a, int64_t iter, bool boundary, float *grad_scale);

#endif
