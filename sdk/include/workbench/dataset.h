/* workbench SDK: the dataset contract. */
#ifndef WORKBENCH_DATASET_H
#define WORKBENCH_DATASET_H

#include "module.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One sample. A dataset gives either an image file (path), encoded bytes, or
 * decoded RGB pixels; the core decodes and transforms. Boxes are in pixels of
 * the original image, x1,y1,x2,y2. Memory belongs to the dataset until
 * release_sample. */
typedef struct wb_sample {
    uint32_t struct_size;
    const char *image_path;
    const uint8_t *encoded;  /* JPEG / PNG bytes, or NULL */
    size_t encoded_size;
    const uint8_t *pixels;   /* RGB, HWC, 8-bit, or NULL */
    int width, height;       /* original size (0 when unknown until decoded) */
    int num_boxes;
    float *boxes;            /* num_boxes * 4 */
    int *labels;
    uint8_t *ignore;         /* crowd / difficult */
    int64_t image_id;
    void *priv;              /* for the dataset's own bookkeeping */
} wb_sample;

typedef struct wb_dataset_vtable {
    uint32_t struct_size;
    wb_status (*open)(wb_ctx *ctx, const wb_params *params, void **dataset);
    int64_t (*length)(void *dataset);
    /* Must be safe to call from several loader threads at once. */
    wb_status (*get)(void *dataset, wb_ctx *ctx, int64_t index, wb_sample *sample);
    void (*release_sample)(void *dataset, wb_sample *sample);
    int (*num_classes)(void *dataset);
    const char *(*class_name)(void *dataset, int label);
    /* The dataset's own id for a label (COCO category id); label itself when none. */
    int64_t (*category_id)(void *dataset, int label);
    void (*close)(void *dataset);
} wb_dataset_vtable;

#ifdef __cplusplus
}
#endif
#endif
