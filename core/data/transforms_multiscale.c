/* random_resize: multi-scale training, one input size per BATCH. The choice
 * comes from the sample's batch_rng (a function of seed, epoch and batch
 * number, set by the loader), so every image of a batch gets the same size
 * whatever worker loads it.
 *   mmdet RandomChoiceResize: scales = [1333, 640, 1333, 800] (pairs), one
 *     pair per batch, keep_ratio as in resize;
 *   YOLOv5 --multi-scale: scales = [640, 640], ratio_range = [0.5, 1.5],
 *     size_step = 32, keep_ratio = false: a side uniform over the multiples
 *     of 32 from 320 to 960. */
#include <stdio.h>
#include "transforms_types.h"

#define MAX_SCALES 32

typedef struct random_resize_config {
    int scales[MAX_SCALES][2]; /* w, h (or long, short limits with keep_ratio) */
    int n_scales;
    float ratio[2];
    int step;
    bool keep_ratio;
} random_resize_config;

static const wb_param_schema random_resize_schema[] = {
    WB_P_INT_LIST("scales", "[1333, 800]", 1, 65536,
                  "candidate scales as consecutive pairs [w1, h1, w2, h2, ...]; one per batch"),
    WB_P_FLOAT_LIST("ratio_range", "[1, 1]", 0.01, 100,
                    "the chosen scale times a ratio drawn per batch from [lo, hi] (YOLOv5: [0.5, 1.5])"),
    WB_P_INT("size_step", "1", 1, 1024, "sizes are rounded down to a multiple of this (YOLOv5: 32)"),
    WB_P_BOOL("keep_ratio", "true", "as in resize: fit inside the scale's edge limits, else exact size"),
    WB_PARAM_END,
};

static wb_status random_resize_configure(void *config, const wb_params *p, char *err, size_t n) {
    random_resize_config *c = config;
    double v[2 * MAX_SCALES];
    int len = wb_tf_float_list(p, random_resize_schema, "scales", v, 2 * MAX_SCALES);
    if (len < 2 || len % 2 != 0 || len > 2 * MAX_SCALES) {
        snprintf(err, n, "scales must be pairs [w1, h1, w2, h2, ...] (at most %d pairs), got %d numbers",
                 MAX_SCALES, len);
        return WB_ERR_INVALID;
    }
    c->n_scales = len / 2;
    for (int i = 0; i < c->n_scales; i++) c->scales[i][0] = (int)v[2 * i], c->scales[i][1] = (int)v[2 * i + 1];
    double r[2];
    if (wb_tf_float_list(p, random_resize_schema, "ratio_range", r, 2) != 2 || r[0] > r[1]) {
        snprintf(err, n, "ratio_range must be [lo, hi] with lo <= hi");
        return WB_ERR_INVALID;
    }
    c->ratio[0] = (float)r[0], c->ratio[1] = (float)r[1];
    c->step = (int)wb_tf_int(p, random_resize_schema, "size_step");
    c->keep_ratio = wb_tf_bool(p, random_resize_schema, "keep_ratio");
    return WB_OK;
}

/* side * ratio rounded down to the step, drawn as YOLOv5 does: uniform over
 * the integers in [lo * side, hi * side + step), then floored. */
static int scaled_side(int side, const random_resize_config *c, uint64_t *rng) {
    int lo = (int)(c->ratio[0] * side), hi = (int)(c->ratio[1] * side);
    int v = c->ratio[0] == c->ratio[1] ? lo : lo + wb_tf_below(rng, hi - lo + c->step);
    v = v / c->step * c->step;
    return v < c->step ? c->step : v;
}

/* The batch's scale: the same draws for every sample of the batch. The
 * ratio is drawn on the first side; the second follows it, keeping the
 * scale's shape. */
static void batch_scale(const random_resize_config *c, uint64_t batch_rng, int out[2]) {
    uint64_t rng = batch_rng;
    const int *pick = c->scales[wb_tf_below(&rng, c->n_scales)];
    out[0] = scaled_side(pick[0], c, &rng);
    if (c->ratio[0] == 1.0f && c->ratio[1] == 1.0f) {
        out[1] = pick[1];
        return;
    }
    int h = (int)((double)pick[1] * out[0] / pick[0]) / c->step * c->step;
    out[1] = h < c->step ? c->step : h;
}

static wb_status random_resize_apply(const void *config, wb_data_sample *s, uint64_t *rng, char *err,
                                     size_t n) {
    (void)rng; /* the sample's own stream is not used: the size is the batch's */
    const random_resize_config *c = config;
    int scale[2], nw = 0, nh = 0;
    batch_scale(c, s->batch_rng, scale);
    if (c->keep_ratio)
        wb_tf_keep_ratio_size(s->w, s->h, scale, &nw, &nh);
    else
        nw = scale[0], nh = scale[1];
    return wb_tf_resize_to(s, nh, nw, err, n);
}

/* The largest side any batch may draw (scaled_side's upper end). */
static int random_resize_decode_min_side(const void *config) {
    const random_resize_config *c = config;
    int most = 0;
    for (int i = 0; i < c->n_scales; i++)
        for (int k = 0; k < 2; k++) {
            int side = (int)(c->ratio[1] * c->scales[i][k]) + c->step;
            if (side > most) most = side;
        }
    return most;
}

static int64_t random_resize_max_pixels(const void *config, int64_t in_pixels) {
    (void)in_pixels;
    const random_resize_config *c = config;
    int64_t most = 0;
    for (int i = 0; i < c->n_scales; i++) {
        int64_t w = (int64_t)(c->ratio[1] * c->scales[i][0]) + c->step, h = (int64_t)(c->ratio[1] * c->scales[i][1]) + c->step;
        if (w * h > most) most = w * h;
    }
    return most;
}

const wb_transform_type wb_transform_random_resize = {
    .name = "random_resize",
    .schema = random_resize_schema,
    .config_size = sizeof(random_resize_config),
    .configure = random_resize_configure,
    .apply = random_resize_apply,
    .decode_min_side = random_resize_decode_min_side,
    .max_pixels = random_resize_max_pixels,
};
