/* COCO files: an instances (ground-truth) JSON, and a results JSON (a list of
 * {"image_id", "category_id", "bbox": [x, y, w, h], "score"}), read the way
 * pycocotools' COCO() and loadRes read them, and results written back with the
 * dataset's own category ids. */
#ifndef WB_EVAL_COCO_JSON_H
#define WB_EVAL_COCO_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include "coco_eval.h"

/* images[].id, categories[].id/name and annotations[] (id, image_id,
 * category_id, bbox, area, iscrowd; iscrowd defaults to 0 and a missing area
 * to w*h, where pycocotools would fail). */
wb_status wb_coco_gt_load(const char *path, wb_coco_gt *gt, char *err, size_t err_size);

/* *dets is malloc'd (free() it); an empty list is valid. */
wb_status wb_coco_results_load(const char *path, wb_coco_detection **dets, size_t *n_dets, char *err,
                               size_t err_size);

/* Detections being collected for a results file. */
typedef struct wb_coco_detection_list {
    wb_coco_detection *d;   /* malloc'd: free(list.d) */
    size_t n, cap;
} wb_coco_detection_list;

/* Appends d; false when out of memory. */
bool wb_coco_detection_push(wb_coco_detection_list *l, wb_coco_detection d);

/* Writes dets as a results JSON that both loaders read back exactly. */
wb_status wb_coco_results_save(const char *path, const wb_coco_detection *dets, size_t n_dets, char *err,
                               size_t err_size);

/* A results file's companion: the path without ".json", then ".<what>.json"
 * (results.json, "categories" -> results.categories.json). */
void wb_coco_companion_path(const char *results_path, const char *what, char *out, size_t out_size);

/* One image a results file names, as a COCO ground truth lists it. */
typedef struct wb_coco_image_info {
    int64_t id;
    const char *file_name;
    int width, height;
} wb_coco_image_info;

/* {"images": [{"id", "file_name", "width", "height"}, ...]}: what the image ids
 * of a results file mean, as the images block of a COCO ground truth. */
wb_status wb_coco_images_save(const char *path, const wb_coco_image_info *images, size_t n_images, char *err,
                              size_t err_size);

/* {"categories": [{"id", "name"}, ...]}: what the category ids of a results
 * file mean, as the categories block of a COCO ground truth. */
wb_status wb_coco_categories_save(const char *path, const wb_coco_category *cats, int n_cats, char *err,
                                  size_t err_size);

#endif
