/* YOLOv5's view of an evaluation: the detections and the ground truth of
 * every image (original pixels; labels are positions in the ground truth's
 * category table) through val.py's matching into ap_per_class statistics
 * and the confusion matrix. Crowd / difficult objects are left out, as
 * YOLOv5's label files leave them out. */
#ifndef WB_CORE_APP_VAL_STATS_H
#define WB_CORE_APP_VAL_STATS_H

#include "../eval/ap_per_class.h"
#include "../eval/coco_eval.h"
#include "../eval/confusion_matrix.h"

/* stats and cm are initialised here for gt's categories; free them. */
wb_status wb_val_stats(const wb_coco_gt *gt, const wb_coco_detection *dets, size_t n_dets, wb_ap_stats *stats,
                       wb_confusion *cm);

#endif
