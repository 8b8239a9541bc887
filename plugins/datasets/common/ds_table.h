/* What the file-based dataset plugins (coco, voc, yolo) build at open time:
 * images with their boxes in flat arrays, plus the class names. Read-only
 * after open, so `get` is thread-safe by construction. Compiled into each
 * plugin (not a plugin itself: no CMakeLists here). */
#ifndef WB_DS_TABLE_H
#define WB_DS_TABLE_H

#include <stdint.h>
#include <workbench/workbench.h>

typedef struct ds_image {
    char *path;              /* image file */
    int width, height;       /* from the annotation; 0 when unknown */
    int64_t image_id;
    int64_t first_box;       /* into the box arrays */
    int num_boxes;
} ds_image;

typedef struct ds_table {
    ds_image *images;
    int64_t n_images, cap_images;
    float *boxes;            /* 4 per box, x1 y1 x2 y2 in original pixels */
    int *labels;
    uint8_t *ignore;
    int64_t n_boxes, cap_boxes;
    char **class_names;
    int n_classes;
} ds_table;

/* Appends an image (path copied); returns it, NULL when out of memory.
 * Boxes added next belong to it until the next image. */
ds_image *ds_table_add_image(ds_table *t, const char *path, int width, int height, int64_t image_id);
/* Appends a box to the last image; 0 when out of memory. */
int ds_table_add_box(ds_table *t, const float xyxy[4], int label, int ignore);
/* Class names (copied). 0 when out of memory. */
int ds_table_set_classes(ds_table *t, const char *const *names, int n);
int ds_table_class_index(const ds_table *t, const char *name); /* -1 when absent */
/* Keeps only the images for which keep[i] is non-zero (boxes follow). */
void ds_table_filter(ds_table *t, const uint8_t *keep);
void ds_table_free(ds_table *t);

/* Fills a sample with image i's path, size and copies of its boxes. */
wb_status ds_table_fill_sample(const ds_table *t, int64_t i, wb_sample *s);
void ds_table_release_sample(wb_sample *s);

/* Class names from a STRING_LIST parameter (NULL/0 when absent or empty). */
char **ds_param_strings(const wb_host_api *host, const wb_params *p, const char *key, int *n);
void ds_free_strings(char **list, int n);
/* A path parameter resolved against the dataset's `data_root` (absolute
 * paths and an empty data_root leave it as written); a new string, NULL when
 * the key is absent or out of memory. */
char *ds_param_path(const wb_host_api *host, const wb_params *p, const char *key);

#endif
