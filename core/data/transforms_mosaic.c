/* mosaic (YOLOv5 load_mosaic): the sample and three others drawn from the
 * dataset meet at a random centre of a 2w x 2h canvas, one per quadrant.
 * Follow it with random_affine size = [w, h] to come back to w x h. */
#include <stdio.h>
#include <string.h>
#include "transforms_types.h"

typedef struct mosaic_config {
    int size[2]; /* w, h of one tile; the canvas is twice that */
    float pad_value;
} mosaic_config;

static const wb_param_schema mosaic_schema[] = {
    WB_P_INT_LIST("size", "[640, 640]", 1, 65536,
                  "[width, height] of one tile; the output is twice as large"),
    WB_P_FLOAT("pad_value", "114", 0, 255, "value of the canvas where no image lands"),
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
    return WB_OK;
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

static wb_status mosaic_apply(const void *config, wb_data_sample *s, wb_data_sample *const *extra,
                              uint64_t *rng, char *err, size_t n) {
    const mosaic_config *c = config;
    int cw = 2 * c->size[0], ch = 2 * c->size[1];
    int xc = (int)wb_tf_uniform(rng, 0.5f * c->size[0], 1.5f * c->size[0]);
    int yc = (int)wb_tf_uniform(rng, 0.5f * c->size[1], 1.5f * c->size[1]);
    wb_data_sample *tiles[4] = {s, extra[0], extra[1], extra[2]};
    int total = 0;
    for (int q = 0; q < 4; q++) total += tiles[q]->num_boxes;
    float *dst = wb_data_sample_target(s, ch, cw);
    if (!dst || !wb_data_sample_reserve_boxes(s, total)) {
        snprintf(err, n, "out of memory for a %dx%d mosaic", cw, ch);
        return WB_ERR_NOMEM;
    }
    for (size_t i = 0; i < (size_t)cw * ch * 3; i++) dst[i] = c->pad_value;
    int at = s->num_boxes;
    for (int q = 0; q < 4; q++) {
        const wb_data_sample *t = tiles[q];
        int a[4], bx, by;
        place(q, xc, yc, cw, ch, t->w, t->h, a, &bx, &by);
        for (int y = a[1]; y < a[3] && a[2] > a[0]; y++)
            memcpy(dst + ((size_t)y * cw + a[0]) * 3, t->img + ((size_t)(by + y - a[1]) * t->w + bx) * 3,
                   (size_t)(a[2] - a[0]) * 3 * sizeof(float));
        float dx = (float)(a[0] - bx), dy = (float)(a[1] - by);
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
    wb_data_sample_swap(s, ch, cw);
    wb_data_sample_clip_boxes(s);
    return WB_OK;
}

const wb_transform_type wb_transform_mosaic = {
    .name = "mosaic",
    .schema = mosaic_schema,
    .config_size = sizeof(mosaic_config),
    .configure = mosaic_configure,
    .extra_samples = 3,
    .apply_multi = mosaic_apply,
};
