#include "canvas.h"

#include <math.h>
#include <stddef.h>

static int clampi(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }

wb_rgb wb_class_color(int k) {
    /* Golden-ratio hue steps keep neighbouring classes far apart; full
     * saturation, high value so boxes read on photos. */
    double h = fmod(0.08 + 0.618033988749895 * k, 1.0) * 6.0, s = 0.85, v = 0.95;
    int i = (int)h;
    double f = h - i, p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
    double r, g, b;
    switch (i) {
    case 0: r = v, g = t, b = p; break;
    case 1: r = q, g = v, b = p; break;
    case 2: r = p, g = v, b = t; break;
    case 3: r = p, g = q, b = v; break;
    case 4: r = t, g = p, b = v; break;
    default: r = v, g = p, b = q; break;
    }
    return (wb_rgb){(uint8_t)(r * 255), (uint8_t)(g * 255), (uint8_t)(b * 255)};
}

void wb_fill_rect(wb_canvas *c, int x1, int y1, int x2, int y2, wb_rgb color) {
    x1 = clampi(x1, 0, c->width), x2 = clampi(x2, 0, c->width);
    y1 = clampi(y1, 0, c->height), y2 = clampi(y2, 0, c->height);
    for (int y = y1; y < y2; y++) {
        uint8_t *row = c->rgb + ((size_t)y * c->width) * 3;
        for (int x = x1; x < x2; x++) {
            row[3 * x] = color.r;
            row[3 * x + 1] = color.g;
            row[3 * x + 2] = color.b;
        }
    }
}

void wb_draw_rect(wb_canvas *c, float fx1, float fy1, float fx2, float fy2, int t, wb_rgb color) {
    int x1 = (int)lrintf(fx1), y1 = (int)lrintf(fy1), x2 = (int)lrintf(fx2), y2 = (int)lrintf(fy2);
    wb_fill_rect(c, x1, y1, x2 + 1, y1 + t, color);
    wb_fill_rect(c, x1, y2 - t + 1, x2 + 1, y2 + 1, color);
    wb_fill_rect(c, x1, y1, x1 + t, y2 + 1, color);
    wb_fill_rect(c, x2 - t + 1, y1, x2 + 1, y2 + 1, color);
}

void wb_blend_mask(wb_canvas *c, int x, int y, const uint8_t *alpha, int w, int h, int stride, wb_rgb color) {
    const uint8_t rgb[3] = {color.r, color.g, color.b};
    int r0 = clampi(-y, 0, h), r1 = clampi(c->height - y, 0, h);
    int c0 = clampi(-x, 0, w), c1 = clampi(c->width - x, 0, w);
    for (int r = r0; r < r1; r++) {
        const uint8_t *a = alpha + (size_t)r * stride;
        uint8_t *row = c->rgb + (size_t)(y + r) * c->width * 3;
        for (int col = c0; col < c1; col++) {
            uint8_t *px = row + (size_t)(x + col) * 3;
            for (int k = 0; k < 3; k++) px[k] = (uint8_t)((px[k] * (255 - a[col]) + rgb[k] * a[col] + 127) / 255);
        }
    }
}
