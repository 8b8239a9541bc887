/* Pascal VOC mAP as mmdetection's eval_map computes it for VOC datasets
 * (mmdet/evaluation/functional/mean_ap.py, tpfp_default with
 * use_legacy_coordinate=True): IoU with VOC's +1 pixel convention (a box
 * x1..x2 is x2 - x1 + 1 pixels wide), a detection takes the ground-truth box
 * it overlaps most; above the IoU threshold it is a true positive if that box
 * is free, a false positive if already taken, and neither if the box is
 * `difficult`. AP per class is the area under the precision envelope
 * (VOC2010+, mode "area") or the 11-point average (VOC2007); mAP averages the
 * classes that have ground truth.
 *
 * Deliberate differences from mmdetection, all below 1e-6 on real data:
 * arithmetic in double (mmdet: float32 IoU and curves); score ties keep
 * (image, input) order (mmdet: numpy's unstable quicksort); the 11 recall
 * thresholds are exact tenths as in the VOC2007 MATLAB devkit (numpy's
 * arange(0, 1.1, 0.1) gives 0.30000000000000004, 0.6000000000000001 and
 * 0.7000000000000001, so a recall of exactly 3/10, 6/10 or 7/10 would miss
 * its threshold). */
#ifndef WB_EVAL_VOC_EVAL_H
#define WB_EVAL_VOC_EVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <workbench/types.h>

typedef struct wb_voc_box {
    int image;           /* 0 .. n_images-1 */
    int label;           /* 0 .. n_classes-1 */
    double x1, y1, x2, y2;
    bool difficult;      /* ground truth only: ignored, neither found nor missed */
    double score;        /* detections only */
} wb_voc_box;

typedef enum wb_voc_ap_mode { WB_VOC_AP_AREA, WB_VOC_AP_11POINT } wb_voc_ap_mode;

typedef struct wb_voc_class_result {
    int num_gts;      /* not difficult */
    int num_dets;
    double recall;    /* at the last detection; 0 without detections or ground truth */
    double ap;        /* 0 for a class without ground truth */
} wb_voc_class_result;

/* per_class has n_classes entries. Boxes with an image or label out of range
 * are an error. */
wb_status wb_voc_evaluate(const wb_voc_box *gts, size_t n_gts, const wb_voc_box *dets, size_t n_dets,
                          int n_images, int n_classes, double iou_thr, wb_voc_ap_mode mode,
                          wb_voc_class_result *per_class, double *mean_ap, char *err, size_t err_size);

#endif
