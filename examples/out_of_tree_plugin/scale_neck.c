/* scale_neck: a neck that multiplies every input feature map by `scale`.
 * It keeps the number, channels and strides of its inputs, so it fits
 * between any backbone and head. Built only against the installed SDK. */
#include <stdlib.h>
#include <string.h>
#include <workbench/workbench.h>

#define SCALE_NECK_MAX_LEVELS 16

typedef struct scale_neck {
    float scale;
    wb_feature_spec levels[SCALE_NECK_MAX_LEVELS];
    int n_levels;
} scale_neck;

static wb_status scale_neck_create(wb_ctx *ctx, const wb_params *params, const wb_feature_spec *in, int n_in,
                                   void **instance) {
    if (n_in > SCALE_NECK_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID, "scale_neck: %d inputs, at most %d are supported", n_in,
                        SCALE_NECK_MAX_LEVELS);
    scale_neck *n = calloc(1, sizeof(*n));
    if (!n) return wb_error(ctx, WB_ERR_NOMEM, "scale_neck: out of memory");
    n->scale = (float)ctx->host->param_float(params, "scale");
    n->n_levels = n_in;
    memcpy(n->levels, in, (size_t)n_in * sizeof(*in));
    *instance = n;
    return WB_OK;
}

static int scale_neck_output_specs(void *instance, wb_feature_spec *out, int max_out) {
    const scale_neck *n = instance;
    for (int i = 0; i < n->n_levels && i < max_out; i++) out[i] = n->levels[i];
    return n->n_levels;
}

/* Built from an SDK op, so the core derives backward by replaying the tape. */
static wb_status scale_neck_forward(void *instance, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out,
                                    int n_out) {
    const scale_neck *n = instance;
    for (int i = 0; i < n_out && i < n_in; i++) out[i] = wb_scale(ctx, in[i], n->scale);
    return wb_ok(ctx);
}

static void scale_neck_destroy(void *instance) { free(instance); }

static const wb_module_vtable scale_neck_vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = scale_neck_create,
    .output_specs = scale_neck_output_specs,
    .forward = scale_neck_forward,
    .destroy = scale_neck_destroy,
};

static const wb_param_schema scale_neck_params[] = {
    WB_P_FLOAT("scale", "1.0", -100.0, 100.0, "Factor applied to every feature map"),
    WB_PARAM_END,
};

static const wb_module_desc scale_neck_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_NECK,
    .type_name = "scale_neck",
    .summary = "Multiplies every feature map by a constant (out-of-tree example)",
    .params = scale_neck_params,
    .module = &scale_neck_vtable,
};

WB_PLUGIN_DEFINE("scale_neck", "0.1.0", "MIT", &scale_neck_desc)
