/* All anchors of a batch's feature sizes, cached across iterations: sizes
 * rarely change, and the cache keeps training free of per-step allocation. */
#include <stdlib.h>
#include <string.h>
#include "retina_head.h"

/* The shift between neighbouring cells of level l along one axis.
 * torchvision's AnchorGenerator divides the padded batch input by the
 * feature size (a 480-px side gives P6 and P7 strides 60 and 120, not 64 and
 * 128); mmdetection uses the level's nominal stride. */
static int axis_stride(const retina_head *h, int l, int padded, int cells) {
    return h->torchvision && padded > 0 ? padded / cells : h->strides[l];
}

static void grid(const float *base, int n_base, int feat_h, int feat_w, int stride_y, int stride_x, float *out) {
    for (int y = 0; y < feat_h; y++) {
        for (int x = 0; x < feat_w; x++) {
            float sx = (float)(x * stride_x), sy = (float)(y * stride_y);
            float *row = out + 4 * (size_t)n_base * ((size_t)y * (size_t)feat_w + (size_t)x);
            for (int a = 0; a < n_base; a++) {
                row[4 * a + 0] = base[4 * a + 0] + sx;
                row[4 * a + 1] = base[4 * a + 1] + sy;
                row[4 * a + 2] = base[4 * a + 2] + sx;
                row[4 * a + 3] = base[4 * a + 3] + sy;
            }
        }
    }
}

const float *retina_anchors(retina_head *h, const int (*hw)[2], int pad_h, int pad_w) {
    if (!h->torchvision) pad_h = pad_w = 0; /* the nominal strides do not depend on it */
    if (h->anchors && memcmp(h->cached_hw, hw, (size_t)h->n_levels * sizeof hw[0]) == 0 &&
        h->cached_pad[0] == pad_h && h->cached_pad[1] == pad_w)
        return h->anchors;
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
        grid(h->base[l], h->n_base, hw[l][0], hw[l][1], axis_stride(h, l, pad_h, hw[l][0]),
             axis_stride(h, l, pad_w, hw[l][1]), h->anchors + 4 * h->level_start[l]);
    memcpy(h->cached_hw, hw, (size_t)h->n_levels * sizeof hw[0]);
    h->cached_pad[0] = pad_h;
    h->cached_pad[1] = pad_w;
    h->n_anchors = total;
    return h->anchors;
}
