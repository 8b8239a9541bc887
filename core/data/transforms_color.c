/* Colour transforms: normalize, mmdet's photometric distortion and YOLO's
 * HSV gains. They touch pixels only; boxes and the mapping record stay. */
#include <stdio.h>
#include "../config/config_tree.h"
#include "../config/params.h"
#include "../runtime/log.h"
#include "hsv.h"
#include "transforms_types.h"

static float clamp255(float v) { return v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v); }

/* ---- normalize ---- */

typedef struct normalize_config {
    float mean[3], inv_std[3];
    bool to_rgb;
} normalize_config;

static const wb_param_schema normalize_schema[] = {
    WB_P_FLOAT_LIST("mean", "[123.675, 116.28, 103.53]", -1e6, 1e6, "per-channel mean, in output order"),
    WB_P_FLOAT_LIST("std", "[58.395, 57.12, 57.375]", 1e-6, 1e6, "per-channel std, in output order"),
    WB_P_BOOL("to_rgb", "true", "output RGB (true) or BGR for caffe-style weights (false)"),
    WB_PARAM_END,
};

/* torchvision's Normalize (0.485, ... / 0.229, ...) works on 0-1 tensors; pixels
 * here are 0-255, so those values pass validation yet feed the model inputs
 * around 1000 instead of around 1: say so, with the values to write. */
static void warn_unit_range(const wb_params *p, const double mean[3], const double std[3]) {
    for (int i = 0; i < 3; i++)
        if (!(mean[i] < 1.0 && std[i] < 1.0)) return;
    char where[256] = "normalize", at[512] = "";
    const char *file = p ? config_setting_source_file(p->group) : NULL;
    if (p) wb_tree_path(p->group, where, sizeof where);
    if (file) snprintf(at, sizeof at, "%s:%u: ", file, config_setting_source_line(p->group));
    char key[300];
    snprintf(key, sizeof key, "normalize-0-1 %s", where);
    wb_log_once(key, WB_LOG_WARN, "config",
                "%s%s: normalize mean [%g, %g, %g] and std [%g, %g, %g] are all below 1, values for 0-1 pixels "
                "(torchvision's), but pixels here are 0-255: the model would see inputs about 255 times too large. "
                "Multiply both by 255: mean = [%g, %g, %g]; std = [%g, %g, %g];",
                at, where, mean[0], mean[1], mean[2], std[0], std[1], std[2], 255 * mean[0], 255 * mean[1],
                255 * mean[2], 255 * std[0], 255 * std[1], 255 * std[2]);
}

static wb_status normalize_configure(void *config, const wb_params *p, char *err, size_t n) {
    normalize_config *c = config;
    double mean[3], std[3];
    if (wb_tf_float_list(p, normalize_schema, "mean", mean, 3) != 3 ||
        wb_tf_float_list(p, normalize_schema, "std", std, 3) != 3) {
        snprintf(err, n, "mean and std need 3 values each");
        return WB_ERR_INVALID;
    }
    for (int i = 0; i < 3; i++) {
        if (!(std[i] > 0.0)) {
            snprintf(err, n, "std[%d] is %g; it must be > 0", i, std[i]);
            return WB_ERR_INVALID;
        }
        c->mean[i] = (float)mean[i];
        c->inv_std[i] = (float)(1.0 / std[i]);
    }
    c->to_rgb = wb_tf_bool(p, normalize_schema, "to_rgb");
    warn_unit_range(p, mean, std);
    return WB_OK;
}

/* (value - mean) / std for every pixel; output channel k reads input channel
 * k, or 2 - k when `first` is 2 (RGB -> BGR). Inlined with a constant
 * `first` so that the loops vectorize. */
static inline void normalize_bytes(const uint8_t *restrict in, float *restrict out, size_t px,
                                   const normalize_config *c, int first) {
    const float m0 = c->mean[0], m1 = c->mean[1], m2 = c->mean[2];
    const float s0 = c->inv_std[0], s1 = c->inv_std[1], s2 = c->inv_std[2];
    for (size_t i = 0; i < px; i++) {
        const uint8_t *p = in + 3 * i;
        out[3 * i] = ((float)p[first] - m0) * s0;
        out[3 * i + 1] = ((float)p[1] - m1) * s1;
        out[3 * i + 2] = ((float)p[2 - first] - m2) * s2;
    }
}

static inline void normalize_floats(float *img, size_t px, const normalize_config *c, int first) {
    const float m0 = c->mean[0], m1 = c->mean[1], m2 = c->mean[2];
    const float s0 = c->inv_std[0], s1 = c->inv_std[1], s2 = c->inv_std[2];
    for (size_t i = 0; i < px; i++) {
        float *p = img + 3 * i, a = p[first], g = p[1], b = p[2 - first];
        p[0] = (a - m0) * s0, p[1] = (g - m1) * s1, p[2] = (b - m2) * s2;
    }
}

static wb_status normalize_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err,
                                 size_t n) {
    (void)rng;
    const normalize_config *c = config;
    size_t px = (size_t)s->h * s->w;
    /* samples are RGB; mmdet's to_rgb=false configs expect BGR channels */
    if (s->is_float) {
        if (c->to_rgb)
            normalize_floats(s->img, px, c, 0);
        else
            normalize_floats(s->img, px, c, 2);
        return WB_OK;
    }
    /* 8-bit pixels are widened and normalized in one pass */
    float *out = wb_data_sample_float_target(s, s->h, s->w);
    if (!out) {
        snprintf(err, n, "out of memory for a %dx%d float image", s->w, s->h);
        return WB_ERR_NOMEM;
    }
    if (c->to_rgb)
        normalize_bytes(s->img8, out, px, c, 0);
    else
        normalize_bytes(s->img8, out, px, c, 2);
    wb_data_sample_swap_float(s, s->h, s->w);
    return WB_OK;
}

const wb_transform_type wb_transform_normalize = {
    .name = "normalize",
    .schema = normalize_schema,
    .config_size = sizeof(normalize_config),
    .configure = normalize_configure,
    .apply = normalize_apply,
    .scale_free = true,
};

/* ---- photometric distortion (mmdet PhotoMetricDistortion) ---- */

typedef struct photometric_config {
    float brightness_delta, contrast[2], saturation[2], hue_delta;
} photometric_config;

static const wb_param_schema photometric_schema[] = {
    WB_P_FLOAT("brightness_delta", "32", 0, 255, "add uniform(-d, d) with probability 0.5"),
    WB_P_FLOAT_LIST("contrast_range", "[0.5, 1.5]", 0, 10, "multiply by uniform(lo, hi), p = 0.5"),
    WB_P_FLOAT_LIST("saturation_range", "[0.5, 1.5]", 0, 10, "scale HSV saturation, p = 0.5"),
    WB_P_FLOAT("hue_delta", "18", 0, 180, "shift hue by uniform(-d, d) degrees, p = 0.5"),
    WB_PARAM_END,
};

static wb_status read_range(const wb_params *p, const char *key, float *out, char *err, size_t n) {
    double v[2];
    if (wb_tf_float_list(p, photometric_schema, key, v, 2) != 2 || v[0] > v[1]) {
        snprintf(err, n, "%s must be [lo, hi] with lo <= hi", key);
        return WB_ERR_INVALID;
    }
    out[0] = (float)v[0], out[1] = (float)v[1];
    return WB_OK;
}

static wb_status photometric_configure(void *config, const wb_params *p, char *err, size_t n) {
    photometric_config *c = config;
    c->brightness_delta = (float)wb_tf_float(p, photometric_schema, "brightness_delta");
    c->hue_delta = (float)wb_tf_float(p, photometric_schema, "hue_delta");
    wb_status st = read_range(p, "contrast_range", c->contrast, err, n);
    if (st == WB_OK) st = read_range(p, "saturation_range", c->saturation, err, n);
    return st;
}

static void add_and_scale(wb_data_sample *s, float add, float mul) {
    size_t n = (size_t)s->h * s->w * 3;
    for (size_t i = 0; i < n; i++) s->img[i] = clamp255((s->img[i] + add) * mul);
}

/* Multiplies hue (then wraps), saturation and value by the gains and adds
 * hue_shift degrees, on the pixels as they are (8-bit or float). */
static void scale_hsv(wb_data_sample *s, float hue_gain, float hue_shift, float sat_gain, float val_gain) {
    const wb_hsv_gains g = {hue_gain, hue_shift, sat_gain, val_gain};
    size_t px = (size_t)s->h * s->w;
    if (s->is_float)
        wb_hsv_scale_f32(s->img, px, &g);
    else
        wb_hsv_scale_u8(s->img8, px, &g);
}

static wb_status photometric_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err,
                                   size_t n) {
    const photometric_config *c = config;
    /* brightness and contrast leave fractions that the HSV step should see */
    if (!wb_data_sample_to_float(s)) {
        snprintf(err, n, "out of memory for a %dx%d float image", s->w, s->h);
        return WB_ERR_NOMEM;
    }
    /* Same draws in the same order as mmdet; values are clipped to 0..255
     * (mmdet lets them run past, which makes the HSV step ill-defined). */
    if (wb_tf_coin(rng, 0.5f))
        add_and_scale(s, wb_tf_uniform(rng, -c->brightness_delta, c->brightness_delta), 1.0f);
    bool contrast_first = wb_tf_coin(rng, 0.5f);
    if (contrast_first && wb_tf_coin(rng, 0.5f))
        add_and_scale(s, 0.0f, wb_tf_uniform(rng, c->contrast[0], c->contrast[1]));
    float sat = wb_tf_coin(rng, 0.5f) ? wb_tf_uniform(rng, c->saturation[0], c->saturation[1]) : 1.0f;
    float hue = wb_tf_coin(rng, 0.5f) ? wb_tf_uniform(rng, -c->hue_delta, c->hue_delta) : 0.0f;
    if (sat != 1.0f || hue != 0.0f) scale_hsv(s, 1.0f, hue, sat, 1.0f);
    if (!contrast_first && wb_tf_coin(rng, 0.5f))
        add_and_scale(s, 0.0f, wb_tf_uniform(rng, c->contrast[0], c->contrast[1]));
    return WB_OK;
}

const wb_transform_type wb_transform_photometric = {
    .name = "photometric_distortion",
    .schema = photometric_schema,
    .config_size = sizeof(photometric_config),
    .configure = photometric_configure,
    .apply = photometric_apply,
    .scale_free = true,
};

/* ---- YOLO HSV gains (ultralytics augment_hsv) ---- */

typedef struct yolo_hsv_config {
    float gain[3];
} yolo_hsv_config;

static const wb_param_schema yolo_hsv_schema[] = {
    WB_P_FLOAT("hgain", "0.015", 0, 1, "hue multiplied by 1 + uniform(-g, g)"),
    WB_P_FLOAT("sgain", "0.7", 0, 1, "saturation multiplied by 1 + uniform(-g, g)"),
    WB_P_FLOAT("vgain", "0.4", 0, 1, "value multiplied by 1 + uniform(-g, g)"),
    WB_PARAM_END,
};

static wb_status yolo_hsv_configure(void *config, const wb_params *p, char *err, size_t n) {
    (void)err, (void)n;
    yolo_hsv_config *c = config;
    c->gain[0] = (float)wb_tf_float(p, yolo_hsv_schema, "hgain");
    c->gain[1] = (float)wb_tf_float(p, yolo_hsv_schema, "sgain");
    c->gain[2] = (float)wb_tf_float(p, yolo_hsv_schema, "vgain");
    return WB_OK;
}

static wb_status yolo_hsv_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err, size_t n) {
    (void)err, (void)n;
    const yolo_hsv_config *c = config;
    float r[3];
    for (int k = 0; k < 3; k++) r[k] = 1.0f + wb_tf_uniform(rng, -c->gain[k], c->gain[k]);
    scale_hsv(s, r[0], 0.0f, r[1], r[2]);
    return WB_OK;
}

const wb_transform_type wb_transform_yolo_hsv = {
    .name = "yolo_hsv",
    .schema = yolo_hsv_schema,
    .config_size = sizeof(yolo_hsv_config),
    .configure = yolo_hsv_configure,
    .apply = yolo_hsv_apply,
    .scale_free = true,
};
