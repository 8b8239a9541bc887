/* YOLOv5's image_weights: an image's weight is the sum over its labels of
 * its class's weight, class weights being 1 / the class's number of labels
 * in the split (labels_to_class_weights, labels_to_image_weights). YOLOv5
 * also scales them by (1 - the class's last mAP)^2; no per-class mAP flows
 * back into the loader here, so that factor is left out (it is 1 before the
 * first validation in YOLOv5 too). */
#ifndef WB_CORE_DATA_IMAGE_WEIGHTS_H
#define WB_CORE_DATA_IMAGE_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

/* labels: the labels of every image one after another, image i's being
 * labels[first[i] .. first[i + 1]) (first has n_images + 1 entries), each in
 * 0..num_classes-1. Writes n_images weights; returns how many images weigh
 * 0 (no labels: never drawn), or -1 when every image does. */
int64_t wb_image_weights(const int *labels, const int64_t *first, int64_t n_images, int num_classes,
                         double *weights);

#endif
