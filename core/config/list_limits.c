#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "list_limits.h"
#include "../train/optimizer.h"
#include "../train/schedule.h"
#include "../train/trainer.h"

static const wb_list_limit limits[] = {
    { "schedule.milestones", 0, WB_MAX_MILESTONES, 0, "[epoch, ...]" },
    { "evaluation.dynamic_intervals", 0, 2 * WB_MAX_DYNAMIC_INTERVALS, 1, "[start, interval] pairs" },
    { "optimizer.paramwise.custom", 0, WB_MAX_PARAM_RULES, 0, "( { pattern = ...; }, ... )" },
    { "optimizer.betas", 2, 2, 0, "[beta1, beta2]" },
};

const wb_list_limit *wb_core_list_limit(const char *path) {
    for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++)
        if (strcmp(limits[i].path, path) == 0) return &limits[i];
    return NULL;
}

int wb_list_limit_check(const wb_list_limit *lim, int n, char *err, size_t err_size) {
    if (n > lim->max_len)
        snprintf(err, err_size, "%s has %d elements; at most %d are supported", lim->path, n, lim->max_len);
    else if (n < lim->min_len)
        snprintf(err, err_size, "%s has %d element%s; it needs %s%d: %s", lim->path, n, n == 1 ? "" : "s",
                 lim->min_len == lim->max_len ? "exactly " : "at least ", lim->min_len, lim->form);
    else if (lim->pairs && n % 2)
        snprintf(err, err_size, "%s has %d elements, an odd number; it holds %s", lim->path, n, lim->form);
    else
        return 0;
    return -1;
}
