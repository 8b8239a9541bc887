/* centernet_head: training targets, as CenterNet's ctdet dataset builds them
 * (gaussian_radius, draw_umich_gaussian), on the head's feature map. */
#include <math.h>
#include <string.h>
#include "centernet_head.h"

/* CenterNet's gaussian_radius (utils/image.py): the smallest of the three
 * radii at which a shifted box keeps IoU >= min_overlap with the truth. */
static float gaussian_radius(float h, float w, float min_overlap) {
    float b1 = h + w, c1 = w * h * (1 - min_overlap) / (1 + min_overlap);
    float r1 = (b1 + sqrtf(b1 * b1 - 4 * c1)) / 2;
    float b2 = 2 * (h + w), c2 = (1 - min_overlap) * w * h;
    float r2 = (b2 + sqrtf(b2 * b2 - 16 * c2)) / 2;
    float a3 = 4 * min_overlap, b3 = -2 * min_overlap * (h + w), c3 = (min_overlap - 1) * w * h;
    float r3 = (b3 + sqrtf(b3 * b3 - 4 * a3 * c3)) / 2;
    return fminf(r1, fminf(r2, r3));
}

/* draw_umich_gaussian: max-merge exp(-(dx^2 + dy^2) / (2 sigma^2)), sigma = diameter / 6. */
static void draw_gaussian(float *plane, int fh, int fw, int cx, int cy, int radius) {
    float sigma = (2 * radius + 1) / 6.0f;
    for (int y = cy - radius; y <= cy + radius; y++) {
        if (y < 0 || y >= fh) continue;
        for (int x = cx - radius; x <= cx + radius; x++) {
            if (x < 0 || x >= fw) continue;
            float dx = (float)(x - cx), dy = (float)(y - cy);
            float g = expf(-(dx * dx + dy * dy) / (2 * sigma * sigma));
            float *v = &plane[(size_t)y * fw + x];
            if (g > *v) *v = g;
        }
    }
}

void cn_build_targets(const centernet_head *h, const wb_batch_truth *truth, int fh, int fw, cn_targets *t) {
    size_t plane = (size_t)fh * fw;
    t->num_objects = 0;
    for (int n = 0; n < truth->batch; n++) {
        const wb_gt_image *img = &truth->images[n];
        for (int i = 0; i < img->num_boxes; i++) {
            if (img->ignore[i]) continue;
            const float *b = &img->boxes[4 * i];
            float w = (b[2] - b[0]) / h->stride, hh = (b[3] - b[1]) / h->stride;
            if (w <= 0 || hh <= 0) continue;
            float cxf = (b[0] + b[2]) / 2 / h->stride, cyf = (b[1] + b[3]) / 2 / h->stride;
            int cx = (int)floorf(cxf), cy = (int)floorf(cyf);
            if (cx < 0 || cy < 0 || cx >= fw || cy >= fh) continue;
            int radius = (int)gaussian_radius(ceilf(hh), ceilf(w), h->min_overlap);
            if (radius < 0) radius = 0;
            draw_gaussian(t->heatmap + ((size_t)n * h->num_classes + img->labels[i]) * plane, fh, fw, cx, cy, radius);
            size_t cell = (size_t)cy * fw + cx;
            if (h->ltrb) {
                size_t row = (size_t)n * plane + cell;
                memcpy(&t->box_target[4 * row], b, 4 * sizeof(float));
                t->box_weight[row] = 1.0f;
            } else {
                float *bt = t->box_target + (size_t)n * 2 * plane, *bw = t->box_weight + (size_t)n * 2 * plane;
                float *ot = t->offset_target + (size_t)n * 2 * plane, *ow = t->offset_weight + (size_t)n * 2 * plane;
                bt[cell] = w, bt[plane + cell] = hh;
                bw[cell] = bw[plane + cell] = 1.0f;
                ot[cell] = cxf - cx, ot[plane + cell] = cyf - cy;
                ow[cell] = ow[plane + cell] = 1.0f;
            }
            t->num_objects++;
        }
    }
}
