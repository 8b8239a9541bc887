/* workbench SDK: the dataset contract.
 *
 * A dataset is opened once per split (data.train/val/test.dataset) with its
 * validated, defaulted section, and closed when the command ends. When the
 * experiment sets data.data_root and the dataset's schema declares a string
 * `data_root` key the section does not set itself, the core writes
 * data.data_root into it before open: declare `data_root` and resolve your
 * relative paths against it to follow that redirection. */
#ifndef WORKBENCH_DATASET_H
#define WORKBENCH_DATASET_H

#include "module.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One sample, filled by get(). A dataset gives either an image file (path),
 * encoded bytes, or decoded RGB pixels (the first that is set, in the order
 * pixels, encoded, path); the core decodes and transforms. Boxes are in
 * pixels of the original image, x1,y1,x2,y2. All memory belongs to the
 * dataset until release_sample: the core only reads it (the arrays are not
 * const for ABI reasons) and copies what it keeps before that call. */
typedef struct wb_sample {
    uint32_t struct_size;    /* set by the core; leave it */
    const char *image_path;
    const uint8_t *encoded;  /* JPEG / PNG bytes, or NULL */
    size_t encoded_size;
    const uint8_t *pixels;   /* RGB, HWC, 8-bit, or NULL; needs width and height > 0 */
    int width, height;       /* original size; 0 when unknown until decoded (path, encoded) */
    int num_boxes;           /* 0 is fine: an image of background; the arrays may then be NULL */
    float *boxes;            /* num_boxes * 4 */
    int *labels;             /* 0..num_classes()-1 */
    uint8_t *ignore;         /* num_boxes flags (crowd / difficult), or NULL for none */
    /* Identifies the image in evaluation: results files and the ground truth
     * are joined on it, so give every sample of a split its own id (the
     * annotation file's id where there is one, as COCO's; else the index).
     * `workbench check` reports ids given twice. */
    int64_t image_id;
    void *priv;              /* for the dataset's own bookkeeping */
} wb_sample;

typedef struct wb_dataset_vtable {
    uint32_t struct_size;
    /* Reads the index (annotation files, file lists); params is the split's
     * dataset section. Report problems with wb_error(ctx, WB_ERR_IO, ...). */
    wb_status (*open)(wb_ctx *ctx, const wb_params *params, void **dataset);
    int64_t (*length)(void *dataset); /* 0 is allowed; training refuses it */
    /* Fills *sample (zeroed by the core) for 0 <= index < length. The core
     * calls get() from several threads at once, without a lock: one per
     * data.workers loader thread, and the evaluation / check / infer threads,
     * whatever the caps say. So get() and release_sample() must not change
     * shared state without their own synchronisation; read-only tables built
     * in open() are safe as they are. Each get() is followed by
     * release_sample() on the same thread before that thread's next get(). */
    wb_status (*get)(void *dataset, wb_ctx *ctx, int64_t index, wb_sample *sample);
    void (*release_sample)(void *dataset, wb_sample *sample);
    int (*num_classes)(void *dataset);
    /* The class's display name; the string lives as long as the dataset. */
    const char *(*class_name)(void *dataset, int label);
    /* The dataset's own id for a label, written into results files (COCO: the category id);
     * a format without ids returns label + 1 (1..K, COCO's convention, as the in-tree voc/yolo). */
    int64_t (*category_id)(void *dataset, int label);
    void (*close)(void *dataset);
} wb_dataset_vtable;

#ifdef __cplusplus
}
#endif
#endif
