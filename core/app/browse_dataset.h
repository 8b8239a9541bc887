/* `workbench browse-dataset` (mmdetection's browse_dataset): pictures of a
 * split's samples as training sees them, after the transform pipeline, with
 * their boxes and class names, to see what augmentation does. */
#ifndef WB_APP_BROWSE_DATASET_H
#define WB_APP_BROWSE_DATASET_H

#include <stdio.h>
#include "experiment.h"

typedef struct wb_browse_opts {
    const char *split;    /* "train" (default), "val", "test" */
    const char *out_dir;  /* pictures go here as SPLIT_INDEX.jpg */
    bool show_pipeline;   /* false: the images and boxes as the dataset gives them */
    int num;              /* pictures to write */
} wb_browse_opts;

/* The number of pictures written, or -1 with the message in err (usage
 * problems start with "usage: "). */
int wb_browse_dataset(wb_experiment *e, wb_session *s, const wb_browse_opts *o, FILE *log, char *err, size_t n);

#endif
