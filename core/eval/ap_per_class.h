/* YOLOv5's detection metrics (yolov5 7.0, val.py and utils/metrics.py):
 * process_batch's "correct" matrix at IoU 0.50:0.05:0.95, and ap_per_class:
 * per-class precision / recall curves on a 1000-point confidence grid,
 * 101-point interpolated AP, and precision and recall at the confidence
 * where the class-mean F1 (smoothed with a box filter of 10%) peaks. The
 * numbers YOLOv5 users compare runs by, beside the COCO ones. */
#ifndef WB_CORE_AP_PER_CLASS_H
#define WB_CORE_AP_PER_CLASS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <workbench/types.h>

#define WB_AP_IOUS 10        /* 0.50, 0.55, ..., 0.95 */
#define WB_AP_GRID 1000      /* points of the confidence / recall grid (np.linspace(0, 1, 1000)) */

/* IoU of two x1,y1,x2,y2 boxes in float, as YOLOv5's box_iou (eps 1e-7). */
float wb_ap_box_iou(const float *a, const float *b);

/* val.py's process_batch: bit t of correct[i] says detection i (in the
 * caller's order, YOLOv5's is by descending confidence) matches a label of
 * its class at IoU >= 0.5 + 0.05 t, each label matched at most once. */
void wb_ap_match(const float *det_boxes, const int *det_cls, int n_det, const float *gt_boxes, const int *gt_cls,
                 int n_gt, uint16_t *correct);

/* What validation gathers over a split: every detection's confidence, class
 * and correct bits, and the number of labels per class. */
typedef struct wb_ap_stats {
    int num_classes;
    size_t n, cap;
    float *conf;
    int *cls;
    uint16_t *correct;
    int64_t *targets;   /* num_classes */
    int64_t images;
} wb_ap_stats;

wb_status wb_ap_stats_init(wb_ap_stats *s, int num_classes);
/* One image: detections and labels in the same pixel space; labels outside
 * 0..num_classes-1 are not counted. WB_ERR_NOMEM when it cannot grow. */
wb_status wb_ap_stats_add(wb_ap_stats *s, const float *det_boxes, const float *det_conf, const int *det_cls,
                          int n_det, const float *gt_boxes, const int *gt_cls, int n_gt);
void wb_ap_stats_free(wb_ap_stats *s);

/* ap_per_class over the classes that have labels (ascending), as YOLOv5
 * returns them. Curves are n_classes rows of WB_AP_GRID values over
 * px = linspace(0, 1, 1000): confidence for p, r and f1, recall for pr
 * (precision at IoU 0.5). */
typedef struct wb_ap_result {
    int num_classes;              /* of the dataset */
    int n_classes;
    int *classes;
    int64_t *targets;
    double *p, *r, *f1;           /* at the max-mean-F1 confidence */
    double *ap;                   /* n_classes x WB_AP_IOUS */
    double *p_curve, *r_curve, *f1_curve, *pr_curve;
    int best;                     /* grid index of that confidence */
    double mp, mr, map50, map;    /* means over the classes */
    int64_t images;
} wb_ap_result;

wb_status wb_ap_per_class(const wb_ap_stats *s, wb_ap_result *out);
void wb_ap_result_free(wb_ap_result *r);
/* The grid point px[i] of np.linspace(0, 1, 1000). */
double wb_ap_grid(int i);

/* metrics.py's smooth(y, f): a box filter of round(n f 2) / 2 * 2 + 1 points
 * over y padded with its end values. */
void wb_ap_smooth(const double *y, int n, double f, double *out);

/* val.py's table: all, then each class (names indexed by label; NULL: its number). */
void wb_ap_print_table(FILE *out, const wb_ap_result *r, const char *const *names);

#endif
