/* `--hyp FILE`: a YOLOv5 hyperparameter file mapped onto an experiment.
 *
 * Each known name sets one key of the experiment, as --set would, with the
 * file and line as the setting's origin (so validation names them):
 *   optimiser keys  -> optimizer.lr / momentum / weight_decay, schedule.lrf and
 *                      the warmup keys of the YOLOv5 recipe;
 *   loss gains      -> model.head.<name> when the head declares that parameter;
 *   augmentations   -> the parameter of the data.train.pipeline step of the
 *                      matching transform type (hsv_* -> yolo_hsv, degrees ...
 *                      perspective -> random_affine, fliplr / flipud ->
 *                      random_flip of that direction, mosaic / mixup -> prob).
 * A value given with --set wins over the file. An unknown name is an error at
 * its line (with a did-you-mean); a known one with no target in this
 * experiment (mixup without a mixup step, box with a RetinaNet head) is a
 * warning, except an augmentation at 0, which the experiment already does,
 * and iou_t, which YOLOv5 7.0's training reads nowhere either. */
#ifndef WB_CORE_CONFIG_HYP_APPLY_H
#define WB_CORE_CONFIG_HYP_APPLY_H

#include <stdio.h>
#include "config.h"

/* Call after the config and its --set overrides are loaded and the plugins
 * registered (heads' schemas come from lookup), before validation. Errors
 * join the config's; warnings go to warn. Returns the config's error count. */
int wb_hyp_apply(wb_config *cfg, const char *path, const wb_module_lookup *lookup, FILE *warn);

/* The names a hyp file may hold, NULL-terminated (for docs and tests). */
const char *const *wb_hyp_names(void);

#endif
