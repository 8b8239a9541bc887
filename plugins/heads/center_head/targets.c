#include <math.h>
#include "center_head.h"

/* A cell is positive for a box when its center lies inside the box and
 * within center_radius strides of the box center; the cell holding the box
 * center always is, so small boxes get one. Overlaps go to the smaller box. */
static int is_candidate(const center_head *h, const float *b, float cx, float cy, int cell_x, int cell_y) {
    float bcx = 0.5f * (b[0] + b[2]), bcy = 0.5f * (b[1] + b[3]);
    if ((int)floorf(bcx / (float)h->stride) == cell_x && (int)floorf(bcy / (float)h->stride) == cell_y) return 1;
    float r = h->center_radius * (float)h->stride;
    return cx > b[0] && cx < b[2] && cy > b[1] && cy < b[3] && fabsf(cx - bcx) <= r && fabsf(cy - bcy) <= r;
}

static int inside(const float *b, float cx, float cy) { return cx >= b[0] && cx <= b[2] && cy >= b[1] && cy <= b[3]; }

void center_build_targets(const center_head *h, const wb_batch_truth *truth, int fh, int fw, center_targets *t) {
    const int K = h->num_classes;
    const size_t plane = (size_t)fh * fw;
    t->num_pos = 0;
    for (int n = 0; n < truth->batch; n++) {
        const wb_gt_image *g = &truth->images[n];
        float *cls = t->cls + (size_t)n * K * plane, *cls_w = t->cls_weight + (size_t)n * K * plane;
        float *reg = t->reg + (size_t)n * 4 * plane, *reg_w = t->reg_weight + (size_t)n * 4 * plane;
        for (int y = 0; y < fh; y++) {
            for (int x = 0; x < fw; x++) {
                size_t cell = (size_t)y * fw + x;
                float cx = ((float)x + 0.5f) * (float)h->stride, cy = ((float)y + 0.5f) * (float)h->stride;
                int best = -1, ignored = 0;
                float best_area = INFINITY;
                for (int b = 0; b < g->num_boxes; b++) {
                    const float *box = g->boxes + 4 * b;
                    if (g->ignore && g->ignore[b]) {
                        ignored |= inside(box, cx, cy);
                        continue;
                    }
                    float area = (box[2] - box[0]) * (box[3] - box[1]);
                    if (area < best_area && is_candidate(h, box, cx, cy, x, y)) {
                        best = b;
                        best_area = area;
                    }
                }
                for (int k = 0; k < K; k++) cls_w[k * plane + cell] = (ignored && best < 0) ? 0.0f : 1.0f;
                if (best < 0 || g->labels[best] < 0 || g->labels[best] >= K) continue;
                const float *box = g->boxes + 4 * best;
                cls[(size_t)g->labels[best] * plane + cell] = 1.0f;
                float d[4] = {cx - box[0], cy - box[1], box[2] - cx, box[3] - cy};
                for (int k = 0; k < 4; k++) {
                    reg[k * plane + cell] = d[k] / (float)h->stride;
                    reg_w[k * plane + cell] = 1.0f;
                }
                t->num_pos++;
            }
        }
    }
}
