/* labels.jpg: YOLOv5's plot_labels for the training labels: instances per
 * class (bars), the boxes' outlines centred on one square (up to 1000,
 * coloured by class), and 2-D histograms of the box centres (x, y) and of
 * their sizes (width, height), all as fractions of the image size.
 * 1600 x 1600 pixels. */
#ifndef WB_CORE_PLOTS_LABELS_PLOT_H
#define WB_CORE_PLOTS_LABELS_PLOT_H

#include <stddef.h>
#include <workbench/types.h>

typedef struct wb_label_box {
    int label;
    float cx, cy, w, h; /* fractions of the image's width and height */
} wb_label_box;

wb_status wb_labels_plot(const wb_label_box *boxes, size_t n, int num_classes, const char *const *names,
                         const char *path, char *err, size_t err_size);

#endif
