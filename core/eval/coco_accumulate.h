/* pycocotools' COCOeval.accumulate for one category, area range and maxDets:
 * the precision/recall curve over all images and its 101-point interpolation. */
#ifndef WB_EVAL_COCO_ACCUMULATE_H
#define WB_EVAL_COCO_ACCUMULATE_H

#include "coco_match.h"

/* Scratch for wb_coco_accumulate, sized for the most entries one call sees. */
typedef struct wb_coco_accum_scratch {
    struct wb_coco_ranked { double score; int index; } *ranked;
    double *precision, *recall;
} wb_coco_accum_scratch;

bool wb_coco_accum_scratch_init(wb_coco_accum_scratch *s, size_t max_entries);
void wb_coco_accum_scratch_free(wb_coco_accum_scratch *s);

/* entries: every image's detections, images in ascending id order, each
 * image's in its sorted order. Only those with rank < max_det take part.
 * n_counted_gt > 0. Writes precision[t * precision_stride + r] for the 101
 * recall thresholds and recall[t * recall_stride] for each IoU threshold t. */
void wb_coco_accumulate(const wb_coco_dt_eval *entries, size_t n, int max_det, int n_counted_gt,
                        wb_coco_accum_scratch *scratch, double *precision, size_t precision_stride,
                        double *recall, size_t recall_stride);

#endif
