/* blur: albumentations' Blur (MMYOLO's albu_train_transforms): with
 * probability p, cv2.blur with a k x k box (k odd, drawn from blur_limit),
 * mean rounded to the nearest level, BORDER_REFLECT_101. Boxes stay. */
#include <stdlib.h>
#include "../common/albu.h"

typedef struct blur {
    double p;
    int lo, hi;
} blur;

static const wb_param_schema blur_params[] = {
    WB_P_FLOAT("p", "0.5", 0.0, 1.0, "probability of blurring a sample"),
    WB_P_INT_LIST("blur_limit", "[3, 7]", 3, 99, "[min, max] odd kernel sizes; each sample draws one"),
    WB_PARAM_END,
};

static wb_status blur_create(wb_ctx *ctx, const wb_params *params, void **instance) {
    blur b = {ctx->host->param_float(params, "p"), 0, 0};
    if (albu_blur_limit(ctx, params, &b.lo, &b.hi) != WB_OK) return wb_ok(ctx);
    blur *out = malloc(sizeof *out);
    if (!out) return wb_error(ctx, WB_ERR_NOMEM, "blur: out of memory");
    *out = b;
    *instance = out;
    return WB_OK;
}

/* Horizontal sums of k pixels (per channel), then the vertical sum of k of them. */
static wb_status box_blur(wb_ctx *ctx, uint8_t *px, int h, int w, int k) {
    int r = k / 2, area = k * k;
    int32_t *rows = malloc((size_t)h * w * 3 * sizeof *rows);
    if (!rows) return wb_error(ctx, WB_ERR_NOMEM, "blur: out of memory for a %dx%d image", w, h);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                int32_t s = 0;
                for (int d = -r; d <= r; d++) s += px[((size_t)y * w + albu_reflect101(x + d, w)) * 3 + c];
                rows[((size_t)y * w + x) * 3 + c] = s;
            }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                int32_t s = 0;
                for (int d = -r; d <= r; d++) s += rows[((size_t)albu_reflect101(y + d, h) * w + x) * 3 + c];
                /* round(s / area): area is odd, so no sum lies halfway */
                px[((size_t)y * w + x) * 3 + c] = (uint8_t)((2 * s + area) / (2 * area));
            }
    free(rows);
    return WB_OK;
}

static wb_status blur_apply(void *instance, wb_ctx *ctx, wb_transform_sample *s, wb_rng *rng) {
    const blur *b = instance;
    if (!albu_wanted(rng, b->p)) return WB_OK;
    return box_blur(ctx, s->pixels, s->height, s->width, albu_odd_kernel(rng, b->lo, b->hi));
}

static void blur_destroy(void *instance) { free(instance); }

static const wb_transform_vtable blur_vt = {sizeof blur_vt, blur_create, blur_apply, blur_destroy};

static const wb_module_desc blur_desc = {
    .struct_size = sizeof blur_desc,
    .kind = WB_KIND_TRANSFORM,
    .type_name = "blur",
    .summary = "albumentations Blur: a k x k box mean (k odd, from blur_limit) with probability p",
    .params = blur_params,
    .transform = &blur_vt,
};

WB_PLUGIN_DEFINE("blur", "0.1.0", "MIT", &blur_desc)
