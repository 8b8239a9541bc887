/* Anchor generation with mmdetection AnchorGenerator semantics. */
#include <math.h>
#include "ops.h"
#include "../backends/boxes_math.h"

/* gen_single_level_base_anchors with scale_major=True: for each ratio r
 * (h/w), for each scale s: w = base * s / sqrt(r), h = base * s * sqrt(r),
 * centered at (offset * base, offset * base). */
void wb_base_anchors(float base_size, const float *scales, int n_scales, const float *ratios,
                     int n_ratios, float center_offset, float *out) {
    float center = center_offset * base_size;
    for (int r = 0; r < n_ratios; r++) {
        float h_ratio = sqrtf(ratios[r]);
        float w_ratio = 1.0f / h_ratio;
        for (int s = 0; s < n_scales; s++) {
            float w = base_size * w_ratio * scales[s], h = base_size * h_ratio * scales[s];
            float *a = out + 4 * (r * n_scales + s);
            a[0] = center - 0.5f * w;
            a[1] = center - 0.5f * h;
            a[2] = center + 0.5f * w;
            a[3] = center + 0.5f * h;
        }
    }
}

/* single_level_grid_priors: every base anchor shifted to (x, y) * stride
 * (boxes_math.h, as the device kernels). */
void wb_grid_anchors(const float *base, int n_base, int feat_h, int feat_w, int stride, float *out) {
    for (int y = 0; y < feat_h; y++) {
        for (int x = 0; x < feat_w; x++) {
            float *row = out + 4 * (size_t)n_base * ((size_t)y * (size_t)feat_w + (size_t)x);
            for (int a = 0; a < n_base; a++) wb_grid_anchor(base + 4 * a, x, y, stride, row + 4 * a);
        }
    }
}
