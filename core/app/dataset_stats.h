/* `workbench dataset-stats`: what a split's annotations hold, before any
 * transform: instances per class, box sizes (pixels, COCO's area ranges)
 * and aspect ratios, images without objects; as a table and as YOLOv5's
 * labels.jpg (core/plots, the picture `workbench run` draws). */
#ifndef WB_APP_DATASET_STATS_H
#define WB_APP_DATASET_STATS_H

#include <stdio.h>
#include "experiment.h"

/* Prints the table to out and writes out_dir/labels.jpg. 0, or -1 with the
 * message in err ("usage: " first for a split the experiment lacks). */
int wb_dataset_stats(wb_experiment *e, wb_session *s, const char *split, const char *out_dir, FILE *out, char *err,
                     size_t n);

#endif
