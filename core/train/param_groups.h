/* Which learning-rate and weight-decay multipliers a parameter gets, from its
 * dotted name and the shapes of its neighbours (see optimizer.h). */
#ifndef WB_CORE_PARAM_GROUPS_H
#define WB_CORE_PARAM_GROUPS_H

#include "optimizer.h"

typedef struct wb_param_group {
    float lr_mult;
    float weight_decay;  /* absolute, already multiplied */
} wb_param_group;

wb_param_group wb_param_group_of(const wb_session *s, const wb_tensor *param, const wb_optim_config *cfg);

#endif
