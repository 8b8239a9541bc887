/* YOLOv5's validation losses (val.py adds compute_loss(train_out, targets)
 * of every batch and divides by the number of batches): the head's own
 * loss() on the predictions of the evaluation forward (eval mode: BN with
 * its running statistics, no tape), each term averaged over the batches.
 * The cost is one loss call per validation batch. The terms are the head's
 * as the train log has them (yolov5_head's carry the batch-size factor of
 * YOLOv5's trained total; YOLOv5 prints them divided by the batch size). */
#ifndef WB_CORE_APP_VAL_LOSS_H
#define WB_CORE_APP_VAL_LOSS_H

#include <stdbool.h>
#include "../model/model.h"

typedef struct wb_val_loss {
    int n_terms;
    char names[WB_MAX_LOSS_TERMS][WB_NAME_MAX];
    double sums[WB_MAX_LOSS_TERMS];
    int64_t batches;
    bool off;   /* the head has no loss(), or it refused a batch: no val loss this evaluation */
} wb_val_loss;

/* The head's loss for the model's last (eval-mode) forward, added to v.
 * A head without loss() or one that refuses turns v off, with a note the
 * first time in the process; the head's error is cleared for its predict. */
void wb_val_loss_add(wb_val_loss *v, wb_model *m, const wb_batch_truth *truth);
/* Term k's mean over the batches. */
double wb_val_loss_mean(const wb_val_loss *v, int k);
/* Whether v holds terms to report. */
bool wb_val_loss_ready(const wb_val_loss *v);

#endif
