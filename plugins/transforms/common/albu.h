/* What the in-tree transform plugins share (compiled into each, never a
 * library): albumentations' probability `p` and its odd kernel sizes, and
 * OpenCV's default border. Header-only: SDK types, no core symbol. */
#ifndef WB_PLUGINS_TRANSFORMS_ALBU_H
#define WB_PLUGINS_TRANSFORMS_ALBU_H

#include <workbench/workbench.h>

/* albumentations applies a transform when random() < p. */
static inline int albu_wanted(wb_rng *rng, double p) { return wb_rng_uniform01(rng) < p; }

/* blur_limit = [lo, hi]: a kernel size drawn uniformly from the odd numbers of [lo, hi]. */
static inline int albu_odd_kernel(wb_rng *rng, int lo, int hi) { return lo + 2 * wb_rng_below(rng, (hi - lo) / 2 + 1); }

/* Reads and checks blur_limit: two odd sizes >= 3, lo <= hi. */
static inline wb_status albu_blur_limit(wb_ctx *ctx, const wb_params *p, int *lo, int *hi) {
    const wb_host_api *h = ctx->host;
    if (h->param_list_len(p, "blur_limit") != 2)
        return wb_error(ctx, WB_ERR_INVALID, "blur_limit must be [min, max] kernel sizes, e.g. [3, 7]");
    *lo = (int)h->param_int_at(p, "blur_limit", 0), *hi = (int)h->param_int_at(p, "blur_limit", 1);
    if (*lo < 3 || *lo % 2 == 0 || *hi % 2 == 0 || *lo > *hi)
        return wb_error(ctx, WB_ERR_INVALID, "blur_limit [%d, %d]: both sizes must be odd, at least 3, min <= max",
                        *lo, *hi);
    return WB_OK;
}

/* OpenCV's BORDER_REFLECT_101 (gfedcb|abcdefgh|gfedcba) for any offset, also past a small image. */
static inline int albu_reflect101(int i, int n) {
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * n - 2 - i;
    return i;
}

/* OpenCV's BORDER_REPLICATE (aaaaaa|abcdefgh|hhhhhhh). */
static inline int albu_replicate(int i, int n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

#endif
