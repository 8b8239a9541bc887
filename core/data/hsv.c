#include "hsv.h"

/* Pixels go through in chunks, split into planes so that the per-pixel
 * maths (selects instead of branches) vectorizes. */
#define CHUNK 256

static float minf(float a, float b) { return a < b ? a : b; }
static float maxf(float a, float b) { return a > b ? a : b; }

/* HSV -> RGB channel: v - v s clamp(min(k, 4 - k), 0, 1), k = (n + hue
 * sextant) mod 6, with n = 5, 3, 1 for red, green, blue. */
static float channel(float n, float sextant, float v, float vs) {
    float k = n + sextant;
    k = k >= 6.0f ? k - 6.0f : k;
    return v - vs * maxf(minf(minf(k, 4.0f - k), 1.0f), 0.0f);
}

static void scale_planes(float *restrict r, float *restrict g, float *restrict b, int n, const wb_hsv_gains *gains) {
    const float hue_gain = gains->hue_gain, shift = gains->hue_shift / 60.0f;
    const float sat_gain = gains->sat_gain, val_gain = gains->val_gain;
    for (int i = 0; i < n; i++) {
        float R = r[i], G = g[i], B = b[i];
        float mx = maxf(R, maxf(G, B)), mn = minf(R, minf(G, B)), d = mx - mn;
        float inv_d = d > 0.0f ? 1.0f / d : 0.0f;
        /* hue in sextants (60-degree units), [0, 6) */
        float h = mx == R ? (G - B) * inv_d : (mx == G ? 2.0f + (B - R) * inv_d : 4.0f + (R - G) * inv_d);
        h = h < 0.0f ? h + 6.0f : h;
        float s = mx > 0.0f ? d / mx : 0.0f;
        /* the gains keep h within (-6, 18): two steps either way wrap it */
        h = h * hue_gain + shift;
        h = h >= 6.0f ? h - 6.0f : h;
        h = h >= 6.0f ? h - 6.0f : h;
        h = h < 0.0f ? h + 6.0f : h;
        h = h < 0.0f ? h + 6.0f : h;
        s = maxf(minf(s * sat_gain, 1.0f), 0.0f);
        float v = maxf(minf(mx * val_gain, 255.0f), 0.0f), vs = v * s;
        r[i] = channel(5.0f, h, v, vs);
        g[i] = channel(3.0f, h, v, vs);
        b[i] = channel(1.0f, h, v, vs);
    }
}

void wb_hsv_scale_f32(float *rgb, size_t pixels, const wb_hsv_gains *gains) {
    float r[CHUNK], g[CHUNK], b[CHUNK];
    for (size_t at = 0; at < pixels; at += CHUNK) {
        int n = pixels - at < CHUNK ? (int)(pixels - at) : CHUNK;
        float *px = rgb + 3 * at;
        for (int i = 0; i < n; i++) r[i] = px[3 * i], g[i] = px[3 * i + 1], b[i] = px[3 * i + 2];
        scale_planes(r, g, b, n, gains);
        for (int i = 0; i < n; i++) px[3 * i] = r[i], px[3 * i + 1] = g[i], px[3 * i + 2] = b[i];
    }
}

/* Results are in [0, 255] (v <= 255, vs <= v), so + 0.5 and truncation round. */
static uint8_t to_byte(float v) { return (uint8_t)(int)(v + 0.5f); }

void wb_hsv_scale_u8(uint8_t *rgb, size_t pixels, const wb_hsv_gains *gains) {
    float r[CHUNK], g[CHUNK], b[CHUNK];
    for (size_t at = 0; at < pixels; at += CHUNK) {
        int n = pixels - at < CHUNK ? (int)(pixels - at) : CHUNK;
        uint8_t *px = rgb + 3 * at;
        for (int i = 0; i < n; i++) r[i] = px[3 * i], g[i] = px[3 * i + 1], b[i] = px[3 * i + 2];
        scale_planes(r, g, b, n, gains);
        for (int i = 0; i < n; i++)
            px[3 * i] = to_byte(r[i]), px[3 * i + 1] = to_byte(g[i]), px[3 * i + 2] = to_byte(b[i]);
    }
}
