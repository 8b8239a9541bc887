/* mixup (YOLOv5 utils.augmentations.mixup): with probability `prob` the
 * sample is blended with another one drawn from the dataset, run through
 * the same steps before this one (so after a mosaic + affine it is another
 * mosaic), with a ratio r ~ Beta(alpha, beta): img = r * img + (1 - r) *
 * other. The boxes of both are kept. */
#include <math.h>
#include <stdio.h>
#include "../runtime/context.h"
#include "transforms_types.h"

typedef struct mixup_config {
    float prob, alpha, beta;
} mixup_config;

static const wb_param_schema mixup_schema[] = {
    WB_P_FLOAT("prob", "0.1", 0, 1, "probability of blending (YOLOv5 hyp.mixup)"),
    WB_P_FLOAT("alpha", "32", 0.01, 1e4, "first shape of the Beta distribution of the ratio"),
    WB_P_FLOAT("beta", "32", 0.01, 1e4, "second shape of the Beta distribution of the ratio"),
    WB_PARAM_END,
};

static wb_status mixup_configure(void *config, const wb_params *p, char *err, size_t n) {
    (void)err, (void)n;
    mixup_config *c = config;
    c->prob = (float)wb_tf_float(p, mixup_schema, "prob");
    c->alpha = (float)wb_tf_float(p, mixup_schema, "alpha");
    c->beta = (float)wb_tf_float(p, mixup_schema, "beta");
    return WB_OK;
}

/* Gamma(a, 1) by Marsaglia and Tsang (2000); a < 1 through the boost
 * Gamma(a) = Gamma(a + 1) * U^(1/a). */
static double gamma_draw(uint64_t *rng, double a) {
    if (a < 1.0) {
        double u = 1.0 - wb_rng_uniform(rng); /* (0, 1]: log-safe */
        return gamma_draw(rng, a + 1.0) * pow(u, 1.0 / a);
    }
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
    for (;;) {
        double x = wb_rng_normal(rng), v = 1.0 + c * x;
        if (v <= 0.0) continue;
        v = v * v * v;
        double u = 1.0 - wb_rng_uniform(rng);
        if (log(u) < 0.5 * x * x + d - d * v + d * log(v)) return d * v;
    }
}

float wb_tf_beta(uint64_t *rng, float alpha, float beta) {
    double x = gamma_draw(rng, alpha), y = gamma_draw(rng, beta);
    return (float)(x / (x + y));
}

/* YOLOv5's order of draws: the coin first, so the other sample (a whole
 * mosaic) is only loaded when the blend happens. */
static bool mixup_wanted(const void *config, uint64_t *rng) {
    return wb_tf_coin(rng, ((const mixup_config *)config)->prob);
}

static wb_status mixup_apply(const void *config, wb_data_sample *s, wb_data_sample *const *extra,
                             uint64_t *rng, char *err, size_t n) {
    const mixup_config *c = config;
    wb_data_sample *o = extra[0];
    float r = wb_tf_beta(rng, c->alpha, c->beta);
    if (o->w != s->w || o->h != s->h) {
        snprintf(err, n,
                 "the other sample is %dx%d but this one is %dx%d; put mixup after steps that give every "
                 "sample the same size (mosaic + random_affine size, letterbox)",
                 o->w, o->h, s->w, s->h);
        return WB_ERR_INVALID;
    }
    /* blended in float: the ratio's fractions are kept; 8-bit input is widened once */
    if (!wb_data_sample_reserve_boxes(s, s->num_boxes + o->num_boxes) || !wb_data_sample_to_float(s) ||
        !wb_data_sample_to_float(o)) {
        snprintf(err, n, "out of memory for a %dx%d blend with %d boxes", s->w, s->h, s->num_boxes + o->num_boxes);
        return WB_ERR_NOMEM;
    }
    size_t count = (size_t)s->h * s->w * 3;
    for (size_t i = 0; i < count; i++) s->img[i] = r * s->img[i] + (1.0f - r) * o->img[i];
    for (int i = 0; i < o->num_boxes; i++) {
        for (int k = 0; k < 4; k++) s->boxes[4 * (s->num_boxes + i) + k] = o->boxes[4 * i + k];
        s->labels[s->num_boxes + i] = o->labels[i];
        s->ignore[s->num_boxes + i] = o->ignore[i];
    }
    s->num_boxes += o->num_boxes;
    return WB_OK;
}

const wb_transform_type wb_transform_mixup = {
    .name = "mixup",
    .schema = mixup_schema,
    .config_size = sizeof(mixup_config),
    .configure = mixup_configure,
    .extra_samples = 1,
    .wanted = mixup_wanted,
    .apply_multi = mixup_apply,
};
