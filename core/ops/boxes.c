/* Host box utilities (no gradient): pairwise IoU and the delta-xywh box
 * coder of mmdetection's DeltaXYWHBBoxCoder. Boxes are x1, y1, x2, y2. */
#include <math.h>
#include "ops.h"

/* torchvision.ops.box_iou, except that a pair with no union area (two empty
 * boxes) has IoU 0 instead of NaN, so assigners never see NaN. */
void wb_box_iou(const float *a, int na, const float *b, int nb, float *out) {
    for (int i = 0; i < na; i++) {
        const float *p = a + 4 * i;
        float area_p = (p[2] - p[0]) * (p[3] - p[1]);
        for (int j = 0; j < nb; j++) {
            const float *q = b + 4 * j;
            float area_q = (q[2] - q[0]) * (q[3] - q[1]);
            float iw = fmaxf(fminf(p[2], q[2]) - fmaxf(p[0], q[0]), 0.0f);
            float ih = fmaxf(fminf(p[3], q[3]) - fmaxf(p[1], q[1]), 0.0f);
            float inter = iw * ih;
            float uni = area_p + area_q - inter;
            out[(size_t)i * (size_t)nb + (size_t)j] = uni > 0.0f ? inter / uni : 0.0f;
        }
    }
}

/* mmdet bbox2delta: center offsets in units of the anchor size and log size
 * ratios, then normalized by (d - means) / stds. */
void wb_box_encode(const float *anchors, const float *gt, int n, const float means[4],
                   const float stds[4], float *deltas) {
    for (int i = 0; i < n; i++) {
        const float *p = anchors + 4 * i, *g = gt + 4 * i;
        float pw = p[2] - p[0], ph = p[3] - p[1];
        float px = 0.5f * (p[0] + p[2]), py = 0.5f * (p[1] + p[3]);
        float gw = g[2] - g[0], gh = g[3] - g[1];
        float gx = 0.5f * (g[0] + g[2]), gy = 0.5f * (g[1] + g[3]);
        float d[4] = {(gx - px) / pw, (gy - py) / ph, logf(gw / pw), logf(gh / ph)};
        for (int k = 0; k < 4; k++) deltas[4 * i + k] = (d[k] - means[k]) / stds[k];
    }
}

static float clampf(float v, float lo, float hi) { return fminf(fmaxf(v, lo), hi); }

/* mmdet delta2bbox: de-normalize, clamp the log size ratios to +-max_ratio
 * (so exp cannot overflow on a wild prediction), apply to the anchor, and
 * clip to the image when its size is given. */
void wb_box_decode(const float *anchors, const float *deltas, int n, const float means[4],
                   const float stds[4], float max_ratio, int clip_h, int clip_w, float *boxes) {
    float bound = max_ratio > 0.0f ? max_ratio : fabsf(logf(16.0f / 1000.0f));
    for (int i = 0; i < n; i++) {
        const float *p = anchors + 4 * i;
        float d[4];
        for (int k = 0; k < 4; k++) d[k] = deltas[4 * i + k] * stds[k] + means[k];
        float pw = p[2] - p[0], ph = p[3] - p[1];
        float px = 0.5f * (p[0] + p[2]), py = 0.5f * (p[1] + p[3]);
        float gx = px + pw * d[0], gy = py + ph * d[1];
        float gw = pw * expf(clampf(d[2], -bound, bound)), gh = ph * expf(clampf(d[3], -bound, bound));
        float *out = boxes + 4 * i;
        out[0] = gx - 0.5f * gw;
        out[1] = gy - 0.5f * gh;
        out[2] = gx + 0.5f * gw;
        out[3] = gy + 0.5f * gh;
        if (clip_h > 0 && clip_w > 0) {
            out[0] = clampf(out[0], 0.0f, (float)clip_w);
            out[2] = clampf(out[2], 0.0f, (float)clip_w);
            out[1] = clampf(out[1], 0.0f, (float)clip_h);
            out[3] = clampf(out[3], 0.0f, (float)clip_h);
        }
    }
}
