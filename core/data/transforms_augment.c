/* Spatial augmentations that cut or warp: random_crop (mmdet RandomCrop,
 * absolute size) and random_affine (YOLOv5 random_perspective without the
 * perspective term). Boxes are re-fitted and filtered with the pixels. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "bilinear.h"
#include "transforms_types.h"

#define RADIANS_PER_DEGREE (3.14159265358979323846 / 180.0)

/* ---- random_crop ---- */

typedef struct crop_config {
    int size[2]; /* w, h */
    bool allow_negative;
} crop_config;

static const wb_param_schema crop_schema[] = {
    WB_P_INT_LIST("crop_size", "[384, 600]", 1, 65536,
                  "[width, height] of the crop (a smaller image keeps that whole side)"),
    WB_P_BOOL("allow_negative_crop", "false",
              "accept crops without any object (else redraw, then keep the image)"),
    WB_PARAM_END,
};

static wb_status crop_configure(void *config, const wb_params *p, char *err, size_t n) {
    crop_config *c = config;
    double v[2];
    if (wb_tf_float_list(p, crop_schema, "crop_size", v, 2) != 2 || v[0] < 1 || v[1] < 1) {
        snprintf(err, n, "crop_size must be [width, height]");
        return WB_ERR_INVALID;
    }
    c->size[0] = (int)v[0], c->size[1] = (int)v[1];
    c->allow_negative = wb_tf_bool(p, crop_schema, "allow_negative_crop");
    return WB_OK;
}

/* Whether a non-ignored box keeps some area inside the window. */
static bool window_has_object(const wb_data_sample *s, int x0, int y0, int cw, int ch) {
    for (int i = 0; i < s->num_boxes; i++) {
        const float *b = s->boxes + 4 * i;
        if (s->ignore[i]) continue;
        if (fminf(b[2], (float)(x0 + cw)) > fmaxf(b[0], (float)x0) &&
            fminf(b[3], (float)(y0 + ch)) > fmaxf(b[1], (float)y0))
            return true;
    }
    return false;
}

static wb_status crop_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err, size_t n) {
    const crop_config *c = config;
    int cw = c->size[0] < s->w ? c->size[0] : s->w, ch = c->size[1] < s->h ? c->size[1] : s->h;
    int x0 = 0, y0 = 0;
    bool found = false;
    /* mmdet drops an image whose crop holds no object; we redraw a few times
     * and keep the image uncropped rather than lose the sample. */
    for (int attempt = 0; attempt < 10 && !found; attempt++) {
        x0 = wb_tf_below(rng, s->w - cw + 1);
        y0 = wb_tf_below(rng, s->h - ch + 1);
        found = c->allow_negative || window_has_object(s, x0, y0, cw, ch);
    }
    if (!found || (cw == s->w && ch == s->h)) return WB_OK;
    uint8_t *dst = wb_data_sample_target(s, ch, cw);
    if (!dst) {
        snprintf(err, n, "out of memory for a %dx%d crop", cw, ch);
        return WB_ERR_NOMEM;
    }
    const uint8_t *src = wb_data_sample_pixels(s);
    size_t px = 3 * wb_data_sample_value_size(s);
    for (int y = 0; y < ch; y++)
        memcpy(dst + (size_t)y * cw * px, src + ((size_t)(y + y0) * s->w + x0) * px, (size_t)cw * px);
    for (int i = 0; i < s->num_boxes; i++) {
        s->boxes[4 * i] -= (float)x0, s->boxes[4 * i + 2] -= (float)x0;
        s->boxes[4 * i + 1] -= (float)y0, s->boxes[4 * i + 3] -= (float)y0;
    }
    /* the original's left/top edge: cut by x0, or by the right margin when flipped */
    s->offset_x -= (float)(s->flip_h ? s->w - cw - x0 : x0);
    s->offset_y -= (float)(s->flip_v ? s->h - ch - y0 : y0);
    s->valid_w = s->valid_w - x0 < cw ? s->valid_w - x0 : cw;
    s->valid_h = s->valid_h - y0 < ch ? s->valid_h - y0 : ch;
    wb_data_sample_swap(s, ch, cw);
    wb_data_sample_clip_boxes(s);
    return WB_OK;
}

const wb_transform_type wb_transform_random_crop = {
    .name = "random_crop",
    .schema = crop_schema,
    .config_size = sizeof(crop_config),
    .configure = crop_configure,
    .apply = crop_apply,
};

/* ---- random_affine ---- */

typedef struct affine_config {
    int size[2]; /* output w, h; 0 = input size */
    float degrees, translate, scale, shear, border_value;
    float min_size, min_area_ratio, max_aspect;
} affine_config;

static const wb_param_schema affine_schema[] = {
    WB_P_FLOAT("degrees", "0", 0, 180, "rotation drawn from uniform(-d, d) degrees"),
    WB_P_FLOAT("translate", "0.1", 0, 0.5, "shift drawn from uniform(-t, t) times the size"),
    WB_P_FLOAT("scale", "0.5", 0, 0.99, "zoom drawn from uniform(1 - s, 1 + s)"),
    WB_P_FLOAT("shear", "0", 0, 45, "shear drawn from uniform(-d, d) degrees, per axis"),
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
    c->border_value = (float)wb_tf_float(p, affine_schema, "border_value");
    c->min_size = (float)wb_tf_float(p, affine_schema, "min_box_size");
    c->min_area_ratio = (float)wb_tf_float(p, affine_schema, "min_area_ratio");
    c->max_aspect = (float)wb_tf_float(p, affine_schema, "max_aspect_ratio");
    return WB_OK;
}

/* 2x3 affine matrices, row-major; out = a * b. */
static void mat_mul(const double *a, const double *b, double *out) {
    double r[6];
    for (int row = 0; row < 2; row++) {
        const double *ar = a + 3 * row;
        r[3 * row] = ar[0] * b[0] + ar[1] * b[3];
        r[3 * row + 1] = ar[0] * b[1] + ar[1] * b[4];
        r[3 * row + 2] = ar[0] * b[2] + ar[1] * b[5] + ar[2];
    }
    memcpy(out, r, sizeof r);
}

/* YOLOv5's composition: centre the input, rotate+scale, shear, translate
 * to the output's centre (w, h: input size; ow, oh: output size). */
static void draw_matrix(const affine_config *c, int w, int h, int ow, int oh, uint64_t *rng, double *m) {
    double centre[6] = {1, 0, -w / 2.0, 0, 1, -h / 2.0};
    double a = wb_tf_uniform(rng, -c->degrees, c->degrees) * RADIANS_PER_DEGREE;
    double s = wb_tf_uniform(rng, 1.0f - c->scale, 1.0f + c->scale);
    double rot[6] = {s * cos(a), s * sin(a), 0, -s * sin(a), s * cos(a), 0};
    double shx = tan(wb_tf_uniform(rng, -c->shear, c->shear) * RADIANS_PER_DEGREE);
    double shy = tan(wb_tf_uniform(rng, -c->shear, c->shear) * RADIANS_PER_DEGREE);
    double shear[6] = {1, shx, 0, shy, 1, 0};
    double tx = (0.5 + wb_tf_uniform(rng, -c->translate, c->translate)) * ow;
    double ty = (0.5 + wb_tf_uniform(rng, -c->translate, c->translate)) * oh;
    double move[6] = {1, 0, tx, 0, 1, ty};
    mat_mul(rot, centre, m);
    mat_mul(shear, m, m);
    mat_mul(move, m, m);
}

/* Each box becomes the bounding box of its warped corners, clipped; boxes
 * that became too small, lost most of their area or got too thin go. */
static void refit_boxes(wb_data_sample *s, const double *m, double scale, const affine_config *c, int ow,
                        int oh) {
    int kept = 0;
    for (int i = 0; i < s->num_boxes; i++) {
        const float *b = s->boxes + 4 * i;
        double xs[4] = {b[0], b[2], b[2], b[0]}, ys[4] = {b[1], b[1], b[3], b[3]};
        double x1 = INFINITY, y1 = INFINITY, x2 = -INFINITY, y2 = -INFINITY;
        for (int k = 0; k < 4; k++) {
            double x = m[0] * xs[k] + m[1] * ys[k] + m[2], y = m[3] * xs[k] + m[4] * ys[k] + m[5];
            x1 = fmin(x1, x), x2 = fmax(x2, x), y1 = fmin(y1, y), y2 = fmax(y2, y);
        }
        x1 = fmax(x1, 0), y1 = fmax(y1, 0), x2 = fmin(x2, ow), y2 = fmin(y2, oh);
        double w0 = b[2] - b[0], h0 = b[3] - b[1], w1 = x2 - x1, h1 = y2 - y1;
        double aspect = fmax(w1 / (h1 + 1e-16), h1 / (w1 + 1e-16));
        if (!(w1 > c->min_size && h1 > c->min_size && w1 * h1 > c->min_area_ratio * w0 * h0 * scale * scale &&
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

static wb_status affine_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err, size_t n) {
    const affine_config *c = config;
    /* after a mosaic the default output is one tile, as YOLOv5's border of
     * -size / 2 gives; otherwise the input size */
    int ow = c->size[0] > 0 ? c->size[0] : s->tile_w > 0 ? s->tile_w : s->w;
    int oh = c->size[1] > 0 ? c->size[1] : s->tile_h > 0 ? s->tile_h : s->h;
    double m[6];
    draw_matrix(c, s->w, s->h, ow, oh, rng, m);
    /* Pixel centres (x + 0.5) are warped, so boxes (edge coordinates) and
     * pixels move together exactly. */
    void *dst = wb_data_sample_allow_fill(s, c->border_value) ? wb_data_sample_target(s, oh, ow) : NULL;
    bool ok = dst != NULL;
    if (ok && s->is_float)
        wb_warp_affine_f32(s->img, s->h, s->w, m, c->border_value, dst, oh, ow);
    else if (ok)
        ok = wb_warp_affine_u8(s->img8, s->h, s->w, m, (uint8_t)c->border_value, dst, oh, ow);
    if (!ok) {
        snprintf(err, n, "out of memory warping to %dx%d", ow, oh);
        return WB_ERR_NOMEM;
    }
    double scale = sqrt(fabs(m[0] * m[4] - m[1] * m[3]));
    refit_boxes(s, m, scale, c, ow, oh);
    /* The scale/offset record keeps the axis-aligned part only: exact
     * without rotation, shear or an earlier flip, none of which evaluation
     * pipelines use (mapping detections back is an evaluation need). */
    s->offset_x = (float)(m[0] * s->offset_x + m[2]), s->scale_x *= (float)m[0];
    s->offset_y = (float)(m[4] * s->offset_y + m[5]), s->scale_y *= (float)m[4];
    s->valid_w = ow, s->valid_h = oh;
    s->tile_w = s->tile_h = 0;
    wb_data_sample_swap(s, oh, ow);
    return WB_OK;
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
