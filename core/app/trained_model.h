/* A model of an experiment with trained weights, for eval and infer. */
#ifndef WB_CORE_TRAINED_MODEL_H
#define WB_CORE_TRAINED_MODEL_H

#include <stdbool.h>
#include <stdio.h>
#include "../model/model.h"
#include "../train/checkpoint_labels.h"
#include "experiment.h"

/* Builds the experiment's model in s and loads the checkpoint's weights (and
 * buffers). Every parameter must be in the checkpoint with its shape; EMA
 * weights are used when the checkpoint has them. NULL with a message on log. */
wb_model *wb_trained_model(wb_experiment *e, wb_session *s, const char *checkpoint, FILE *log);

/* What training stores in every checkpoint (checkpoint_labels.h): the class
 * names and ids of the training dataset, and the test-time input settings
 * of the experiment (data.test, else data.val: pipeline and size_divisor).
 * Free with wb_checkpoint_labels_free. */
wb_status wb_labels_of_training(wb_experiment *e, const wb_dataset_vtable *vt, void *ds, wb_checkpoint_labels *l,
                                char *err, size_t err_size);

/* The class names a checkpoint stores, as a names-only dataset (num_classes,
 * class_name, category_id, close) for labelling: true with *vt and *ds set
 * (release with (*vt)->close(*ds)), and a note on log when the experiment's
 * test-time settings differ from the stored ones. false when it stores none
 * (a checkpoint from before names were stored, a converted file), or stores
 * names that are damaged or do not match the model's num_classes (said on
 * log): the caller then takes them from the dataset. */
bool wb_stored_class_names(wb_experiment *e, const char *checkpoint, const wb_dataset_vtable **vt, void **ds,
                           FILE *log);

#endif
