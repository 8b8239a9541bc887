/* Checks shared by the RoI ops. A bad batch index would read another
 * image's features (or outside the map), so rows are checked on the host
 * before any kernel runs. */
#include "roi_common.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

bool wb_roi_check_args(wb_context *c, const char *op, const wb_tensor *feat, const wb_tensor *rois,
                       int out_h, int out_w, float spatial_scale, wb_roi_args *a) {
    char fs[96], rs[96];
    if (feat->ndim != 4) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: features %s must be 4-D [N, C, H, W]", op,
                    wb_shape_str(feat, fs, sizeof fs));
        return false;
    }
    if (rois->ndim != 2 || rois->shape[1] != 5) {
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "%s: rois %s must be [K, 5] rows of (batch index, x1, y1, x2, y2) in input pixels", op,
                    wb_shape_str(rois, rs, sizeof rs));
        return false;
    }
    if (out_h < 1 || out_w < 1) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: output size %dx%d must be at least 1x1", op, out_h, out_w);
        return false;
    }
    if (!(spatial_scale > 0.0f) || isinf(spatial_scale)) {
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "%s: spatial_scale %g must be finite and > 0 (feature size / input size, e.g. 0.25 for stride 4)",
                    op, (double)spatial_scale);
        return false;
    }
    if (feat->shape[2] * feat->shape[3] > INT32_MAX) {
        wb_ctx_fail(c, WB_ERR_UNSUPPORTED, "%s: feature plane %s has more than 2^31 elements", op,
                    wb_shape_str(feat, fs, sizeof fs));
        return false;
    }
    *a = (wb_roi_args){.n = feat->shape[0], .c = feat->shape[1], .h = feat->shape[2], .w = feat->shape[3],
                       .k = rois->shape[0], .out_h = out_h, .out_w = out_w, .spatial_scale = spatial_scale};
    return true;
}

float *wb_roi_read_rows(wb_context *c, const char *op, const wb_tensor *rois, int64_t n_images) {
    size_t bytes = (size_t)rois->numel * sizeof(float);
    float *r = malloc(bytes ? bytes : 1);
    if (!r) {
        wb_ctx_fail(c, WB_ERR_NOMEM, "%s: out of memory reading %lld rois", op, (long long)rois->shape[0]);
        return NULL;
    }
    if (bytes) c->s->backend->download(r, rois->data, bytes);
    for (int64_t k = 0; k < rois->shape[0]; k++) {
        const float *row = r + 5 * k;
        if (!(row[0] >= 0.0f && row[0] < (float)n_images && row[0] == floorf(row[0]))) {
            wb_ctx_fail(c, WB_ERR_INVALID,
                        "%s: roi %lld has batch index %g, but the features hold %lld image(s): column 0 must be "
                        "an image index in [0, %lld)",
                        op, (long long)k, (double)row[0], (long long)n_images, (long long)n_images);
            free(r);
            return NULL;
        }
        for (int j = 1; j < 5; j++) {
            if (!isfinite(row[j])) {
                wb_ctx_fail(c, WB_ERR_INVALID, "%s: roi %lld has a non-finite coordinate (%g, %g, %g, %g)", op,
                            (long long)k, (double)row[1], (double)row[2], (double)row[3], (double)row[4]);
                free(r);
                return NULL;
            }
        }
    }
    return r;
}
