/* Every box of a split's dataset as its annotation says (no transforms), read
 * through the dataset plugin: what labels.jpg (YOLOv5's plot_labels) and
 * `workbench dataset-stats` are drawn from. */
#ifndef WB_APP_LABEL_BOXES_H
#define WB_APP_LABEL_BOXES_H

#include <stdint.h>
#include "../plots/labels_plot.h"
#include "data_split.h"

typedef struct wb_label_set {
    wb_label_box *boxes;       /* n, fractions of their image's size (crowd / difficult included) */
    float *width_px, *height_px; /* n, each box's size in pixels */
    uint8_t *ignore;           /* n, crowd / difficult flags */
    size_t n, cap;
    int64_t images;            /* samples read */
    int64_t empty_images;      /* of them without any box */
    int64_t unreadable;        /* samples get() refused (the loader reports them) */
    int64_t unsized;           /* images with boxes whose size is unknown (neither the dataset nor the header) */
} wb_label_set;

/* Reads every sample of the open split. WB_ERR_NOMEM is the only failure. */
wb_status wb_label_set_collect(const wb_data_split *d, wb_session *s, wb_label_set *out);
void wb_label_set_free(wb_label_set *set);

#endif
