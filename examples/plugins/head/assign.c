/* Training targets. A location is positive for a box when it lies inside the
 * box, within center_radius strides of its center (FCOS center sampling),
 * and the box's largest distance from it falls in the level's range
 * [4 * stride, 8 * stride) (the first level starts at 0, the last has no
 * end), so each box is learnt at one scale. Several candidates: the smallest
 * box wins. Locations inside an ignore box that are not positive are left
 * out of the classification loss. */
#include <math.h>
#include "tp_fcos_lite.h"

static int inside(const float *b, float x, float y) { return x > b[0] && x < b[2] && y > b[1] && y < b[3]; }

static int candidate(const fcos_head *h, int level, const float *b, float x, float y) {
    float s = (float)h->strides[level], r = h->center_radius * s;
    float far = fmaxf(fmaxf(x - b[0], y - b[1]), fmaxf(b[2] - x, b[3] - y));
    float lo = level == 0 ? 0.0f : 4.0f * s, hi = level == h->n_levels - 1 ? INFINITY : 8.0f * s;
    return inside(b, x, y) && fabsf(x - 0.5f * (b[0] + b[2])) <= r && fabsf(y - 0.5f * (b[1] + b[3])) <= r &&
           far >= lo && far < hi;
}

/* The positive box of a location, or -1; *ignored when an ignore box covers it. */
static int best_box(const fcos_head *h, int level, const wb_gt_image *g, float x, float y, int *ignored) {
    int best = -1;
    float best_area = INFINITY;
    *ignored = 0;
    for (int b = 0; b < g->num_boxes; b++) {
        const float *box = g->boxes + 4 * b;
        if (g->ignore[b]) {
            *ignored |= inside(box, x, y);
            continue;
        }
        float area = (box[2] - box[0]) * (box[3] - box[1]);
        if (g->labels[b] >= 0 && g->labels[b] < h->num_classes && area < best_area &&
            candidate(h, level, box, x, y))
            best = b, best_area = area;
    }
    return best;
}

int fcos_assign(const fcos_head *h, const wb_batch_truth *truth, const fcos_level *levels, fcos_targets *t) {
    const int K = h->num_classes;
    int num_pos = 0;
    size_t row = 0;
    for (int l = 0; l < h->n_levels; l++) {
        float s = (float)h->strides[l];
        for (int n = 0; n < truth->batch; n++) {
            const wb_gt_image *g = &truth->images[n];
            for (int y = 0; y < levels[l].h; y++)
                for (int x = 0; x < levels[l].w; x++, row++) {
                    float px = ((float)x + 0.5f) * s, py = ((float)y + 0.5f) * s;
                    int ignored, b = best_box(h, l, g, px, py, &ignored);
                    for (int k = 0; k < K; k++) t->cls_w[row * K + k] = ignored && b < 0 ? 0.0f : 1.0f;
                    if (b < 0) continue;
                    const float *box = g->boxes + 4 * b;
                    float d[4] = {px - box[0], py - box[1], box[2] - px, box[3] - py};
                    t->cls[row * K + g->labels[b]] = 1.0f;
                    for (int k = 0; k < 4; k++) t->reg[row * 4 + k] = d[k] / s, t->reg_w[row * 4 + k] = 1.0f;
                    num_pos++;
                }
        }
    }
    /* The weights carry 1 / num_pos, so summing losses come out normalised. */
    float inv = 1.0f / (float)(num_pos > 0 ? num_pos : 1);
    for (size_t i = 0; i < row * (size_t)K; i++) t->cls_w[i] *= inv;
    for (size_t i = 0; i < row * 4; i++) t->reg_w[i] *= inv;
    return num_pos;
}
