/* median_blur: albumentations' MedianBlur: with probability p, cv2.medianBlur
 * with a k x k window (k odd, drawn from blur_limit), BORDER_REPLICATE as
 * OpenCV's. Each row slides a 256-bin histogram per channel and moves the
 * median up or down as columns enter and leave (Huang's method), so a
 * pixel costs O(k), not a sort of k^2 values. Boxes stay. */
#include <stdlib.h>
#include <string.h>
#include "../common/albu.h"

typedef struct median_blur {
    double p;
    int lo, hi;
} median_blur;

static const wb_param_schema median_params[] = {
    WB_P_FLOAT("p", "0.5", 0.0, 1.0, "probability of filtering a sample"),
    WB_P_INT_LIST("blur_limit", "[3, 7]", 3, 99, "[min, max] odd window sizes; each sample draws one"),
    WB_PARAM_END,
};

static wb_status median_create(wb_ctx *ctx, const wb_params *params, void **instance) {
    median_blur m = {ctx->host->param_float(params, "p"), 0, 0};
    if (albu_blur_limit(ctx, params, &m.lo, &m.hi) != WB_OK) return wb_ok(ctx);
    median_blur *out = malloc(sizeof *out);
    if (!out) return wb_error(ctx, WB_ERR_NOMEM, "median_blur: out of memory");
    *out = m;
    *instance = out;
    return WB_OK;
}

/* One channel's window histogram and its running median. */
typedef struct window {
    int hist[256];
    int median, below; /* below: how many values are < median */
} window;

/* Adds (+1) or removes (-1) column x's k values of channel c. */
static void column(window *win, const uint8_t *src, int h, int w, int y, int x, int r, int c, int sign) {
    int xs = albu_replicate(x, w);
    for (int d = -r; d <= r; d++) {
        int v = src[((size_t)albu_replicate(y + d, h) * w + xs) * 3 + c];
        win->hist[v] += sign;
        if (v < win->median) win->below += sign;
    }
}

/* Moves the median to the value at sorted position half (the window's middle). */
static void settle(window *win, int half) {
    while (win->below > half) win->below -= win->hist[--win->median];
    while (win->below + win->hist[win->median] <= half) win->below += win->hist[win->median++];
}

static wb_status median_filter(wb_ctx *ctx, uint8_t *px, int h, int w, int k) {
    int r = k / 2, half = k * k / 2;
    uint8_t *src = malloc((size_t)h * w * 3);
    if (!src) return wb_error(ctx, WB_ERR_NOMEM, "median_blur: out of memory for a %dx%d image", w, h);
    memcpy(src, px, (size_t)h * w * 3);
    for (int y = 0; y < h; y++)
        for (int c = 0; c < 3; c++) {
            window win = {{0}, 0, 0};
            for (int x = -r; x <= r; x++) column(&win, src, h, w, y, x, r, c, +1);
            for (int x = 0; x < w; x++) {
                if (x > 0) {
                    column(&win, src, h, w, y, x - r - 1, r, c, -1);
                    column(&win, src, h, w, y, x + r, r, c, +1);
                }
                settle(&win, half);
                px[((size_t)y * w + x) * 3 + c] = (uint8_t)win.median;
            }
        }
    free(src);
    return WB_OK;
}

static wb_status median_apply(void *instance, wb_ctx *ctx, wb_transform_sample *s, wb_rng *rng) {
    const median_blur *m = instance;
    if (!albu_wanted(rng, m->p)) return WB_OK;
    return median_filter(ctx, s->pixels, s->height, s->width, albu_odd_kernel(rng, m->lo, m->hi));
}

static void median_destroy(void *instance) { free(instance); }

static const wb_transform_vtable median_vt = {sizeof median_vt, median_create, median_apply, median_destroy};

static const wb_module_desc median_desc = {
    .struct_size = sizeof median_desc,
    .kind = WB_KIND_TRANSFORM,
    .type_name = "median_blur",
    .summary = "albumentations MedianBlur: a k x k median (k odd, from blur_limit) with probability p",
    .params = median_params,
    .transform = &median_vt,
};

WB_PLUGIN_DEFINE("median_blur", "0.1.0", "MIT", &median_desc)
