/* Learning-rate schedules: optional warmup, then a policy, by epoch or by
 * iteration (mmcv's LrUpdaterHook semantics: while warming up, the policy's
 * lr times the warmup factor, warmup always counted in iterations).
 *   step:     base * gamma^(milestones passed)
 *   cosine:   target + (base - target) * (1 + cos(pi * t / T)) / 2
 *   poly:     (base - target) * (1 - t / T)^power + target
 *   onecycle: base * ((1 - cos(pi * t / T)) / 2 * (lrf - 1) + 1)   (YOLOv5)
 * with t the epochs (or iterations) done and T the run's length in the same
 * unit; target = base * min_lr_ratio when min_lr_ratio >= 0, else min_lr. */
#ifndef WB_CORE_SCHEDULE_H
#define WB_CORE_SCHEDULE_H

#include <stdint.h>

typedef enum wb_lr_policy { WB_LR_FIXED = 0, WB_LR_STEP, WB_LR_COSINE, WB_LR_POLY, WB_LR_ONECYCLE } wb_lr_policy;
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
    float lrf;                 /* onecycle: final lr as a fraction of base_lr */
    wb_warmup warmup;
    int64_t warmup_iters;
    float warmup_ratio;
} wb_schedule;

/* LR at 0-based iteration `iter`. */
float wb_schedule_lr(const wb_schedule *s, int64_t iter);

#endif
