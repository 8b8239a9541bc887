/* tp_solarize: albumentations' Solarize as a transform plugin, written
 * outside the workbench tree against the installed SDK only. With
 * probability p, every channel value at or above `threshold` becomes
 * 255 - value. Pixels change in place; boxes do not move. */
#include <stdlib.h>
#include <workbench/workbench.h>

typedef struct solarize {
    double p;
    int threshold;
} solarize;

static const wb_param_schema solarize_params[] = {
    WB_P_FLOAT("p", "0.5", 0.0, 1.0, "probability of solarizing a sample"),
    WB_P_INT("threshold", "128", 0, 256, "values at or above it are inverted (256: none)"),
    WB_PARAM_END,
};

/* Once per pipeline step, on the main thread: the instance is read-only afterwards. */
static wb_status solarize_create(wb_ctx *ctx, const wb_params *params, void **instance) {
    solarize *s = malloc(sizeof *s);
    if (!s) return wb_error(ctx, WB_ERR_NOMEM, "tp_solarize: out of memory");
    s->p = ctx->host->param_float(params, "p");
    s->threshold = (int)ctx->host->param_int(params, "threshold");
    *instance = s;
    return WB_OK;
}

/* Several loader threads at once: only the sample and the stream are this call's own. */
static wb_status solarize_apply(void *instance, wb_ctx *ctx, wb_transform_sample *sample, wb_rng *rng) {
    (void)ctx;
    const solarize *s = instance;
    if (wb_rng_uniform01(rng) >= s->p) return WB_OK;
    size_t n = (size_t)sample->height * sample->width * 3;
    for (size_t i = 0; i < n; i++)
        if (sample->pixels[i] >= s->threshold) sample->pixels[i] = (uint8_t)(255 - sample->pixels[i]);
    return WB_OK;
}

static void solarize_destroy(void *instance) { free(instance); }

static const wb_transform_vtable solarize_vt = {
    sizeof(wb_transform_vtable), solarize_create, solarize_apply, solarize_destroy,
};

static const wb_module_desc solarize_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_TRANSFORM,
    .type_name = "tp_solarize",
    .summary = "albumentations Solarize: values >= threshold inverted, with probability p",
    .params = solarize_params,
    .transform = &solarize_vt,
};

WB_PLUGIN_DEFINE("tp_solarize", "0.1.0", "MIT", &solarize_desc)
