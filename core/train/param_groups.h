/* Which learning-rate and weight-decay multipliers a parameter gets, from its
 * dotted name and the shapes of its neighbours (see optimizer.h). */
#ifndef WB_CORE_PARAM_GROUPS_H
#define WB_CORE_PARAM_GROUPS_H

#include "optimizer.h"

typedef struct wb_param_group {
    float lr_mult;
    float weight_decay;  /* absolute, already multiplied */
    bool bias;           /* named `bias` (norm layers' too): YOLOv5's warmup_bias_lr group */
} wb_param_group;

wb_param_group wb_param_group_of(const wb_session *s, const wb_tensor *param, const wb_optim_config *cfg);

#endif
