/* FCOS points: one per feature-map cell, level by level, row-major. */
#include <stdlib.h>
#include <string.h>
#include "fcos_head.h"

int fcos_level_of(const fcos_head *h, int64_t r) {
    int l = 0;
    while (l + 1 < h->n_levels && r >= h->level_start[l + 1]) l++;
    return l;
}

float fcos_unit(const fcos_head *h, int l) { return h->norm_on_bbox ? (float)h->strides[l] : 1.0f; }

static int same_sizes(const fcos_head *h, const int (*hw)[2], int pad_h, int pad_w) {
    if (!h->points || h->cached_pad[0] != pad_h || h->cached_pad[1] != pad_w) return 0;
    for (int l = 0; l < h->n_levels; l++)
        if (h->cached_hw[l][0] != hw[l][0] || h->cached_hw[l][1] != hw[l][1]) return 0;
    return 1;
}

/* torchvision's AnchorGenerator steps by padded size // feature size per axis
 * (P7 of a 480-px side: 120, not 128); mmdetection by the nominal stride. */
static void level_steps(const fcos_head *h, int l, const int *hw, int pad_h, int pad_w, float *sy, float *sx) {
    *sy = *sx = (float)h->strides[l];
    if (!h->torchvision_assigner || pad_h <= 0 || pad_w <= 0) return;
    *sy = (float)(pad_h / hw[0]);
    *sx = (float)(pad_w / hw[1]);
}

const float *fcos_points(fcos_head *h, const int (*hw)[2], int pad_h, int pad_w) {
    if (same_sizes(h, hw, pad_h, pad_w)) return h->points;
    int64_t total = 0;
    for (int l = 0; l < h->n_levels; l++) total += (int64_t)hw[l][0] * hw[l][1];
    if (total > h->points_cap) {
        float *grown = realloc(h->points, (size_t)total * 2 * sizeof(float));
        if (!grown) return NULL;
        h->points = grown;
        h->points_cap = total;
    }
    int64_t row = 0;
    for (int l = 0; l < h->n_levels; l++) {
        float sy, sx;
        level_steps(h, l, hw[l], pad_h, pad_w, &sy, &sx);
        h->level_start[l] = row;
        for (int y = 0; y < hw[l][0]; y++)
            for (int x = 0; x < hw[l][1]; x++, row++) {
                h->points[2 * row] = ((float)x + h->center_offset) * sx;
                h->points[2 * row + 1] = ((float)y + h->center_offset) * sy;
            }
        h->cached_hw[l][0] = hw[l][0];
        h->cached_hw[l][1] = hw[l][1];
    }
    h->level_start[h->n_levels] = row;
    h->n_points = total;
    h->cached_pad[0] = pad_h;
    h->cached_pad[1] = pad_w;
    return h->points;
}
