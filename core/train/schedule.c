#include "schedule.h"

#include <math.h>
#include <stdbool.h>

static double policy_lr(const wb_schedule *s, int64_t iter) {
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
        return target + 0.5 * (s->base_lr - target) * (1.0 + cos(M_PI * progress / total));
    case WB_LR_POLY:
        if (total <= 0) return s->base_lr;
        return (s->base_lr - target) * pow(1.0 - progress / total, s->power) + target;
    case WB_LR_LINEAR:
        if (total <= 0) return s->base_lr;
        return s->base_lr * ((1.0 - progress / total) * (1.0 - s->lrf) + s->lrf);
    case WB_LR_ONECYCLE:
        if (total <= 0) return s->base_lr;
        return s->base_lr * ((1.0 - cos(M_PI * progress / total)) / 2.0 * (s->lrf - 1.0) + 1.0);
    default:
        return s->base_lr;
    }
}

int64_t wb_schedule_warmup_iters(const wb_schedule *s) {
    if (s->warmup == WB_WARMUP_NONE) return 0;
    if (s->warmup_epochs <= 0.0) return s->warmup_iters;
    double by_epochs = rint(s->warmup_epochs * (double)s->iters_per_epoch); /* half to even, as Python */
    return by_epochs > (double)s->warmup_iters ? (int64_t)by_epochs : s->warmup_iters;
}

double wb_interp(double x, double x1, double y0, double y1) {
    if (x <= 0.0) return y0;
    if (x >= x1) return y1;
    return (y1 - y0) / x1 * x + y0;
}

float wb_schedule_lr(const wb_schedule *s, int64_t iter) {
    double lr = policy_lr(s, iter);
    int64_t nw = wb_schedule_warmup_iters(s);
    if (iter >= nw) return (float)lr;
    double r = s->warmup_ratio;
    double t = (double)iter / (double)nw;
    double factor = 1.0;
    switch (s->warmup) {
    case WB_WARMUP_LINEAR: factor = 1.0 - (1.0 - t) * (1.0 - r); break;
    case WB_WARMUP_CONSTANT: factor = r; break;
    case WB_WARMUP_EXP: factor = pow(r, 1.0 - t); break;
    default: break;
    }
    return (float)(lr * factor);
}

wb_step_params wb_schedule_step(const wb_schedule *s, int64_t iter, float momentum) {
    wb_step_params p = {wb_schedule_lr(s, iter), 0.0f, momentum, 1.0f};
    p.bias_lr = p.lr;
    int64_t nw = wb_schedule_warmup_iters(s);
    if (iter >= nw) return p;
    double x = (double)iter, x1 = (double)nw;
    if (s->warmup_bias_lr >= 0.0f) p.bias_lr = (float)wb_interp(x, x1, s->warmup_bias_lr, policy_lr(s, iter));
    if (s->warmup_momentum >= 0.0f) p.momentum = (float)wb_interp(x, x1, s->warmup_momentum, momentum);
    return p;
}
