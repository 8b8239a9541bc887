/* Learning-rate schedules: optional warmup, then a policy, by epoch or by
 * iteration (mmcv's LrUpdaterHook semantics: while warming up, the policy's
 * lr times the warmup factor, warmup always counted in iterations).
 *   step:     base * gamma^(milestones passed)
 *   cosine:   target + (base - target) * (1 + cos(pi * t / T)) / 2
 *   poly:     (base - target) * (1 - t / T)^power + target
 *   linear:   base * ((1 - t / T) * (1 - lrf) + lrf)                  (YOLOv5)
 *   onecycle: base * ((1 - cos(pi * t / T)) / 2 * (lrf - 1) + 1)   (YOLOv5)
 * with t the epochs (or iterations) done and T the run's length in the same
 * unit; target = base * min_lr_ratio when min_lr_ratio >= 0, else min_lr.
 *
 * YOLOv5's warmup (train.py) on top: over the warmup iterations nw the
 * momentum goes linearly from warmup_momentum to the optimizer's, and the
 * biases' lr from warmup_bias_lr to the policy's lr, as np.interp(iter,
 * [0, nw], [start, end]); the other groups' lr is the linear warmup above
 * (YOLOv5's is warmup_ratio 0). nw = max(round(warmup_epochs x iterations
 * per epoch), warmup_iters), rounded half to even as Python's round. */
#ifndef WB_CORE_SCHEDULE_H
#define WB_CORE_SCHEDULE_H

#include <stdint.h>
#include "step_params.h"

typedef enum wb_lr_policy {
    WB_LR_FIXED = 0, WB_LR_STEP, WB_LR_COSINE, WB_LR_POLY, WB_LR_ONECYCLE, WB_LR_LINEAR
} wb_lr_policy;
typedef enum wb_warmup { WB_WARMUP_NONE = 0, WB_WARMUP_LINEAR, WB_WARMUP_CONSTANT, WB_WARMUP_EXP } wb_warmup;

#define WB_MAX_MILESTONES 16

typedef struct wb_schedule {
    float base_lr;
    wb_lr_policy policy;
    int by_epoch;              /* milestones / progress counted in epochs */
    int64_t max_iters;         /* total iterations of the run */
    int64_t iters_per_epoch;
    int milestones[WB_MAX_MILESTONES];
    int n_milestones;
    float gamma;               /* step */
    float min_lr;              /* cosine, poly */
    float min_lr_ratio;        /* cosine, poly: overrides min_lr when >= 0 */
    float power;               /* poly */
    float lrf;                 /* linear, onecycle: final lr as a fraction of base_lr */
    wb_warmup warmup;
    int64_t warmup_iters;      /* the warmup's length, or its least length when warmup_epochs > 0 */
    float warmup_ratio;
    double warmup_epochs;      /* > 0: the warmup lasts max(round(warmup_epochs x iters_per_epoch), warmup_iters) */
    float warmup_momentum;     /* >= 0: momentum at iteration 0 (YOLOv5); < 0: no momentum warmup */
    float warmup_bias_lr;      /* >= 0: the biases' lr at iteration 0 (YOLOv5); < 0: as the other groups */
} wb_schedule;

/* LR at 0-based iteration `iter`. */
float wb_schedule_lr(const wb_schedule *s, int64_t iter);
/* The warmup's length in iterations; 0 without warmup. */
int64_t wb_schedule_warmup_iters(const wb_schedule *s);
/* Everything the step after iteration `iter` uses (grad_scale 1); momentum
 * is the optimizer's. */
wb_step_params wb_schedule_step(const wb_schedule *s, int64_t iter, float momentum);
/* np.interp(x, [0, x1], [y0, y1]) with numpy's arithmetic, x1 > 0. */
double wb_interp(double x, double x1, double y0, double y1);

#endif
