/* All anchors of a batch's feature sizes, cached across iterations: sizes
 * rarely change, and the cache keeps training free of per-step allocation. */
#include <stdlib.h>
#include <string.h>
#include "retina_head.h"

const float *retina_anchors(retina_head *h, const wb_host_api *host, const int (*hw)[2]) {
    if (h->anchors && memcmp(h->cached_hw, hw, (size_t)h->n_levels * sizeof hw[0]) == 0) return h->anchors;
    int64_t total = 0;
    for (int l = 0; l < h->n_levels; l++) {
        h->level_start[l] = total;
        total += (int64_t)hw[l][0] * hw[l][1] * h->n_base;
    }
    h->level_start[h->n_levels] = total;
    if (total > h->anchors_cap) {
        float *grown = realloc(h->anchors, (size_t)total * 4 * sizeof(float));
        if (!grown) return NULL;
        h->anchors = grown;
        h->anchors_cap = total;
    }
    for (int l = 0; l < h->n_levels; l++)
        host->grid_anchors(h->base[l], h->n_base, hw[l][0], hw[l][1], h->strides[l],
                           h->anchors + 4 * h->level_start[l]);
    memcpy(h->cached_hw, hw, (size_t)h->n_levels * sizeof hw[0]);
    h->n_anchors = total;
    return h->anchors;
}
