#include "synthetic_draw.h"

#include <math.h>
#include <stddef.h>

uint64_t rng_next(rng64 *r) { /* splitmix64 */
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float rng_unit(rng64 *r) { return (float)(rng_next(r) >> 40) / (float)(1 << 24); }

void draw_background(uint8_t *rgb, int size, rng64 *r) {
    float base[3], slope[3];
    for (int c = 0; c < 3; c++) base[c] = 60 + 80 * rng_unit(r), slope[c] = 40 * (rng_unit(r) - 0.5f);
    float freq = 2 + 6 * rng_unit(r);
    for (int y = 0; y < size; y++) {
        for (int x = 0; x < size; x++) {
            float u = (float)x / size, v = (float)y / size;
            float wave = 12 * sinf(freq * u * 6.2831853f) * cosf(freq * v * 6.2831853f);
            float noise = 16 * (rng_unit(r) - 0.5f);
            for (int c = 0; c < 3; c++) {
                float val = base[c] + slope[c] * (u + v) + wave + noise;
                rgb[((size_t)y * size + x) * 3 + c] = (uint8_t)(val < 0 ? 0 : val > 255 ? 255 : val);
            }
        }
    }
}

/* Distinct saturated colours per kind, far from the muted background. */
static const uint8_t colours[SHAPE_KINDS][3] = {{230, 40, 40}, {40, 220, 60}, {50, 80, 240}};

static int inside(int kind, float px, float py, float x, float y, float w, float h) {
    float u = (px - x) / w, v = (py - y) / h; /* 0..1 inside the shape's box */
    switch (kind) {
    case SHAPE_RECTANGLE: return u >= 0 && u < 1 && v >= 0 && v < 1;
    case SHAPE_ELLIPSE: return (u - 0.5f) * (u - 0.5f) + (v - 0.5f) * (v - 0.5f) <= 0.25f;
    default: return v >= 0 && v < 1 && fabsf(u - 0.5f) <= 0.5f * v; /* apex at the top */
    }
}

int draw_shape(uint8_t *rgb, int size, int kind, float x, float y, float w, float h, rng64 *r, float box[4]) {
    int shade = (int)(30 * rng_unit(r)) - 15;
    int x1 = size, y1 = size, x2 = -1, y2 = -1;
    for (int py = (int)y; py < (int)ceilf(y + h) && py < size; py++) {
        for (int px = (int)x; px < (int)ceilf(x + w) && px < size; px++) {
            if (py < 0 || px < 0 || !inside(kind, px + 0.5f, py + 0.5f, x, y, w, h)) continue;
            uint8_t *p = rgb + ((size_t)py * size + px) * 3;
            for (int c = 0; c < 3; c++) {
                int v = colours[kind][c] + shade;
                p[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
            if (px < x1) x1 = px;
            if (py < y1) y1 = py;
            if (px > x2) x2 = px;
            if (py > y2) y2 = py;
        }
    }
    if (x2 < 0) return 0;
    box[0] = (float)x1, box[1] = (float)y1, box[2] = (float)(x2 + 1), box[3] = (float)(y2 + 1);
    return 1;
}
