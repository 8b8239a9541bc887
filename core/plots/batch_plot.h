/* Pictures of a batch as YOLOv5's plot_images draws them: up to 16 images
 * in a square grid (at most 1920 pixels a side), each with its boxes and
 * class names (and confidences, for predictions above 0.25). Used for
 * train_batch0..2.jpg and val_batch0_labels.jpg / val_batch0_pred.jpg. */
#ifndef WB_CORE_PLOTS_BATCH_PLOT_H
#define WB_CORE_PLOTS_BATCH_PLOT_H

#include <stddef.h>
#include <stdint.h>
#include <workbench/module.h>
#include "batch_pixels.h"

#define WB_PLOT_BATCH_MAX 16

typedef struct wb_plot_batch {
    int n, w, h;                      /* images of w x h */
    uint8_t *rgb;                     /* n * h * w * 3 */
    int total, cap;                   /* boxes */
    float *boxes, *scores;            /* input pixels x1,y1,x2,y2; scores: 1 for ground truth */
    int *labels, *image;              /* class and image of each box */
    bool predictions;                 /* write scores and leave out those at or below 0.25 */
} wb_plot_batch;

/* The first WB_PLOT_BATCH_MAX images of a N x 3 x h x w batch as pictures. */
wb_status wb_plot_batch_init(wb_plot_batch *pb, const float *images, int n, int h, int w, const wb_denorm *d);
/* Boxes of image i (in its input pixels); scores NULL for ground truth. */
wb_status wb_plot_batch_add(wb_plot_batch *pb, int i, const float *boxes, const int *labels, const float *scores,
                            int n);
/* Ground truth of every image of a batch (ignored regions left out). */
wb_status wb_plot_batch_add_truth(wb_plot_batch *pb, const wb_batch_truth *t);
/* Draws the grid into path (.jpg). names: num_names class names (a label
 * beyond them is written as its number). */
wb_status wb_plot_batch_save(const wb_plot_batch *pb, const char *const *names, int num_names, const char *path,
                             char *err, size_t err_size);
void wb_plot_batch_free(wb_plot_batch *pb);

#endif
