#include "clahe_plane.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "../common/albu.h"

/* OpenCV's tiles cover the image padded at the right and bottom (reflect 101)
 * to whole tiles whenever either side does not divide: then both sides get
 * (tiles - size % tiles) more, a full tile's worth on a side that divided. */
static uint8_t padded_at(const uint8_t *v, int h, int w, int stride, int y, int x) {
    return v[((size_t)albu_reflect101(y, h) * w + albu_reflect101(x, w)) * stride];
}

/* One tile's mapping: clipped histogram, excess spread evenly, then the
 * scaled cumulative sum. */
static void tile_lut(const uint8_t *v, int h, int w, int stride, int x0, int y0, int tw, int th, int clip,
                     uint8_t lut[256]) {
    int hist[256] = {0};
    for (int y = y0; y < y0 + th; y++)
        for (int x = x0; x < x0 + tw; x++) hist[padded_at(v, h, w, stride, y, x)]++;
    if (clip > 0) {
        int clipped = 0;
        for (int i = 0; i < 256; i++)
            if (hist[i] > clip) clipped += hist[i] - clip, hist[i] = clip;
        int batch = clipped / 256, residual = clipped - batch * 256;
        for (int i = 0; i < 256; i++) hist[i] += batch;
        int step = residual ? (256 / residual > 1 ? 256 / residual : 1) : 1;
        for (int i = 0; i < 256 && residual > 0; i += step, residual--) hist[i]++;
    }
    float scale = 255.0f / (float)(tw * th);
    int sum = 0;
    for (int i = 0; i < 256; i++) {
        sum += hist[i];
        long q = lrintf((float)sum * scale);
        lut[i] = (uint8_t)(q > 255 ? 255 : q);
    }
}

int clahe_plane(uint8_t *v, int h, int w, int stride, double clip_limit, int tiles_x, int tiles_y) {
    int ext_w = w, ext_h = h;
    if (w % tiles_x || h % tiles_y) ext_w = w + tiles_x - w % tiles_x, ext_h = h + tiles_y - h % tiles_y;
    int tw = ext_w / tiles_x, th = ext_h / tiles_y;
    int clip = 0;
    if (clip_limit > 0) {
        clip = (int)(clip_limit * tw * th / 256);
        if (clip < 1) clip = 1;
    }
    uint8_t *luts = malloc((size_t)tiles_x * tiles_y * 256);
    if (!luts) return -1;
    for (int ty = 0; ty < tiles_y; ty++)
        for (int tx = 0; tx < tiles_x; tx++)
            tile_lut(v, h, w, stride, tx * tw, ty * th, tw, th, clip, luts + ((size_t)ty * tiles_x + tx) * 256);
    float inv_tw = 1.0f / (float)tw, inv_th = 1.0f / (float)th;
    for (int y = 0; y < h; y++) {
        float tyf = (float)y * inv_th - 0.5f;
        int ty1 = (int)floorf(tyf), ty2 = ty1 + 1;
        float ya = tyf - (float)ty1, ya1 = 1.0f - ya;
        ty1 = ty1 < 0 ? 0 : ty1, ty2 = ty2 > tiles_y - 1 ? tiles_y - 1 : ty2;
        const uint8_t *row1 = luts + (size_t)ty1 * tiles_x * 256, *row2 = luts + (size_t)ty2 * tiles_x * 256;
        for (int x = 0; x < w; x++) {
            float txf = (float)x * inv_tw - 0.5f;
            int tx1 = (int)floorf(txf), tx2 = tx1 + 1;
            float xa = txf - (float)tx1, xa1 = 1.0f - xa;
            tx1 = tx1 < 0 ? 0 : tx1, tx2 = tx2 > tiles_x - 1 ? tiles_x - 1 : tx2;
            uint8_t *p = v + ((size_t)y * w + x) * stride;
            int i1 = tx1 * 256 + *p, i2 = tx2 * 256 + *p;
            float res = ((float)row1[i1] * xa1 + (float)row1[i2] * xa) * ya1 +
                        ((float)row2[i1] * xa1 + (float)row2[i2] * xa) * ya;
            long q = lrintf(res);
            *p = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);
        }
    }
    free(luts);
    return 0;
}
