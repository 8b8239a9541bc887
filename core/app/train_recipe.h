/* The experiment keys of YOLOv5's training recipe that need more than a
 * copy into the trainer's options: the nominal batch (optimizer.nbs) and
 * frozen parameters (optimizer.freeze). */
#ifndef WB_CORE_TRAIN_RECIPE_H
#define WB_CORE_TRAIN_RECIPE_H

#include "../config/config.h"
#include "../train/trainer.h"

/* optimizer.nbs: the accumulation and YOLOv5's weight-decay scaling,
 * batch_size x accumulate / nbs. 0, or 2 with a logged message when the
 * experiment also sets optimizer.accumulate. */
int wb_nominal_batch_opts(wb_config *cfg, wb_trainer_opts *o);

/* optimizer.freeze on the built model. 0, or 2 with a logged message. */
int wb_freeze_from_config(wb_config *cfg, wb_session *s);

/* Both checks, for validate: 0, or 2 with a logged message. */
int wb_train_recipe_check(wb_config *cfg, wb_session *s);

#endif
