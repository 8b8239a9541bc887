/* Geometric transforms: resize, letterbox, random flip, pad. Each keeps the
 * boxes and the sample's scale/offset/flip record in step with the pixels. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "bilinear.h"
#include "transforms_types.h"

static wb_status resize_sampled(wb_data_sample *s, int nh, int nw, wb_resize_sampling sampling, char *err,
                                size_t n) {
    if (nh == s->h && nw == s->w) return WB_OK;
    void *dst = wb_data_sample_target(s, nh, nw);
    bool ok = dst && (s->is_float ? wb_resize_bilinear_f32_sampled(s->img, s->h, s->w, dst, nh, nw, sampling)
                                  : wb_resize_bilinear_u8_sampled(s->img8, s->h, s->w, dst, nh, nw, sampling));
    if (!ok) {
        snprintf(err, n, "out of memory resizing to %dx%d", nw, nh);
        return WB_ERR_NOMEM;
    }
    float rx = (float)nw / (float)s->w, ry = (float)nh / (float)s->h;
    for (int i = 0; i < s->num_boxes; i++) {
        s->boxes[4 * i] *= rx, s->boxes[4 * i + 2] *= rx;
        s->boxes[4 * i + 1] *= ry, s->boxes[4 * i + 3] *= ry;
    }
    s->scale_x *= rx, s->offset_x *= rx;
    s->scale_y *= ry, s->offset_y *= ry;
    s->valid_w = s->valid_w == s->w ? nw : (int)lroundf((float)s->valid_w * rx);
    s->valid_h = s->valid_h == s->h ? nh : (int)lroundf((float)s->valid_h * ry);
    wb_data_sample_swap(s, nh, nw);
    return WB_OK;
}

wb_status wb_tf_resize_to(wb_data_sample *s, int nh, int nw, char *err, size_t n) {
    return resize_sampled(s, nh, nw, WB_RESIZE_HALF_PIXEL, err, n);
}

/* Grows the canvas by the given margins filled with `value`; boxes move with
 * the content, and the offset follows whichever side the original's left/top
 * edge sits on after any flip. */
static wb_status pad_sample(wb_data_sample *s, int top, int bottom, int left, int right, float value,
                            char *err, size_t n) {
    if (!top && !bottom && !left && !right) return WB_OK;
    int nh = s->h + top + bottom, nw = s->w + left + right;
    uint8_t *dst = wb_data_sample_allow_fill(s, value) ? wb_data_sample_target(s, nh, nw) : NULL;
    if (!dst) {
        snprintf(err, n, "out of memory padding to %dx%d", nw, nh);
        return WB_ERR_NOMEM;
    }
    const uint8_t *src = wb_data_sample_pixels(s);
    size_t px = 3 * wb_data_sample_value_size(s), row = (size_t)s->w * px, out_row = (size_t)nw * px;
    wb_data_sample_fill(s, dst, (size_t)top * nw, value);
    for (int y = 0; y < s->h; y++) {
        uint8_t *line = dst + (size_t)(y + top) * out_row;
        wb_data_sample_fill(s, line, (size_t)left, value);
        memcpy(line + (size_t)left * px, src + (size_t)y * row, row);
        wb_data_sample_fill(s, line + (size_t)left * px + row, (size_t)right, value);
    }
    wb_data_sample_fill(s, dst + (size_t)(top + s->h) * out_row, (size_t)bottom * nw, value);
    for (int i = 0; i < s->num_boxes; i++) {
        s->boxes[4 * i] += (float)left, s->boxes[4 * i + 2] += (float)left;
        s->boxes[4 * i + 1] += (float)top, s->boxes[4 * i + 3] += (float)top;
    }
    s->offset_x += (float)(s->flip_h ? right : left);
    s->offset_y += (float)(s->flip_v ? bottom : top);
    wb_data_sample_swap(s, nh, nw);
    return WB_OK;
}

/* ---- resize ---- */

typedef struct resize_config {
    int scale[2];
    bool keep_ratio;
    wb_resize_sampling sampling;
} resize_config;

static const char *const resize_samplings[] = {"half_pixel", "tf_legacy", NULL};

static const wb_param_schema resize_schema[] = {
    WB_P_INT_LIST("scale", "[1333, 800]", 1, 65536,
                  "keep_ratio: [long, short] edge limits (mmdet); otherwise the exact [width, height]"),
    WB_P_BOOL("keep_ratio", "true", "keep the aspect ratio, fitting inside both edge limits"),
    WB_P_CHOICE("sampling", "\"half_pixel\"", resize_samplings,
                "where output pixel i samples the input (r = input / output size): half_pixel at (i + 0.5) * r - "
                "0.5 (cv2 INTER_LINEAR, PIL without antialiasing, torch interpolate align_corners=False, mmcv); "
                "tf_legacy at i * r (TensorFlow 1 / TF.js resize_bilinear, align_corners and half_pixel_centers "
                "false), for models trained with it; on 8-bit pixels put normalize first to resize in float as "
                "TensorFlow does"),
    WB_PARAM_END,
};

static wb_status resize_configure(void *config, const wb_params *p, char *err, size_t n) {
    resize_config *c = config;
    double v[2];
    if (wb_tf_float_list(p, resize_schema, "scale", v, 2) != 2 || v[0] < 1 || v[1] < 1) {
        snprintf(err, n, "scale must be two positive sizes, e.g. [1333, 800]");
        return WB_ERR_INVALID;
    }
    c->scale[0] = (int)v[0], c->scale[1] = (int)v[1];
    c->keep_ratio = wb_tf_bool(p, resize_schema, "keep_ratio");
    char sampling[32];
    wb_tf_string(p, resize_schema, "sampling", sampling, sizeof sampling);
    if (strcmp(sampling, "half_pixel") != 0 && strcmp(sampling, "tf_legacy") != 0) {
        snprintf(err, n, "sampling must be \"half_pixel\" or \"tf_legacy\" (got \"%s\")", sampling);
        return WB_ERR_INVALID;
    }
    c->sampling = strcmp(sampling, "tf_legacy") == 0 ? WB_RESIZE_TF_LEGACY : WB_RESIZE_HALF_PIXEL;
    return WB_OK;
}

static wb_status resize_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err, size_t n) {
    (void)rng;
    const resize_config *c = config;
    int nw = c->scale[0], nh = c->scale[1];
    if (c->keep_ratio) wb_tf_keep_ratio_size(s->w, s->h, c->scale, &nw, &nh);
    return resize_sampled(s, nh, nw, c->sampling, err, n);
}

void wb_tf_keep_ratio_size(int w, int h, const int scale[2], int *nw, int *nh) {
    /* mmcv rescale_size: the largest factor keeping the long edge within
     * the larger limit and the short edge within the smaller one. */
    double lim_long = scale[0] > scale[1] ? scale[0] : scale[1];
    double lim_short = scale[0] > scale[1] ? scale[1] : scale[0];
    double lng = h > w ? h : w, shrt = h > w ? w : h;
    double f = fmin(lim_long / lng, lim_short / shrt);
    *nw = (int)(w * f + 0.5), *nh = (int)(h * f + 0.5);
    if (*nw < 1) *nw = 1;
    if (*nh < 1) *nh = 1;
}

static int larger(const int v[2]) { return v[0] > v[1] ? v[0] : v[1]; }

static int resize_decode_min_side(const void *config) { return larger(((const resize_config *)config)->scale); }

/* keep_ratio fits inside [long, short] limits, else the exact size: either way at most their product. */
static int64_t resize_max_pixels(const void *config, int64_t in_pixels) {
    (void)in_pixels;
    const resize_config *c = config;
    return (int64_t)c->scale[0] * c->scale[1];
}

const wb_transform_type wb_transform_resize = {
    .name = "resize",
    .schema = resize_schema,
    .config_size = sizeof(resize_config),
    .configure = resize_configure,
    .apply = resize_apply,
    .decode_min_side = resize_decode_min_side,
    .max_pixels = resize_max_pixels,
};

/* ---- letterbox (YOLO) ---- */

typedef struct letterbox_config {
    int size[2]; /* w, h */
    bool minimal;
    int stride;
    float pad_value;
    bool scale_up;
} letterbox_config;

static const wb_param_schema letterbox_schema[] = {
    WB_P_INT_LIST("size", "[640, 640]", 1, 65536, "target [width, height]"),
    WB_P_BOOL("auto", "false", "pad only up to a multiple of stride instead of the full size"),
    WB_P_INT("stride", "32", 1, 1024, "alignment of the padded size when auto = true"),
    WB_P_FLOAT("pad_value", "114", 0, 255, "value of the border"),
    WB_P_BOOL("scale_up", "true", "enlarge images smaller than the target (false: only shrink)"),
    WB_PARAM_END,
};

static wb_status letterbox_configure(void *config, const wb_params *p, char *err, size_t n) {
    letterbox_config *c = config;
    double v[2];
    if (wb_tf_float_list(p, letterbox_schema, "size", v, 2) != 2 || v[0] < 1 || v[1] < 1) {
        snprintf(err, n, "size must be [width, height], e.g. [640, 640]");
        return WB_ERR_INVALID;
    }
    c->size[0] = (int)v[0], c->size[1] = (int)v[1];
    c->minimal = wb_tf_bool(p, letterbox_schema, "auto");
    c->stride = (int)wb_tf_int(p, letterbox_schema, "stride");
    c->pad_value = (float)wb_tf_float(p, letterbox_schema, "pad_value");
    c->scale_up = wb_tf_bool(p, letterbox_schema, "scale_up");
    if (c->stride < 1) {
        snprintf(err, n, "stride must be >= 1 (got %d)", c->stride);
        return WB_ERR_INVALID;
    }
    return WB_OK;
}

/* Fits w x h (scaling up only with scale_up), YOLOv5's even border split. */
static wb_status letterbox(wb_data_sample *s, int tw, int th, bool scale_up, bool minimal, int stride, float pad_value,
                           char *err, size_t n) {
    double r = fmin((double)th / s->h, (double)tw / s->w);
    if (!scale_up && r > 1.0) r = 1.0;
    int nw = (int)lround(s->w * r), nh = (int)lround(s->h * r);
    if (nw < 1) nw = 1;
    if (nh < 1) nh = 1;
    int dw = tw - nw, dh = th - nh;
    if (minimal) dw %= stride, dh %= stride;
    /* YOLOv5 splits the border evenly, the odd pixel going right/bottom */
    int left = (int)lround(dw / 2.0 - 0.1), right = dw - left;
    int top = (int)lround(dh / 2.0 - 0.1), bottom = dh - top;
    wb_status st = wb_tf_resize_to(s, nh, nw, err, n);
    if (st == WB_OK) st = pad_sample(s, top, bottom, left, right, pad_value, err, n);
    /* the grey border is part of the network input */
    s->valid_h = s->h, s->valid_w = s->w;
    return st;
}

wb_status wb_tf_letterbox_to(wb_data_sample *s, int w, int h, float pad_value, char *err, size_t n) {
    return letterbox(s, w, h, true, false, 1, pad_value, err, n);
}

static wb_status letterbox_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err,
                                 size_t n) {
    (void)rng;
    const letterbox_config *c = config;
    /* in a rect batch, the batch's shape (see wb_rect_opts) */
    int tw = s->batch_w > 0 ? s->batch_w : c->size[0], th = s->batch_h > 0 ? s->batch_h : c->size[1];
    return letterbox(s, tw, th, c->scale_up, c->minimal, c->stride, c->pad_value, err, n);
}

void wb_tf_letterbox_target(const void *config, int *img_size, int *stride) {
    const letterbox_config *c = config;
    *img_size = larger(c->size);
    *stride = c->stride;
}

static int letterbox_decode_min_side(const void *config) {
    return larger(((const letterbox_config *)config)->size);
}

static int64_t letterbox_max_pixels(const void *config, int64_t in_pixels) {
    (void)in_pixels;
    const letterbox_config *c = config;
    return (int64_t)c->size[0] * c->size[1];
}

const wb_transform_type wb_transform_letterbox = {
    .name = "letterbox",
    .schema = letterbox_schema,
    .config_size = sizeof(letterbox_config),
    .configure = letterbox_configure,
    .apply = letterbox_apply,
    .decode_min_side = letterbox_decode_min_side,
    .max_pixels = letterbox_max_pixels,
};

/* ---- random flip ---- */

typedef struct flip_config {
    float prob;
    bool vertical;
} flip_config;

static const char *const flip_directions[] = {"horizontal", "vertical", NULL};

static const wb_param_schema flip_schema[] = {
    WB_P_FLOAT("prob", "0.5", 0, 1, "probability of flipping"),
    WB_P_CHOICE("direction", "\"horizontal\"", flip_directions, "horizontal or vertical"),
    WB_PARAM_END,
};

static wb_status flip_configure(void *config, const wb_params *p, char *err, size_t n) {
    flip_config *c = config;
    char dir[32];
    c->prob = (float)wb_tf_float(p, flip_schema, "prob");
    wb_tf_string(p, flip_schema, "direction", dir, sizeof dir);
    if (strcmp(dir, "horizontal") != 0 && strcmp(dir, "vertical") != 0) {
        snprintf(err, n, "direction must be \"horizontal\" or \"vertical\" (got \"%s\")", dir);
        return WB_ERR_INVALID;
    }
    c->vertical = strcmp(dir, "vertical") == 0;
    return WB_OK;
}

/* Reverses the order of the w pixels (px bytes each) of every row. Called
 * with a constant px so that the copies compile to plain moves. */
static inline void reverse_rows(uint8_t *img, int h, int w, size_t px) {
    uint8_t t[3 * sizeof(float)];
    for (int y = 0; y < h; y++) {
        uint8_t *row = img + (size_t)y * w * px;
        for (int a = 0, b = w - 1; a < b; a++, b--) {
            memcpy(t, row + a * px, px);
            memcpy(row + a * px, row + b * px, px);
            memcpy(row + b * px, t, px);
        }
    }
}

static void flip_horizontal(wb_data_sample *s) {
    if (s->is_float)
        reverse_rows(wb_data_sample_pixels(s), s->h, s->w, 3 * sizeof(float));
    else
        reverse_rows(wb_data_sample_pixels(s), s->h, s->w, 3);
    for (int i = 0; i < s->num_boxes; i++) {
        float *bx = s->boxes + 4 * i, x1 = bx[0];
        bx[0] = (float)s->w - bx[2];
        bx[2] = (float)s->w - x1;
    }
    s->flip_h = !s->flip_h;
}

static void flip_vertical(wb_data_sample *s) {
    uint8_t *img = wb_data_sample_pixels(s);
    size_t row = (size_t)s->w * 3 * wb_data_sample_value_size(s);
    for (int a = 0, b = s->h - 1; a < b; a++, b--)
        for (size_t k = 0; k < row; k++) {
            uint8_t t = img[a * row + k];
            img[a * row + k] = img[b * row + k];
            img[b * row + k] = t;
        }
    for (int i = 0; i < s->num_boxes; i++) {
        float *bx = s->boxes + 4 * i, y1 = bx[1];
        bx[1] = (float)s->h - bx[3];
        bx[3] = (float)s->h - y1;
    }
    s->flip_v = !s->flip_v;
}

static wb_status flip_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err, size_t n) {
    (void)err, (void)n;
    const flip_config *c = config;
    if (!wb_tf_coin(rng, c->prob)) return WB_OK;
    if (c->vertical)
        flip_vertical(s);
    else
        flip_horizontal(s);
    return WB_OK;
}

const wb_transform_type wb_transform_random_flip = {
    .name = "random_flip",
    .schema = flip_schema,
    .config_size = sizeof(flip_config),
    .configure = flip_configure,
    .apply = flip_apply,
    .scale_free = true,
};

/* ---- pad ---- */

typedef struct pad_config {
    int size_divisor;
    int size[2]; /* w, h; 0 = not fixed */
    float pad_value;
} pad_config;

static const wb_param_schema pad_schema[] = {
    WB_P_INT("size_divisor", "32", 0, 4096, "round width and height up to a multiple (0 = off)"),
    WB_P_INT_LIST("size", "[0, 0]", 0, 65536, "fixed [width, height] to pad to ([0, 0] = off)"),
    WB_P_FLOAT("pad_value", "0", -1e6, 1e6, "value of the padding"),
    WB_PARAM_END,
};

static wb_status pad_configure(void *config, const wb_params *p, char *err, size_t n) {
    pad_config *c = config;
    double v[2] = {0, 0};
    int len = wb_tf_float_list(p, pad_schema, "size", v, 2);
    if (len != 2 && len != 0) {
        snprintf(err, n, "size must be [width, height]");
        return WB_ERR_INVALID;
    }
    c->size[0] = (int)v[0], c->size[1] = (int)v[1];
    c->size_divisor = (int)wb_tf_int(p, pad_schema, "size_divisor");
    c->pad_value = (float)wb_tf_float(p, pad_schema, "pad_value");
    return WB_OK;
}

static int round_up(int v, int d) { return d > 0 ? (v + d - 1) / d * d : v; }

static wb_status pad_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err, size_t n) {
    (void)rng;
    const pad_config *c = config;
    int tw = c->size[0] > 0 ? c->size[0] : s->w, th = c->size[1] > 0 ? c->size[1] : s->h;
    if (tw < s->w || th < s->h) {
        snprintf(err, n, "image is %dx%d, larger than the fixed pad size %dx%d; resize first", s->w, s->h,
                 tw, th);
        return WB_ERR_INVALID;
    }
    tw = round_up(tw, c->size_divisor), th = round_up(th, c->size_divisor);
    int vh = s->valid_h, vw = s->valid_w;
    wb_status st = pad_sample(s, 0, th - s->h, 0, tw - s->w, c->pad_value, err, n);
    s->valid_h = vh, s->valid_w = vw;
    return st;
}

/* A fixed size; rounding up to a divisor adds a border, ignored by these lower bounds. */
static int64_t pad_max_pixels(const void *config, int64_t in_pixels) {
    const pad_config *c = config;
    int64_t fixed = (int64_t)c->size[0] * c->size[1];
    return fixed > in_pixels ? fixed : in_pixels;
}

const wb_transform_type wb_transform_pad = {
    .name = "pad",
    .schema = pad_schema,
    .config_size = sizeof(pad_config),
    .configure = pad_configure,
    .apply = pad_apply,
    .max_pixels = pad_max_pixels,
};
