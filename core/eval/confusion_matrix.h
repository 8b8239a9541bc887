/* YOLOv5's ConfusionMatrix (utils/metrics.py of yolov5 7.0): rows are
 * predicted classes, columns true classes, the last row and column the
 * background. Detections above conf 0.25 are matched to labels at IoU > 0.45,
 * each detection to its best label and each label to its best detection.
 * As in YOLOv5, an image's detections count only when it has labels, and
 * unmatched detections count as background only when the image has at least
 * one match. */
#ifndef WB_CORE_CONFUSION_MATRIX_H
#define WB_CORE_CONFUSION_MATRIX_H

#include <stdint.h>
#include <workbench/types.h>

#define WB_CONFUSION_CONF 0.25f
#define WB_CONFUSION_IOU 0.45f

typedef struct wb_confusion {
    int num_classes;
    double *counts; /* (num_classes + 1) x (num_classes + 1), row-major [predicted][true] */
} wb_confusion;

wb_status wb_confusion_init(wb_confusion *m, int num_classes);
/* One image's detections (x1,y1,x2,y2 boxes) and labels, in the same pixel
 * space; classes outside 0..num_classes-1 are left out. */
wb_status wb_confusion_add(wb_confusion *m, const float *det_boxes, const float *det_conf, const int *det_cls,
                           int n_det, const float *gt_boxes, const int *gt_cls, int n_gt);
/* Each column divided by its sum (+1e-9), as YOLOv5's plot normalises. */
void wb_confusion_normalized(const wb_confusion *m, double *out);
void wb_confusion_free(wb_confusion *m);

#endif
