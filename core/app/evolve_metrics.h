/* The results of one evolution generation, from its run's log.json: the
 * last validation line, mapped onto YOLOv5's seven result columns. */
#ifndef WB_CORE_APP_EVOLVE_METRICS_H
#define WB_CORE_APP_EVOLVE_METRICS_H

#include <stddef.h>
#include "evolve_csv.h"

/* Fills results[WB_EVOLVE_N_RESULTS]: precision, recall (YOLOv5's
 * ap_per_class, when the run logs them), mAP@0.5 (mAP_0.5, else COCO's
 * bbox_mAP_50, else the VOC metric's mAP), mAP@0.5:0.95 (mAP_0.5:0.95, else
 * bbox_mAP), val/box_loss, val/obj_loss, val/cls_loss (the logged
 * val/loss_box, val/loss_obj, val/loss_cls: the head's terms of those
 * names); what the run does not log is 0, and `missing` (may be NULL)
 * gets those columns' names. 0, or -1 with the reason in err when there is
 * no validation line with an mAP. */
int wb_evolve_read_results(const char *log_json, double *results, char *missing, size_t missing_size, char *err,
                           size_t err_size);

#endif
