/* A stage's box head on every proposal at test (see roi_classify.h). */
#include <stdlib.h>
#include <string.h>
#include "roi_classify.h"

/* Pooled features per chunk: RoIAlign's pieces, their concatenation and the
 * reordered copy are each this large at once, so the head's share of the
 * inference peak stays near 3x this instead of 3x the pooled features of
 * every proposal (2 x 1000 RoIs of 256 x 7 x 7: 98 MiB each). */
#define CHUNK_BYTES ((int64_t)32 << 20)

/* RoIs per chunk for features of `per_roi` floats each; at least 16 so that
 * the fcs' GEMMs stay efficient when RoIs are large (C4's 1024 x 14 x 14). */
static int64_t chunk_rois(int64_t per_roi) {
    int64_t n = CHUNK_BYTES / (per_roi * (int64_t)sizeof(float));
    return n > 16 ? n : 16;
}

wb_status ts_roi_classify(wb_ctx *ctx, const ts_roi_extractor *ex, wb_tensor *const *feats, const float *boxes,
                          const int64_t *counts, int n_images, ts_box_forward_fn forward, void *user, int c1, int w,
                          float *logits, float *deltas) {
    int64_t k = 0, *chunk_counts = malloc(((size_t)n_images + 1) * sizeof *chunk_counts);
    if (!chunk_counts) return wb_error(ctx, WB_ERR_NOMEM, "two-stage: out of memory classifying RoIs");
    for (int n = 0; n < n_images; n++) k += counts[n];
    const int64_t step = chunk_rois((int64_t)wb_info(ctx, feats[0]).shape[1] * ex->roi_size * ex->roi_size);
    for (int64_t a = 0; a < k && wb_ok(ctx) == WB_OK; a += step) {
        int64_t b = a + step < k ? a + step : k, first = 0;
        /* each image's share of rows [a, b) */
        for (int n = 0; n < n_images; first += counts[n], n++) {
            int64_t lo = first > a ? first : a, hi = first + counts[n] < b ? first + counts[n] : b;
            chunk_counts[n] = hi > lo ? hi - lo : 0;
        }
        wb_tensor *rois = ts_rois_of(ctx, boxes + 4 * a, chunk_counts, n_images);
        wb_tensor *pooled = ts_roi_pool(ctx, ex, feats, rois), *cls = NULL, *reg = NULL;
        wb_release(ctx, rois);
        if (forward(user, ctx, pooled, &cls, &reg) != WB_OK) break;
        wb_release(ctx, pooled);
        const float *c = wb_map(ctx, cls), *r = wb_map(ctx, reg);
        if (wb_ok(ctx) != WB_OK) break;
        memcpy(logits + (size_t)a * (size_t)c1, c, (size_t)(b - a) * (size_t)c1 * sizeof(float));
        memcpy(deltas + (size_t)a * (size_t)w, r, (size_t)(b - a) * (size_t)w * sizeof(float));
        wb_release(ctx, cls);
        wb_release(ctx, reg);
    }
    free(chunk_counts);
    return wb_ok(ctx);
}
