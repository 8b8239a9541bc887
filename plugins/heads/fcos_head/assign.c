/* FCOS training targets: each point regresses the smallest box that contains
 * it, lies within center_sample_radius strides of the box center (center
 * sampling) and whose largest edge distance falls in the point's level range.
 * torchvision's FCOS.compute_loss and mmdetection's FCOSHead._get_target_single
 * agree on this up to the bounds (exclusive / inclusive) and the tie-break. */
#include <math.h>
#include "fcos_head.h"

float fcos_centerness_target(float x, float y, const float *b) {
    float l = x - b[0], t = y - b[1], r = b[2] - x, bo = b[3] - y;
    return sqrtf((fminf(l, r) / fmaxf(l, r)) * (fminf(t, bo) / fmaxf(t, bo)));
}

/* Does point (x, y) of a level with these bounds and radius take box b? */
static int takes(const fcos_head *h, float x, float y, const float *b, float lo, float hi, float radius) {
    float d[4] = {x - b[0], y - b[1], b[2] - x, b[3] - y};
    float dmin = fminf(fminf(d[0], d[1]), fminf(d[2], d[3])), dmax = fmaxf(fmaxf(d[0], d[1]), fmaxf(d[2], d[3]));
    if (!(dmin > 0.0f)) return 0;
    if (radius > 0.0f) {
        float cx = (b[0] + b[2]) / 2.0f, cy = (b[1] + b[3]) / 2.0f;
        if (!(fmaxf(fabsf(x - cx), fabsf(y - cy)) < radius)) return 0;
    }
    return h->torchvision_assigner ? dmax > lo && dmax < hi : dmax >= lo && dmax <= hi;
}

void fcos_assign(const fcos_head *h, const float *points, const wb_gt_image *gt, int *matched) {
    for (int l = 0; l < h->n_levels; l++) {
        const float lo = h->regress_ranges[l], hi = h->regress_ranges[l + 1];
        const float radius = h->center_radius * (float)h->strides[l];
        for (int64_t r = h->level_start[l]; r < h->level_start[l + 1]; r++) {
            const float x = points[2 * r], y = points[2 * r + 1];
            int best = -1;
            float best_key = 0.0f;
            for (int g = 0; g < gt->num_boxes; g++) {
                const float *b = gt->boxes + 4 * g;
                if (gt->ignore[g] || !takes(h, x, y, b, lo, hi, radius)) continue;
                float area = (b[2] - b[0]) * (b[3] - b[1]);
                /* torchvision ranks by float32 1e8 - area (close areas tie: the first box wins) */
                float key = h->torchvision_assigner ? 1e8f - area : -area;
                if (best < 0 || key > best_key) best = g, best_key = key;
            }
            matched[r] = best;
        }
    }
}
