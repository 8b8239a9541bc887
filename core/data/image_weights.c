#include "image_weights.h"

#include <stdlib.h>

int64_t wb_image_weights(const int *labels, const int64_t *first, int64_t n_images, int num_classes,
                         double *weights) {
    double *class_w = calloc((size_t)(num_classes > 0 ? num_classes : 1), sizeof *class_w);
    if (!class_w) return -1;
    for (int64_t k = 0; k < first[n_images]; k++) class_w[labels[k]] += 1;
    double total = 0;
    for (int c = 0; c < num_classes; c++) total += class_w[c] = 1.0 / (class_w[c] > 0 ? class_w[c] : 1);
    int64_t unweighted = 0;
    for (int64_t i = 0; i < n_images; i++) {
        double w = 0;
        for (int64_t k = first[i]; k < first[i + 1]; k++) w += class_w[labels[k]] / total;
        weights[i] = w;
        unweighted += w == 0;
    }
    free(class_w);
    return unweighted == n_images ? -1 : unweighted;
}
