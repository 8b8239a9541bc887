/* mosaic9 (YOLOv5 load_mosaic9): the sample and eight others, in random
 * order, laid out around the first one on a 3w x 3h canvas (centre, top,
 * top right, right, bottom right, bottom, bottom left, left, top left, each
 * placed against its neighbours' sizes, later tiles over earlier ones);
 * then a 2w x 2h window at a random offset in [0, w) x [0, h) is kept.
 * Follow it with random_affine, whose default output is one w x h tile. */
#include "transforms_mosaic9.h"

#include <stdio.h>
#include <string.h>
#include "transforms_types.h"

#define TILES 9

typedef struct mosaic9_config {
    int size[2]; /* w, h of one tile; the output is twice that */
    float pad_value, prob;
} mosaic9_config;

static const wb_param_schema mosaic9_schema[] = {
    WB_P_INT_LIST("size", "[640, 640]", 1, 65536, "[width, height] of one tile; the output is twice as large"),
    WB_P_FLOAT("pad_value", "114", 0, 255, "value of the canvas where no image lands"),
    WB_P_FLOAT("prob", "1.0", 0, 1, "probability of a mosaic (YOLOv5 hyp.mosaic); otherwise the image is "
               "letterboxed to the tile size, as YOLOv5 does"),
    WB_PARAM_END,
};

static wb_status mosaic9_configure(void *config, const wb_params *p, char *err, size_t n) {
    mosaic9_config *c = config;
    double v[2];
    if (wb_tf_float_list(p, mosaic9_schema, "size", v, 2) != 2 || v[0] < 1 || v[1] < 1) {
        snprintf(err, n, "size must be [width, height], e.g. [640, 640]");
        return WB_ERR_INVALID;
    }
    c->size[0] = (int)v[0], c->size[1] = (int)v[1];
    c->pad_value = (float)wb_tf_float(p, mosaic9_schema, "pad_value");
    c->prob = (float)wb_tf_float(p, mosaic9_schema, "prob");
    return WB_OK;
}

static bool mosaic9_wanted(const void *config, uint64_t *rng) {
    const mosaic9_config *c = config;
    return c->prob >= 1.0f || wb_tf_coin(rng, c->prob);
}

/* Without a mosaic, YOLOv5 letterboxes the image to the tile size (load_image
 * and letterbox), so the steps after see the size they were set up for. */
static wb_status mosaic9_unwanted(const void *config, wb_data_sample *s, char *err, size_t n) {
    const mosaic9_config *c = config;
    return wb_tf_letterbox_to(s, c->size[0], c->size[1], c->pad_value, err, n);
}

static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

/* YOLOv5's placement of tile i (w x h) on the 3sw x 3sh canvas: its
 * top-left corner, given the first tile's size (w0, h0) and the previous
 * one's (wp, hp). */
static void corner(int i, int sw, int sh, int w, int h, int w0, int h0, int wp, int hp, int *x, int *y) {
    switch (i) {
    case 0: *x = sw, *y = sh; break;                    /* centre */
    case 1: *x = sw, *y = sh - h; break;                /* top */
    case 2: *x = sw + wp, *y = sh - h; break;           /* top right */
    case 3: *x = sw + w0, *y = sh; break;               /* right */
    case 4: *x = sw + w0, *y = sh + hp; break;          /* bottom right */
    case 5: *x = sw + w0 - w, *y = sh + h0; break;      /* bottom */
    case 6: *x = sw + w0 - wp - w, *y = sh + h0; break; /* bottom left */
    case 7: *x = sw - w, *y = sh + h0 - h; break;       /* left */
    default: *x = sw - w, *y = sh + h0 - hp - h; break; /* top left */
    }
}

/* Tile t's pixels inside the output window (xc, yc, ow, oh) of the canvas,
 * its top-left corner at (cx, cy); what lies left of or above the canvas is
 * cut as YOLOv5's max(c, 0) cuts it. */
static void paste(const wb_data_sample *t, int cx, int cy, int xc, int yc, int ow, int oh, uint8_t *dst, size_t px) {
    int x1 = imax(imax(cx, 0), xc), y1 = imax(imax(cy, 0), yc);
    int x2 = imin(cx + t->w, xc + ow), y2 = imin(cy + t->h, yc + oh);
    const uint8_t *src = wb_data_sample_pixels(t);
    for (int y = y1; x2 > x1 && y < y2; y++)
        memcpy(dst + ((size_t)(y - yc) * ow + (size_t)(x1 - xc)) * px,
               src + ((size_t)(y - cy) * t->w + (size_t)(x1 - cx)) * px, (size_t)(x2 - x1) * px);
}

static wb_status compose(const mosaic9_config *c, wb_data_sample *s, wb_data_sample *const *tiles, int xc, int yc,
                         char *err, size_t n) {
    const int sw = c->size[0], sh = c->size[1], ow = 2 * sw, oh = 2 * sh;
    int total = 0;
    /* the canvas takes the widest type among the tiles and the fill */
    bool ok = wb_data_sample_allow_fill(s, c->pad_value);
    for (int i = 0; i < TILES; i++) total += tiles[i]->num_boxes;
    for (int i = 0; i < TILES; i++) ok = ok && (!tiles[i]->is_float || wb_data_sample_to_float(s));
    for (int i = 0; i < TILES; i++) ok = ok && (!s->is_float || wb_data_sample_to_float(tiles[i]));
    uint8_t *dst = ok ? wb_data_sample_target(s, oh, ow) : NULL;
    if (!dst || !wb_data_sample_reserve_boxes(s, total)) {
        snprintf(err, n, "out of memory for a %dx%d mosaic9", ow, oh);
        return WB_ERR_NOMEM;
    }
    size_t px = 3 * wb_data_sample_value_size(s);
    wb_data_sample_fill(s, dst, (size_t)ow * oh, c->pad_value);
    int w0 = tiles[0]->w, h0 = tiles[0]->h, wp = -1, hp = -1, at = s->num_boxes;
    for (int i = 0; i < TILES; i++) {
        const wb_data_sample *t = tiles[i];
        int cx, cy;
        corner(i, sw, sh, t->w, t->h, w0, h0, wp, hp, &cx, &cy);
        paste(t, cx, cy, xc, yc, ow, oh, dst, px);
        float dx = (float)(cx - xc), dy = (float)(cy - yc);
        /* the sample's own boxes move in place; the others' are appended */
        int from = t == s ? 0 : at;
        for (int k = 0; k < t->num_boxes; k++) {
            const float *b = t->boxes + 4 * k;
            float *o = s->boxes + 4 * (from + k);
            o[0] = b[0] + dx, o[1] = b[1] + dy, o[2] = b[2] + dx, o[3] = b[3] + dy;
            s->labels[from + k] = t->labels[k];
            s->ignore[from + k] = t->ignore[k];
        }
        if (t == s) s->offset_x += dx, s->offset_y += dy; /* the record follows the sample's own tile */
        else at += t->num_boxes;
        wp = t->w, hp = t->h;
    }
    s->num_boxes = at;
    s->valid_w = ow, s->valid_h = oh;
    s->tile_w = sw, s->tile_h = sh;
    wb_data_sample_swap(s, oh, ow);
    wb_data_sample_clip_boxes(s);
    return WB_OK;
}

static wb_status mosaic9_apply(const void *config, wb_data_sample *s, wb_data_sample *const *extra, uint64_t *rng,
                               char *err, size_t n) {
    const mosaic9_config *c = config;
    wb_data_sample *tiles[TILES] = {s};
    for (int i = 1; i < TILES; i++) tiles[i] = extra[i - 1];
    for (int i = TILES - 1; i > 0; i--) { /* random.shuffle of the nine */
        int j = wb_tf_below(rng, i + 1);
        wb_data_sample *t = tiles[i];
        tiles[i] = tiles[j], tiles[j] = t;
    }
    int yc = (int)wb_tf_uniform(rng, 0, (float)c->size[1]); /* yc first, as YOLOv5 */
    int xc = (int)wb_tf_uniform(rng, 0, (float)c->size[0]);
    return compose(c, s, tiles, xc, yc, err, n);
}

wb_status wb_mosaic9_compose(const wb_params *params, wb_data_sample *s, wb_data_sample *const tiles[9], int xc,
                             int yc, char *err, size_t err_size) {
    mosaic9_config c;
    wb_status st = mosaic9_configure(&c, params, err, err_size);
    return st == WB_OK ? compose(&c, s, tiles, xc, yc, err, err_size) : st;
}

static int64_t mosaic9_max_pixels(const void *config, int64_t in_pixels) {
    (void)in_pixels;
    const mosaic9_config *c = config;
    return 4 * (int64_t)c->size[0] * c->size[1];
}

const wb_transform_type wb_transform_mosaic9 = {
    .name = "mosaic9",
    .schema = mosaic9_schema,
    .config_size = sizeof(mosaic9_config),
    .configure = mosaic9_configure,
    .extra_samples = TILES - 1,
    .apply_multi = mosaic9_apply,
    .wanted = mosaic9_wanted,
    .apply_unwanted = mosaic9_unwanted,
    .max_pixels = mosaic9_max_pixels,
};
