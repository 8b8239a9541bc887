/* The delta box coder in the two conventions a checkpoint may come from. */
#include <math.h>
#include "two_stage.h"

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

void ts_decode(const wb_host_api *host, const float *p, const float *delta, const float means[4], const float stds[4],
               int torchvision, int img_h, int img_w, float *out) {
    if (!torchvision) {
        host->box_decode(p, delta, 1, means, stds, 0.0f, img_h, img_w, out);
        return;
    }
    const float bound = logf(1000.0f / 16.0f);
    float d[4];
    for (int j = 0; j < 4; j++) d[j] = delta[j] * stds[j] + means[j];
    float w = p[2] - p[0], h = p[3] - p[1];
    float cx = d[0] * w + (p[0] + 0.5f * w), cy = d[1] * h + (p[1] + 0.5f * h);
    float half_w = 0.5f * (expf(fminf(d[2], bound)) * w), half_h = 0.5f * (expf(fminf(d[3], bound)) * h);
    out[0] = clampf(cx - half_w, 0.0f, (float)img_w);
    out[1] = clampf(cy - half_h, 0.0f, (float)img_h);
    out[2] = clampf(cx + half_w, 0.0f, (float)img_w);
    out[3] = clampf(cy + half_h, 0.0f, (float)img_h);
}
