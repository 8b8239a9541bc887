/* The parts of a COCO instances file a detector needs, collected from the
 * shared COCO reader (core/formats/coco/coco_reader.h, compiled into this
 * plugin): images, categories and box annotations (segmentations skipped). */
#ifndef WB_COCO_JSON_H
#define WB_COCO_JSON_H

#include <stddef.h>
#include <stdint.h>

typedef struct coco_image {
    int64_t id;
    char *file_name;
    int width, height;
} coco_image;

typedef struct coco_category {
    int64_t id;
    char *name;
} coco_category;

typedef struct coco_annotation {
    int64_t image_id, category_id;
    float bbox[4];            /* x, y, w, h as in the file */
    int iscrowd;
} coco_annotation;

typedef struct coco_file {
    coco_image *images;
    int64_t n_images;
    coco_category *categories;
    int n_categories;
    coco_annotation *annotations;
    int64_t n_annotations;
} coco_file;

/* Reads path. On failure returns 0 with a message naming the file, the
 * element (e.g. "annotations[12].bbox") and the line/column. */
int coco_read(const char *path, coco_file *out, char *err, size_t err_size);
void coco_file_free(coco_file *f);

#endif
