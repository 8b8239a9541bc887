/* A model of an experiment with trained weights, for eval and infer. */
#ifndef WB_CORE_TRAINED_MODEL_H
#define WB_CORE_TRAINED_MODEL_H

#include <stdio.h>
#include "../model/model.h"
#include "experiment.h"

/* Builds the experiment's model in s and loads the checkpoint's weights (and
 * buffers). Every parameter must be in the checkpoint with its shape; EMA
 * weights are used when the checkpoint has them. NULL with a message on log. */
wb_model *wb_trained_model(wb_experiment *e, wb_session *s, const char *checkpoint, FILE *log);

#endif
