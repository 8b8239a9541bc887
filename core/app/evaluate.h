/* Evaluation of a model on one split: predictions for every image (in
 * original-image pixels, with the dataset's own category ids), then COCO
 * bbox metrics (pycocotools semantics) or VOC mAP, as `evaluation.metric`
 * says. Used by `workbench eval`, validation during training and the
 * quickstart. */
#ifndef WB_CORE_EVALUATE_H
#define WB_CORE_EVALUATE_H

#include <stdio.h>
#include "../eval/ap_per_class.h"
#include "../eval/confusion_matrix.h"
#include "../model/model.h"
#include "../plots/batch_plot.h"
#include "experiment.h"

typedef struct wb_eval_result {
    char metric_name[32];    /* "bbox_mAP" (COCO AP@[.5:.95]), "mAP" (VOC) or "AR@1000" (proposals) */
    double metric;           /* the headline number */
    double map50;            /* AP at IoU 0.5 (COCO AP50, or VOC mAP) */
    double coco[12];         /* the 12 COCO numbers (bbox metric only) */
    double ar[3];            /* AR@100, AR@300, AR@1000 (proposal metric only; metric_name "AR@1000") */
    /* YOLOv5's numbers (ap_per_class), whatever the metric but proposal: */
    double precision, recall, yolo_map50, yolo_map;
    int64_t images, detections;
    /* YOLOv5's val losses (val_loss.h): the head's loss terms, each the mean
     * over the batches; n_loss 0 when the head has no loss(), refused one,
     * or the split has no labels. */
    int n_loss;
    char loss_names[WB_MAX_LOSS_TERMS][WB_NAME_MAX];
    double loss[WB_MAX_LOSS_TERMS];
    double infer_seconds;    /* loading, the model, its loss and its decoding, over every image */
    double eval_seconds;     /* ground truth, matching, the metric and writing the results */
} wb_eval_result;

/* results_path (optional) receives a COCO results JSON, and its companion
 * <results>.categories.json the categories ({"id", "name"}) its ids refer to.
 * Tables go to out. */
wb_status wb_evaluate_split(wb_experiment *e, wb_session *s, wb_model *m, const char *split,
                            const char *results_path, FILE *out, wb_eval_result *res, char *err, size_t err_size);

/* What a run's plots take from its last validation: ap_per_class's curves,
 * the confusion matrix, the first batch with its labels and its predictions
 * (input pixels), and the class names (labels index them). */
typedef struct wb_val_record {
    wb_ap_result ap;
    wb_confusion confusion;
    wb_plot_batch batch_labels, batch_pred;
    int num_classes;
    char **names;
} wb_val_record;

/* wb_evaluate_split, also filling rec (free it with wb_val_record_free). */
wb_status wb_evaluate_split_recorded(wb_experiment *e, wb_session *s, wb_model *m, const char *split,
                                     const char *results_path, FILE *out, wb_eval_result *res, wb_val_record *rec,
                                     char *err, size_t err_size);
void wb_val_record_free(wb_val_record *rec);

#endif
