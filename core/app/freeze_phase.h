/* train.freeze read into the trainer's freeze schedule (trainer.h), checked
 * against the rest of the experiment. */
#ifndef WB_CORE_FREEZE_PHASE_H
#define WB_CORE_FREEZE_PHASE_H

#include "../config/config.h"
#include "../train/trainer.h"

#define WB_FREEZE_MAX_MODULES 64

/* Fills fz (all but data; epochs 0 without train.freeze), its module names
 * in modules[WB_FREEZE_MAX_MODULES]. The frozen phase's lr is scaled by
 * auto_scale_lr with its own total batch (batch_size x world). 0, or 2 with
 * a logged message. */
int wb_freeze_schedule_from_config(wb_config *cfg, int world, const char **modules, wb_freeze_schedule *fz);

#endif
