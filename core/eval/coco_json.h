/* COCO files: an instances (ground-truth) JSON, and a results JSON (a list of
 * {"image_id", "category_id", "bbox": [x, y, w, h], "score"}), read the way
 * pycocotools' COCO() and loadRes read them, and results written back with the
 * dataset's own category ids. */
#ifndef WB_EVAL_COCO_JSON_H
#define WB_EVAL_COCO_JSON_H

#include <stddef.h>
#include "coco_eval.h"

/* images[].id, categories[].id/name and annotations[] (id, image_id,
 * category_id, bbox, area, iscrowd; iscrowd defaults to 0 and a missing area
 * to w*h, where pycocotools would fail). */
wb_status wb_coco_gt_load(const char *path, wb_coco_gt *gt, char *err, size_t err_size);

/* *dets is malloc'd (free() it); an empty list is valid. */
wb_status wb_coco_results_load(const char *path, wb_coco_detection **dets, size_t *n_dets, char *err,
                               size_t err_size);

/* Writes dets as a results JSON that both loaders read back exactly. */
wb_status wb_coco_results_save(const char *path, const wb_coco_detection *dets, size_t n_dets, char *err,
                               size_t err_size);

#endif
