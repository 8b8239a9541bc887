/* The per-image, per-category step of COCO evaluation (pycocotools'
 * computeIoU + evaluateImg): detections sorted by score and cut to 100, their
 * IoU with every ground-truth box, and the greedy matching at each IoU
 * threshold for one area range. */
#ifndef WB_EVAL_COCO_MATCH_H
#define WB_EVAL_COCO_MATCH_H

#include <stdbool.h>
#include <stdint.h>
#include "coco_eval.h"

enum {
    WB_COCO_NUM_IOU = 10,    /* .50:.05:.95 */
    WB_COCO_NUM_RECALL = 101,
    WB_COCO_NUM_AREAS = 4,   /* all, small, medium, large */
    WB_COCO_NUM_MAXDETS = 3,
    WB_COCO_MAX_DETS = 100,  /* the largest maxDets: detections kept per image and category */
};

/* Exactly numpy.linspace(.5, .95, 10) as pycocotools builds it (the ninth is
 * 0.8999999999999999, not 0.9). */
extern const double wb_coco_iou_thrs[WB_COCO_NUM_IOU];
extern const double wb_coco_area_ranges[WB_COCO_NUM_AREAS][2];
extern const char *const wb_coco_area_names[WB_COCO_NUM_AREAS];
extern const int wb_coco_max_dets[WB_COCO_NUM_MAXDETS];

/* One image and category. gt is in annotation-file order; dt starts in
 * results order and wb_coco_cell_prepare sorts and truncates it. */
typedef struct wb_coco_cell {
    const wb_coco_annotation **gt;
    int n_gt;
    const wb_coco_detection **dt;
    int n_dt;
    double *iou;   /* n_dt x n_gt, row-major; room for WB_COCO_MAX_DETS x n_gt */
} wb_coco_cell;

/* What one detection contributes to accumulation, for one area range. Bit t
 * of matched/ignored is pycocotools' dtMatches != 0 / dtIgnore at threshold t. */
typedef struct wb_coco_dt_eval {
    double score;
    int rank;   /* position among its image's sorted detections: kept for maxDets > rank */
    uint16_t matched, ignored;
} wb_coco_dt_eval;

/* Sorts cell->dt by descending score, ties in results order (numpy's stable
 * mergesort), keeps the first WB_COCO_MAX_DETS, and fills cell->iou. */
void wb_coco_cell_prepare(wb_coco_cell *cell);

/* Matches the prepared cell for one area range. Writes cell->n_dt entries to
 * out and returns the number of ground-truth boxes that count (not crowd,
 * inside the range). gt_scratch needs room for 3 * n_gt ints. */
int wb_coco_cell_match(const wb_coco_cell *cell, const double area_range[2], int *gt_scratch,
                       wb_coco_dt_eval *out);

#endif
