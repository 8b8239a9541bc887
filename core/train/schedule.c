#include "schedule.h"

#include <math.h>
#include <stdbool.h>

static float policy_lr(const wb_schedule *s, int64_t iter) {
    /* Progress in the unit the policy counts in. */
    bool epochs = s->by_epoch && s->iters_per_epoch > 0;
    double progress = epochs ? (double)(iter / s->iters_per_epoch) : (double)iter;
    double total = epochs ? (double)(s->max_iters / s->iters_per_epoch) : (double)s->max_iters;
    double target = s->min_lr_ratio >= 0.0f ? (double)s->base_lr * s->min_lr_ratio : (double)s->min_lr;
    switch (s->policy) {
    case WB_LR_STEP: {
        int passed = 0;
        for (int i = 0; i < s->n_milestones; i++) passed += progress >= s->milestones[i];
        return s->base_lr * powf(s->gamma, (float)passed);
    }
    case WB_LR_COSINE:
        if (total <= 0) return s->base_lr;
        return (float)(target + 0.5 * (s->base_lr - target) * (1.0 + cos(M_PI * progress / total)));
    case WB_LR_POLY:
        if (total <= 0) return s->base_lr;
        return (float)((s->base_lr - target) * pow(1.0 - progress / total, s->power) + target);
    case WB_LR_ONECYCLE:
        if (total <= 0) return s->base_lr;
        return (float)(s->base_lr * ((1.0 - cos(M_PI * progress / total)) / 2.0 * (s->lrf - 1.0) + 1.0));
    default:
        return s->base_lr;
    }
}

float wb_schedule_lr(const wb_schedule *s, int64_t iter) {
    float lr = policy_lr(s, iter);
    if (s->warmup == WB_WARMUP_NONE || iter >= s->warmup_iters) return lr;
    double r = s->warmup_ratio;
    double t = (double)iter / (double)s->warmup_iters;
    double factor = 1.0;
    switch (s->warmup) {
    case WB_WARMUP_LINEAR: factor = 1.0 - (1.0 - t) * (1.0 - r); break;
    case WB_WARMUP_CONSTANT: factor = r; break;
    case WB_WARMUP_EXP: factor = pow(r, 1.0 - t); break;
    default: break;
    }
    return (float)(lr * factor);
}
