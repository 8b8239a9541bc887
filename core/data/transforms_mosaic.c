/* mosaic (YOLOv5 load_mosaic): the sample and three others drawn from the
 * dataset meet at a random centre of a 2w x 2h canvas, one per quadrant.
 * Follow it with random_affine size = [w, h] to come back to w x h. */
#include <stdio.h>
#include <string.h>
#include "transforms_types.h"

typedef struct mosaic_config {
    int size[2]; /* w, h of one tile; the canvas is twice that */
    float pad_value, prob;
} mosaic_config;

static const wb_param_schema mosaic_schema[] = {
    WB_P_INT_LIST("size", "[640, 640]", 1, 65536,
                  "[width, height] of one tile; the output is twice as large"),
    WB_P_FLOAT("pad_value", "114", 0, 255, "value of the canvas where no image lands"),
    WB_P_FLOAT("prob", "1.0", 0, 1, "probability of a mosaic (YOLOv5 hyp.mosaic); otherwise the image is "
               "letterboxed to the tile size, as YOLOv5 does"),
    WB_PARAM_END,
};

static wb_status mosaic_configure(void *config, const wb_params *p, char *err, size_t n) {
    mosaic_config *c = config;
    double v[2];
    if (wb_tf_float_list(p, mosaic_schema, "size", v, 2) != 2 || v[0] < 1 || v[1] < 1) {
        snprintf(err, n, "size must be [width, height], e.g. [640, 640]");
        return WB_ERR_INVALID;
    }
    c->size[0] = (int)v[0], c->size[1] = (int)v[1];
    c->pad_value = (float)wb_tf_float(p, mosaic_schema, "pad_value");
    c->prob = (float)wb_tf_float(p, mosaic_schema, "prob");
    return WB_OK;
}

/* prob 1 draws nothing, so the default keeps the stream of mosaics as it was */
static bool mosaic_wanted(const void *config, uint64_t *rng) {
    const mosaic_config *c = config;
    return c->prob >= 1.0f || wb_tf_coin(rng, c->prob);
}

/* Without a mosaic, YOLOv5 letterboxes the image to the tile size (load_image
 * and letterbox), so the steps after see the size they were set up for. */
static wb_status mosaic_unwanted(const void *config, wb_data_sample *s, char *err, size_t n) {
    const mosaic_config *c = config;
    return wb_tf_letterbox_to(s, c->size[0], c->size[1], c->pad_value, err, n);
}

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

/* The canvas rectangle a = x1, y1, x2, y2 that quadrant q around (xc, yc)
 * gets, and the top-left corner (bx, by) of the part of the w x h tile shown
 * there, as YOLOv5 places them. */
static void place(int q, int xc, int yc, int cw, int ch, int w, int h, int a[4], int *bx, int *by) {
    switch (q) {
    case 0: a[0] = imax(xc - w, 0), a[1] = imax(yc - h, 0), a[2] = xc, a[3] = yc; break;
    case 1: a[0] = xc, a[1] = imax(yc - h, 0), a[2] = imin(xc + w, cw), a[3] = yc; break;
    case 2: a[0] = imax(xc - w, 0), a[1] = yc, a[2] = xc, a[3] = imin(yc + h, ch); break;
    default: a[0] = xc, a[1] = yc, a[2] = imin(xc + w, cw), a[3] = imin(yc + h, ch); break;
    }
    /* left/top quadrants show the tile's right/bottom part */
    *bx = q == 0 || q == 2 ? w - (a[2] - a[0]) : 0;
    *by = q == 0 || q == 1 ? h - (a[3] - a[1]) : 0;
}

/* A tile as placed on the canvas: rectangle a, and the tile's pixel shown
 * at its top-left corner. */
typedef struct placed {
    const wb_data_sample *tile;
    int a[4], bx, by;
} placed;

/* Canvas row y between x0 and x1 (one half of the canvas, which one tile
 * covers in part): the tile's pixels where the row crosses its rectangle,
 * the fill value elsewhere. Every canvas value is written once. */
static void compose_half_row(const wb_data_sample *s, uint8_t *row, int y, int x0, int x1, const placed *p, float fill) {
    size_t px = 3 * wb_data_sample_value_size(s);
    const int *a = p->a;
    if (y < a[1] || y >= a[3] || a[2] <= a[0]) {
        wb_data_sample_fill(s, row + (size_t)x0 * px, (size_t)(x1 - x0), fill);
        return;
    }
    const uint8_t *src = (const uint8_t *)wb_data_sample_pixels(p->tile) +
                         ((size_t)(p->by + y - a[1]) * p->tile->w + p->bx) * px;
    wb_data_sample_fill(s, row + (size_t)x0 * px, (size_t)(a[0] - x0), fill);
    memcpy(row + (size_t)a[0] * px, src, (size_t)(a[2] - a[0]) * px);
    wb_data_sample_fill(s, row + (size_t)a[2] * px, (size_t)(x1 - a[2]), fill);
}

static wb_status mosaic_apply(const void *config, wb_data_sample *s, wb_data_sample *const *extra,
                              uint64_t *rng, char *err, size_t n) {
    const mosaic_config *c = config;
    int cw = 2 * c->size[0], ch = 2 * c->size[1];
    int xc = (int)wb_tf_uniform(rng, 0.5f * c->size[0], 1.5f * c->size[0]);
    int yc = (int)wb_tf_uniform(rng, 0.5f * c->size[1], 1.5f * c->size[1]);
    wb_data_sample *tiles[4] = {s, extra[0], extra[1], extra[2]};
    int total = 0;
    for (int q = 0; q < 4; q++) total += tiles[q]->num_boxes;
    /* the canvas takes the widest type among the tiles and the fill */
    bool ok = wb_data_sample_allow_fill(s, c->pad_value);
    for (int q = 1; q < 4; q++) ok = ok && (!tiles[q]->is_float || wb_data_sample_to_float(s));
    for (int q = 1; q < 4; q++) ok = ok && (!s->is_float || wb_data_sample_to_float(tiles[q]));
    uint8_t *dst = ok ? wb_data_sample_target(s, ch, cw) : NULL;
    if (!dst || !wb_data_sample_reserve_boxes(s, total)) {
        snprintf(err, n, "out of memory for a %dx%d mosaic", cw, ch);
        return WB_ERR_NOMEM;
    }
    placed at_q[4];
    for (int q = 0; q < 4; q++) {
        at_q[q].tile = tiles[q];
        place(q, xc, yc, cw, ch, tiles[q]->w, tiles[q]->h, at_q[q].a, &at_q[q].bx, &at_q[q].by);
    }
    /* quadrants 0 | 1 above yc, 2 | 3 below, split at xc */
    size_t row_bytes = (size_t)cw * 3 * wb_data_sample_value_size(s);
    for (int y = 0; y < ch; y++) {
        const placed *left = &at_q[y < yc ? 0 : 2], *right = &at_q[y < yc ? 1 : 3];
        compose_half_row(s, dst + (size_t)y * row_bytes, y, 0, xc, left, c->pad_value);
        compose_half_row(s, dst + (size_t)y * row_bytes, y, xc, cw, right, c->pad_value);
    }
    int at = s->num_boxes;
    for (int q = 0; q < 4; q++) {
        const wb_data_sample *t = tiles[q];
        const placed *p = &at_q[q];
        float dx = (float)(p->a[0] - p->bx), dy = (float)(p->a[1] - p->by);
        /* the sample's own boxes move in place; the others' are appended */
        int from = q == 0 ? 0 : at, count = t->num_boxes;
        for (int i = 0; i < count; i++) {
            const float *b = t->boxes + 4 * i;
            float *o = s->boxes + 4 * (from + i);
            o[0] = b[0] + dx, o[1] = b[1] + dy, o[2] = b[2] + dx, o[3] = b[3] + dy;
            s->labels[from + i] = t->labels[i];
            s->ignore[from + i] = t->ignore[i];
        }
        if (q == 0) {
            s->offset_x += dx, s->offset_y += dy; /* the record follows the sample's own tile */
        } else {
            at += count;
        }
    }
    s->num_boxes = at;
    s->valid_w = cw, s->valid_h = ch;
    s->tile_w = c->size[0], s->tile_h = c->size[1];
    wb_data_sample_swap(s, ch, cw);
    wb_data_sample_clip_boxes(s);
    return WB_OK;
}

static int64_t mosaic_max_pixels(const void *config, int64_t in_pixels) {
    (void)in_pixels;
    const mosaic_config *c = config;
    return 4 * (int64_t)c->size[0] * c->size[1];
}

const wb_transform_type wb_transform_mosaic = {
    .name = "mosaic",
    .schema = mosaic_schema,
    .config_size = sizeof(mosaic_config),
    .configure = mosaic_configure,
    .extra_samples = 3,
    .apply_multi = mosaic_apply,
    .wanted = mosaic_wanted,
    .apply_unwanted = mosaic_unwanted,
    .max_pixels = mosaic_max_pixels,
};
