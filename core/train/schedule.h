/* Learning-rate schedules: optional warmup, then a policy, by epoch or by
 * iteration (mmdetection semantics: the policy's factor times the warmup
 * factor while warming up). */
#ifndef WB_CORE_SCHEDULE_H
#define WB_CORE_SCHEDULE_H

#include <stdint.h>

typedef enum wb_lr_policy { WB_LR_FIXED = 0, WB_LR_STEP, WB_LR_COSINE, WB_LR_POLY } wb_lr_policy;
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
    float min_lr;              /* cosine */
    float power;               /* poly */
    wb_warmup warmup;
    int64_t warmup_iters;
    float warmup_ratio;
} wb_schedule;

/* LR at 0-based iteration `iter`. */
float wb_schedule_lr(const wb_schedule *s, int64_t iter);

#endif
