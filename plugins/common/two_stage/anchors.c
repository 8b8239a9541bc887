/* Anchors of every level, cached across iterations (sizes rarely change). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "two_stage.h"

wb_status ts_anchors_init(wb_ctx *ctx, ts_anchors *a, const int *strides, int n_levels, const float *scales,
                          int n_scales, const float *ratios, int n_ratios, int rounded) {
    if (n_levels < 1 || n_levels > TS_MAX_LEVELS || n_scales * n_ratios < 1 ||
        n_scales * n_ratios > TS_MAX_ANCHORS_PER_CELL)
        return wb_error(ctx, WB_ERR_INVALID, "anchors: %d levels (1..%d) and %d scales x %d ratios per cell (1..%d)",
                        n_levels, TS_MAX_LEVELS, n_scales, n_ratios, TS_MAX_ANCHORS_PER_CELL);
    memset(a, 0, sizeof *a);
    a->n_levels = n_levels;
    a->n_base = n_scales * n_ratios;
    a->rounded = rounded;
    for (int l = 0; l < n_levels; l++) {
        a->strides[l] = strides[l];
        /* rounded: torchvision multiplies pixel sizes on a base of 1 */
        float px[TS_MAX_ANCHORS_PER_CELL];
        for (int s = 0; s < n_scales; s++) px[s] = scales[s] * (float)strides[l];
        WB_H(ctx)->base_anchors(rounded ? 1.0f : (float)strides[l], rounded ? px : scales, n_scales, ratios, n_ratios,
                                0.0f, a->base[l]);
        if (rounded)
            for (int k = 0; k < 4 * a->n_base; k++) a->base[l][k] = nearbyintf(a->base[l][k]);
    }
    return WB_OK;
}

static void grid(const float *base, int n_base, int fh, int fw, int sy, int sx, float *out) {
    for (int y = 0; y < fh; y++)
        for (int x = 0; x < fw; x++) {
            float *row = out + 4 * (size_t)n_base * ((size_t)y * (size_t)fw + (size_t)x);
            for (int k = 0; k < n_base; k++) {
                row[4 * k + 0] = base[4 * k + 0] + (float)(x * sx);
                row[4 * k + 1] = base[4 * k + 1] + (float)(y * sy);
                row[4 * k + 2] = base[4 * k + 2] + (float)(x * sx);
                row[4 * k + 3] = base[4 * k + 3] + (float)(y * sy);
            }
        }
}

const float *ts_anchors_grid(ts_anchors *a, const int (*hw)[2], int pad_h, int pad_w) {
    if (!a->rounded) pad_h = pad_w = 0; /* mmdetection's nominal strides do not depend on it */
    if (a->all && memcmp(a->cached_hw, hw, (size_t)a->n_levels * sizeof hw[0]) == 0 && a->cached_pad[0] == pad_h &&
        a->cached_pad[1] == pad_w)
        return a->all;
    int64_t total = 0;
    for (int l = 0; l < a->n_levels; l++) {
        a->level_start[l] = total;
        total += (int64_t)hw[l][0] * hw[l][1] * a->n_base;
    }
    a->level_start[a->n_levels] = total;
    if (total > a->cap) {
        float *grown = realloc(a->all, (size_t)total * 4 * sizeof(float));
        if (!grown) return NULL;
        a->all = grown;
        a->cap = total;
    }
    for (int l = 0; l < a->n_levels; l++) {
        /* torchvision: the shift between cells is padded input // feature size per axis */
        int sy = pad_h > 0 ? pad_h / hw[l][0] : a->strides[l], sx = pad_w > 0 ? pad_w / hw[l][1] : a->strides[l];
        grid(a->base[l], a->n_base, hw[l][0], hw[l][1], sy, sx, a->all + 4 * a->level_start[l]);
    }
    memcpy(a->cached_hw, hw, (size_t)a->n_levels * sizeof hw[0]);
    a->cached_pad[0] = pad_h;
    a->cached_pad[1] = pad_w;
    a->n = total;
    return a->all;
}

void ts_anchors_free(ts_anchors *a) {
    free(a->all);
    a->all = NULL;
    a->n = a->cap = 0;
}
