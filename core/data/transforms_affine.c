/* random_affine: YOLOv5's random_perspective. The matrix is M = T S R P C
 * (centre, perspective, rotation and scale, shear, translation), pixels are
 * warped with it (bilinear, border_value outside), and each box becomes the
 * bounding box of its four warped corners, clipped, kept only if it is wider
 * and taller than min_box_size, keeps min_area_ratio of its area scaled by
 * the drawn scale, and is no more elongated than max_aspect_ratio (YOLOv5's
 * box_candidates with wh_thr 2, area_thr 0.1, ar_thr 100).
 * Pixel centres (x + 0.5) are warped, so boxes (edge coordinates) and pixels
 * move together exactly; YOLOv5 warps pixel indices, which shifts its pixels
 * by half a pixel's warp against its boxes. */
#include "transforms_affine.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include "bilinear.h"
#include "transforms_types.h"

#define RADIANS_PER_DEGREE (3.14159265358979323846 / 180.0)

typedef struct affine_config {
    int size[2]; /* output w, h; 0 = input size */
    float degrees, translate, scale, shear, perspective, border_value;
    float min_size, min_area_ratio, max_aspect;
} affine_config;

static const wb_param_schema affine_schema[] = {
    WB_P_FLOAT("degrees", "0", 0, 180, "rotation drawn from uniform(-d, d) degrees"),
    WB_P_FLOAT("translate", "0.1", 0, 0.5, "shift drawn from uniform(-t, t) times the size"),
    WB_P_FLOAT("scale", "0.5", 0, 0.99, "zoom drawn from uniform(1 - s, 1 + s)"),
    WB_P_FLOAT("shear", "0", 0, 45, "shear drawn from uniform(-d, d) degrees, per axis"),
    WB_P_FLOAT("perspective", "0", 0, 0.01,
               "perspective terms drawn from uniform(-p, p), per axis (YOLOv5 hyp.perspective, 0 to 0.001)"),
    WB_P_FLOAT("border_value", "114", 0, 255, "value of pixels from outside the image"),
    WB_P_FLOAT("min_box_size", "2", 0, 1e4, "drop boxes narrower or lower than this (pixels)"),
    WB_P_FLOAT("min_area_ratio", "0.1", 0, 1, "drop boxes keeping less of their scaled area"),
    WB_P_FLOAT("max_aspect_ratio", "100", 1, 1e6, "drop boxes more elongated than this"),
    WB_P_INT_LIST("size", "[0, 0]", 0, 65536,
                  "output [width, height] ([0, 0] = input size; after mosaic: the tile size)"),
    WB_PARAM_END,
};

static wb_status affine_configure(void *config, const wb_params *p, char *err, size_t n) {
    affine_config *c = config;
    double v[2] = {0, 0};
    int len = wb_tf_float_list(p, affine_schema, "size", v, 2);
    if (len != 2 && len != 0) {
        snprintf(err, n, "size must be [width, height]");
        return WB_ERR_INVALID;
    }
    c->size[0] = (int)v[0], c->size[1] = (int)v[1];
    c->degrees = (float)wb_tf_float(p, affine_schema, "degrees");
    c->translate = (float)wb_tf_float(p, affine_schema, "translate");
    c->scale = (float)wb_tf_float(p, affine_schema, "scale");
    c->shear = (float)wb_tf_float(p, affine_schema, "shear");
    c->perspective = (float)wb_tf_float(p, affine_schema, "perspective");
    c->border_value = (float)wb_tf_float(p, affine_schema, "border_value");
    c->min_size = (float)wb_tf_float(p, affine_schema, "min_box_size");
    c->min_area_ratio = (float)wb_tf_float(p, affine_schema, "min_area_ratio");
    c->max_aspect = (float)wb_tf_float(p, affine_schema, "max_aspect_ratio");
    return WB_OK;
}

/* out = a * b, 3x3 row-major. */
static void mat_mul(const double *a, const double *b, double *out) {
    double r[9];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) r[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
    memcpy(out, r, sizeof r);
}

void wb_affine_matrix(const wb_affine_draw *d, int w, int h, int ow, int oh, double m[9]) {
    double a = d->degrees * RADIANS_PER_DEGREE, s = d->scale;
    const double centre[9] = {1, 0, -w / 2.0, 0, 1, -h / 2.0, 0, 0, 1};
    const double persp[9] = {1, 0, 0, 0, 1, 0, d->perspective_x, d->perspective_y, 1};
    const double rot[9] = {s * cos(a), s * sin(a), 0, -s * sin(a), s * cos(a), 0, 0, 0, 1};
    const double shear[9] = {1, tan(d->shear_x * RADIANS_PER_DEGREE), 0, tan(d->shear_y * RADIANS_PER_DEGREE), 1, 0,
                             0, 0, 1};
    const double move[9] = {1, 0, (0.5 + d->translate_x) * ow, 0, 1, (0.5 + d->translate_y) * oh, 0, 0, 1};
    mat_mul(persp, centre, m);
    mat_mul(rot, m, m);
    mat_mul(shear, m, m);
    mat_mul(move, m, m);
}

/* YOLOv5's order of draws; the perspective pair only when it is on, so
 * pipelines without it keep the stream they always had. */
static void draw(const affine_config *c, uint64_t *rng, wb_affine_draw *d) {
    memset(d, 0, sizeof *d);
    if (c->perspective > 0) {
        d->perspective_x = wb_tf_uniform(rng, -c->perspective, c->perspective);
        d->perspective_y = wb_tf_uniform(rng, -c->perspective, c->perspective);
    }
    d->degrees = wb_tf_uniform(rng, -c->degrees, c->degrees);
    d->scale = wb_tf_uniform(rng, 1.0f - c->scale, 1.0f + c->scale);
    d->shear_x = wb_tf_uniform(rng, -c->shear, c->shear);
    d->shear_y = wb_tf_uniform(rng, -c->shear, c->shear);
    d->translate_x = wb_tf_uniform(rng, -c->translate, c->translate);
    d->translate_y = wb_tf_uniform(rng, -c->translate, c->translate);
}

/* Each box becomes the bounding box of its warped corners, clipped, and is
 * kept if box_candidates would keep it (scale: the drawn zoom). */
static void refit_boxes(wb_data_sample *s, const double *m, double scale, const affine_config *c, int ow, int oh) {
    const double eps = 1e-16;
    int kept = 0;
    for (int i = 0; i < s->num_boxes; i++) {
        const float *b = s->boxes + 4 * i;
        double xs[4] = {b[0], b[2], b[2], b[0]}, ys[4] = {b[1], b[1], b[3], b[3]};
        double x1 = INFINITY, y1 = INFINITY, x2 = -INFINITY, y2 = -INFINITY;
        for (int k = 0; k < 4; k++) {
            double z = m[6] * xs[k] + m[7] * ys[k] + m[8];
            double x = (m[0] * xs[k] + m[1] * ys[k] + m[2]) / z, y = (m[3] * xs[k] + m[4] * ys[k] + m[5]) / z;
            x1 = fmin(x1, x), x2 = fmax(x2, x), y1 = fmin(y1, y), y2 = fmax(y2, y);
        }
        x1 = fmin(fmax(x1, 0), ow), x2 = fmin(fmax(x2, 0), ow);
        y1 = fmin(fmax(y1, 0), oh), y2 = fmin(fmax(y2, 0), oh);
        double w0 = (b[2] - b[0]) * scale, h0 = (b[3] - b[1]) * scale, w1 = x2 - x1, h1 = y2 - y1;
        double aspect = fmax(w1 / (h1 + eps), h1 / (w1 + eps));
        if (!(w1 > c->min_size && h1 > c->min_size && w1 * h1 / (w0 * h0 + eps) > c->min_area_ratio &&
              aspect < c->max_aspect))
            continue;
        float *o = s->boxes + 4 * kept;
        o[0] = (float)x1, o[1] = (float)y1, o[2] = (float)x2, o[3] = (float)y2;
        s->labels[kept] = s->labels[i];
        s->ignore[kept] = s->ignore[i];
        kept++;
    }
    s->num_boxes = kept;
}

static wb_status warp(const affine_config *c, const wb_affine_draw *d, wb_data_sample *s, char *err, size_t n) {
    /* after a mosaic the default output is one tile, as YOLOv5's border of
     * -size / 2 gives; otherwise the input size */
    int ow = c->size[0] > 0 ? c->size[0] : s->tile_w > 0 ? s->tile_w : s->w;
    int oh = c->size[1] > 0 ? c->size[1] : s->tile_h > 0 ? s->tile_h : s->h;
    double m[9];
    wb_affine_matrix(d, s->w, s->h, ow, oh, m);
    bool flat = m[6] == 0.0 && m[7] == 0.0;
    void *dst = wb_data_sample_allow_fill(s, c->border_value) ? wb_data_sample_target(s, oh, ow) : NULL;
    bool ok = dst != NULL;
    if (ok && s->is_float && flat)
        wb_warp_affine_f32(s->img, s->h, s->w, m, c->border_value, dst, oh, ow);
    else if (ok && s->is_float)
        wb_warp_perspective_f32(s->img, s->h, s->w, m, c->border_value, dst, oh, ow);
    else if (ok && flat)
        ok = wb_warp_affine_u8(s->img8, s->h, s->w, m, (uint8_t)c->border_value, dst, oh, ow);
    else if (ok)
        wb_warp_perspective_u8(s->img8, s->h, s->w, m, (uint8_t)c->border_value, dst, oh, ow);
    if (!ok) {
        snprintf(err, n, "out of memory warping to %dx%d", ow, oh);
        return WB_ERR_NOMEM;
    }
    refit_boxes(s, m, d->scale, c, ow, oh);
    /* The scale/offset record keeps the axis-aligned part only: exact
     * without rotation, shear, perspective or an earlier flip, none of which
     * evaluation pipelines use (mapping detections back is an evaluation need). */
    s->offset_x = (float)(m[0] * s->offset_x + m[2]), s->scale_x *= (float)m[0];
    s->offset_y = (float)(m[4] * s->offset_y + m[5]), s->scale_y *= (float)m[4];
    s->valid_w = ow, s->valid_h = oh;
    s->tile_w = s->tile_h = 0;
    wb_data_sample_swap(s, oh, ow);
    return WB_OK;
}

static wb_status affine_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err, size_t n) {
    wb_affine_draw d;
    draw(config, rng, &d);
    return warp(config, &d, s, err, n);
}

wb_status wb_random_affine_apply_draw(const wb_params *params, const wb_affine_draw *d, wb_data_sample *s,
                                      char *err, size_t err_size) {
    affine_config c;
    wb_status st = affine_configure(&c, params, err, err_size);
    return st == WB_OK ? warp(&c, d, s, err, err_size) : st;
}

/* A fixed size; else a mosaic's tile (a quarter of its canvas) or the input:
 * the smaller, since memory estimates are lower bounds. */
static int64_t affine_max_pixels(const void *config, int64_t in_pixels) {
    const affine_config *c = config;
    int64_t fixed = (int64_t)c->size[0] * c->size[1];
    return fixed > 0 ? fixed : in_pixels / 4;
}

const wb_transform_type wb_transform_random_affine = {
    .name = "random_affine",
    .schema = affine_schema,
    .config_size = sizeof(affine_config),
    .configure = affine_configure,
    .apply = affine_apply,
    .max_pixels = affine_max_pixels,
};
