/* `workbench infer`: run a trained model on image files or folders, write
 * each image with its detections drawn (boxes, class names, scores; one
 * colour per class) and a COCO results JSON with its image and category lists. */
#ifndef WB_CORE_INFER_H
#define WB_CORE_INFER_H

#include <stdio.h>
#include "../model/model.h"
#include "experiment.h"

typedef struct wb_infer_opts {
    const char *const *inputs;   /* files and/or folders (*.jpg, *.jpeg, *.png) */
    int n_inputs;
    const char *out_dir;
    float score_thr;             /* pictures show detections scoring at least this */
    float results_thr;           /* results.json keeps those scoring at least this (0: all the head keeps) */
    const char *checkpoint;      /* its stored class names label the detections; NULL: the dataset's */
} wb_infer_opts;

/* Returns a process exit code; progress and problems go to log. */
int wb_infer_run(wb_experiment *e, wb_session *s, wb_model *m, const wb_infer_opts *o, FILE *log);

/* The same for the first `count` images of data.<split> (pictures named
 * <split>_NNNN.jpg), e.g. to show what a freshly trained model sees. */
int wb_infer_samples(wb_experiment *e, wb_session *s, wb_model *m, const char *split, int count,
                     const wb_infer_opts *o, FILE *log);

#endif
