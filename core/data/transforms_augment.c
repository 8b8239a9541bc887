/* random_crop (mmdet RandomCrop, absolute size): boxes are cut with the
 * pixels. random_affine lives in transforms_affine.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "transforms_types.h"

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
