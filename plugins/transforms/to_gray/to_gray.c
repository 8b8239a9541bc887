/* to_gray: albumentations' ToGray: with probability p, each pixel becomes
 * its luma in all three channels, as cv2.cvtColor RGB2GRAY then GRAY2RGB
 * (0.299 R + 0.587 G + 0.114 B in OpenCV's 14-bit fixed point). Boxes stay. */
#include <stdlib.h>
#include "../common/albu.h"

static const wb_param_schema to_gray_params[] = {
    WB_P_FLOAT("p", "0.5", 0.0, 1.0, "probability of turning a sample grey"),
    WB_PARAM_END,
};

static wb_status to_gray_create(wb_ctx *ctx, const wb_params *params, void **instance) {
    double *p = malloc(sizeof *p);
    if (!p) return wb_error(ctx, WB_ERR_NOMEM, "to_gray: out of memory");
    *p = ctx->host->param_float(params, "p");
    *instance = p;
    return WB_OK;
}

static wb_status to_gray_apply(void *instance, wb_ctx *ctx, wb_transform_sample *s, wb_rng *rng) {
    (void)ctx;
    if (!albu_wanted(rng, *(const double *)instance)) return WB_OK;
    size_t n = (size_t)s->height * s->width;
    for (uint8_t *px = s->pixels; n--; px += 3) {
        uint8_t y = (uint8_t)((px[0] * 4899 + px[1] * 9617 + px[2] * 1868 + (1 << 13)) >> 14);
        px[0] = px[1] = px[2] = y;
    }
    return WB_OK;
}

static void to_gray_destroy(void *instance) { free(instance); }

static const wb_transform_vtable to_gray_vt = {sizeof to_gray_vt, to_gray_create, to_gray_apply, to_gray_destroy};

static const wb_module_desc to_gray_desc = {
    .struct_size = sizeof to_gray_desc,
    .kind = WB_KIND_TRANSFORM,
    .type_name = "to_gray",
    .summary = "albumentations ToGray: the luma in every channel with probability p",
    .params = to_gray_params,
    .transform = &to_gray_vt,
};

WB_PLUGIN_DEFINE("to_gray", "0.1.0", "MIT", &to_gray_desc)
