/* Human- and script-readable reports of evaluation results. */
#ifndef WB_EVAL_EVAL_TABLE_H
#define WB_EVAL_EVAL_TABLE_H

#include <stdio.h>
#include "coco_eval.h"
#include "voc_eval.h"

/* The 12 lines of pycocotools' COCOeval.summarize(), character for character. */
void wb_coco_print_summary(FILE *f, const wb_coco_summary *s);

/* One row per category: id, name (from gt), ground-truth objects, AP@[.5:.95]
 * ("-" without ground truth). */
void wb_coco_print_category_table(FILE *f, const wb_coco_summary *s, const wb_coco_gt *gt);

/* {"AP": ..., ..., "ARl": ..., "per_category": [{"id", "name", "num_gts", "AP"}...]}
 * with every number printed to round-trip exactly (-1 where pycocotools has -1).
 * malloc'd; NULL when out of memory. */
char *wb_coco_summary_json(const wb_coco_summary *s, const wb_coco_gt *gt);

/* mmdetection's table: class, gts, dets, recall, ap, then the mAP. */
void wb_voc_print_table(FILE *f, const char *const *class_names, const wb_voc_class_result *per_class,
                        int n_classes, double mean_ap);

#endif
