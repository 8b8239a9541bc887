/* The box sizes of a training dataset, as autoanchor sees them: read through
 * the dataset plugin (any format), per image its size and the (w, h) of every
 * box it trains on. Ignored boxes (crowd, difficult) are left out, as
 * YOLOv5's label conversions leave them out, and so are boxes without area,
 * which training drops. */
#ifndef WB_CORE_ANCHORS_BOX_SIZES_H
#define WB_CORE_ANCHORS_BOX_SIZES_H

#include <stdint.h>
#include <workbench/dataset.h>
#include "../runtime/context.h"

typedef struct wb_box_image {
    int width, height;   /* the original image's, after EXIF orientation */
    int64_t first, count; /* its boxes in wb_box_sizes.wh */
    char *path;          /* the image file, or NULL when the plugin gave bytes or pixels */
} wb_box_image;

typedef struct wb_box_sizes {
    float *wh;           /* 2 * n: box width and height in original pixels */
    int64_t n;
    wb_box_image *images;
    int64_t n_images;
} wb_box_sizes;

/* Every sample's boxes (get() on each index; an image's size from the sample,
 * else from its file's header). WB_OK, or a status with a message naming the
 * sample in err. */
wb_status wb_box_sizes_read(const wb_dataset_vtable *vt, void *ds, wb_context *c, wb_box_sizes *out, char *err,
                            size_t err_size);

/* YOLOv5's sizes for training at img_size: each image's boxes times
 * img_size / (its longer side) times its scale (scales: one per image, NULL
 * for 1), into out (2 * n floats). */
void wb_box_sizes_scaled(const wb_box_sizes *b, int img_size, const double *scales, float *out);

void wb_box_sizes_free(wb_box_sizes *b);

#endif
