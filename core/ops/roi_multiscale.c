/* multiscale_roi_align front-end: each RoI pooled from the level its size
 * maps to (torchvision's MultiScaleRoIAlign or mmdetection's
 * SingleRoIExtractor rule). Built from the recorded ops themselves: one
 * roi_align (or roi_pool) per level on that level's RoIs, the pieces
 * concatenated and put back in the order of rois with index_select, so the
 * backward comes for free and no RoI is padded. At inference over blocked
 * features each level pools straight into its RoIs' rows instead. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include "ops.h"
#include "roi_common.h"
#include "../backends/kernels_layout.h"
#include "../runtime/host_tensors.h"

#define MAX_LEVELS 16

static const char OP[] = "multiscale_roi_align";

static bool check_levels(wb_context *c, wb_tensor *const *feats, int n_levels, const float *scales,
                         const wb_roi_levels *lv) {
    if (!feats || !scales || !lv) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: feats, spatial_scales and the level rule must not be NULL "
                    "(use wb_roi_levels_torchvision() or wb_roi_levels_mmdet())", OP);
        return false;
    }
    if (n_levels < 1 || n_levels > MAX_LEVELS) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: n_levels %d must be in 1..%d", OP, n_levels, MAX_LEVELS);
        return false;
    }
    if (lv->struct_size < sizeof(wb_roi_levels)) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: wb_roi_levels.struct_size %u is smaller than %zu (initialize it "
                    "with wb_roi_levels_torchvision() or wb_roi_levels_mmdet())", OP, lv->struct_size,
                    sizeof(wb_roi_levels));
        return false;
    }
    if (lv->mapping == WB_ROI_LEVELS_TORCHVISION) {
        if (!(lv->canonical_scale > 0.0f) || isinf(lv->canonical_scale)) {
            wb_ctx_fail(c, WB_ERR_INVALID, "%s: canonical_scale %g must be finite and > 0 (torchvision: 224)", OP,
                        (double)lv->canonical_scale);
            return false;
        }
        /* LevelMapper numbers level i as k_min + i, k = -log2(scale). */
        float k_min = roundf(-log2f(scales[0]));
        for (int i = 0; i < n_levels; i++) {
            if (!(fabsf(-log2f(scales[i]) - (k_min + (float)i)) < 1e-4f)) {
                wb_ctx_fail(c, WB_ERR_INVALID,
                            "%s: the torchvision level rule needs scales 2^-k, 2^-(k+1), ... from finest to "
                            "coarsest, but spatial_scales[%d] is %g (expected %g)",
                            OP, i, (double)scales[i], (double)exp2f(-(k_min + (float)i)));
                return false;
            }
        }
    } else if (lv->mapping == WB_ROI_LEVELS_MMDET) {
        if (!(lv->finest_scale > 0.0f) || isinf(lv->finest_scale)) {
            wb_ctx_fail(c, WB_ERR_INVALID, "%s: finest_scale %g must be finite and > 0 (mmdetection: 56)", OP,
                        (double)lv->finest_scale);
            return false;
        }
    } else {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: unknown level mapping %d (WB_ROI_LEVELS_TORCHVISION = 0 or "
                    "WB_ROI_LEVELS_MMDET = 1)", OP, lv->mapping);
        return false;
    }
    /* each level's roi_align takes its features in either layout */
    if (!wb_ctx_check_inputs_any_layout(c, OP, feats, n_levels)) return false;
    for (int i = 0; i < n_levels; i++) {
        char s0[96], si[96];
        if (feats[i]->ndim != 4 || feats[i]->shape[0] != feats[0]->shape[0] ||
            feats[i]->shape[1] != feats[0]->shape[1]) {
            wb_ctx_fail(c, WB_ERR_INVALID, "%s: level %d features %s must be [N, C, H, W] with the N and C of "
                        "level 0 %s", OP, i, wb_shape_str(feats[i], si, sizeof si),
                        wb_shape_str(feats[0], s0, sizeof s0));
            return false;
        }
    }
    return true;
}

/* The level of one RoI, 0 = finest. A box with no area (or inverted sides)
 * goes to the finest level, where log2(0) = -inf lands after clamping. */
static int level_of(const float *row, int n_levels, const float *scales, const wb_roi_levels *lv) {
    float area = (row[3] - row[1]) * (row[4] - row[2]);
    float s = sqrtf(area);
    if (!(area > 0.0f)) return 0;
    float lvl;
    if (lv->mapping == WB_ROI_LEVELS_TORCHVISION) {
        float k_min = roundf(-log2f(scales[0]));
        lvl = floorf((float)lv->canonical_level + log2f(s / lv->canonical_scale) + 1e-6f) - k_min;
    } else {
        lvl = floorf(log2f(s / lv->finest_scale + 1e-6f));
    }
    return lvl < 0.0f ? 0 : (lvl > (float)(n_levels - 1) ? n_levels - 1 : (int)lvl);
}

static wb_tensor *pool_level(wb_ctx *ctx, wb_tensor *feat, wb_tensor *rois, int out_h, int out_w, float scale,
                             int sampling_ratio, int aligned, const wb_roi_levels *lv) {
    if (lv->use_roi_pool) return wb_op_roi_pool(ctx, feat, rois, out_h, out_w, scale);
    return wb_op_roi_align(ctx, feat, rois, out_h, out_w, scale, sampling_ratio, aligned);
}

/* Every RoI's level (NULL with the ctx error without memory). */
static int *levels_of(wb_context *c, const float *rows, int64_t k, int n_levels, const float *scales,
                      const wb_roi_levels *lv) {
    int *level = malloc((size_t)k * sizeof *level);
    if (!level) {
        wb_ctx_fail(c, WB_ERR_NOMEM, "%s: out of memory for %lld rois", OP, (long long)k);
        return NULL;
    }
    for (int64_t r = 0; r < k; r++) level[r] = level_of(rows + 5 * r, n_levels, scales, lv);
    return level;
}

/* Level l's RoIs: their rows into level_rows, and at[j] = the row in rois
 * of the j-th; returns how many. */
static int64_t gather_level(const float *rows, const int *level, int64_t k, int l, float *level_rows, int64_t *at) {
    int64_t n_l = 0;
    for (int64_t r = 0; r < k; r++) {
        if (level[r] != l) continue;
        for (int j = 0; j < 5; j++) level_rows[5 * n_l + j] = rows[5 * r + j];
        at[n_l++] = r;
    }
    return n_l;
}

/* At inference over blocked features (the FPN's outputs), where the layout
 * kernel pools each level's RoIs straight into their rows of the output:
 * no pieces to concatenate and put back in order (Faster R-CNN: 2 x 100 MB
 * of copies per batch of 2). */
static bool pools_in_place(wb_context *c, wb_tensor *const *feats, int n_levels, const wb_roi_levels *lv) {
    if (lv->use_roi_pool || wb_tape_needed(c, feats, n_levels)) return false;
    for (int l = 0; l < n_levels; l++)
        if (!feats[l]->blocked) return false;
    return true;
}

static wb_tensor *pool_in_place(wb_ctx *ctx, wb_tensor *const *feats, int n_levels, const float *scales,
                                wb_tensor *rois, const float *rows, int64_t k, int out_h, int out_w,
                                int sampling_ratio, int aligned, const wb_roi_levels *lv, float *level_rows) {
    wb_context *c = wb_ctx_impl(ctx);
    int64_t shape[4] = {k, feats[0]->shape[1], out_h, out_w};
    wb_tensor *y = wb_ctx_tensor_uninit(c, 4, shape);
    int *level = y ? levels_of(c, rows, k, n_levels, scales, lv) : NULL;
    int64_t *at = level ? malloc((size_t)k * sizeof *at) : NULL;
    if (level && !at) wb_ctx_fail(c, WB_ERR_NOMEM, "%s: out of memory for %lld rois", OP, (long long)k);
    for (int l = 0; at && l < n_levels; l++) {
        int64_t n_l = gather_level(rows, level, k, l, level_rows, at);
        wb_roi_args a;
        if (n_l == 0 || !wb_roi_check_args(c, OP, feats[l], rois, out_h, out_w, scales[l], &a)) continue;
        a.k = n_l, a.sampling_ratio = sampling_ratio, a.aligned = aligned != 0;
        int64_t rois_shape[2] = {n_l, 5};
        wb_tensor *rois_l = wb_host_tensor_from_host(ctx, 2, rois_shape, level_rows);
        if (!rois_l) break;
        c->s->backend->layout->roi_align_forward(feats[l]->data, rois_l->data, &a, at, y->data);
        wb_host_tensor_release(ctx, rois_l);
    }
    free(level);
    free(at);
    if (c->err == WB_OK) return y;
    if (y) wb_host_tensor_release(ctx, y);
    return NULL;
}

/* Pools every level's RoIs and returns them concatenated, level by level;
 * pos[k] gets the row of RoI k in that tensor. */
static wb_tensor *pool_by_level(wb_ctx *ctx, wb_tensor *const *feats, int n_levels, const float *scales,
                                const float *rows, int64_t k, int out_h, int out_w, int sampling_ratio,
                                int aligned, const wb_roi_levels *lv, float *pos, float *level_rows) {
    wb_context *c = wb_ctx_impl(ctx);
    int *level = levels_of(c, rows, k, n_levels, scales, lv);
    int64_t *at = level ? malloc((size_t)k * sizeof *at) : NULL;
    if (level && !at) wb_ctx_fail(c, WB_ERR_NOMEM, "%s: out of memory for %lld rois", OP, (long long)k);
    wb_tensor *pieces[MAX_LEVELS];
    int n_pieces = 0;
    int64_t row = 0;
    for (int l = 0; at && l < n_levels; l++) {
        int64_t n_l = gather_level(rows, level, k, l, level_rows, at);
        for (int64_t j = 0; j < n_l; j++) pos[at[j]] = (float)(row + j);
        if (n_l == 0) continue;
        int64_t shape[2] = {n_l, 5};
        wb_tensor *rois_l = wb_host_tensor_from_host(ctx, 2, shape, level_rows);
        wb_tensor *y = rois_l ? pool_level(ctx, feats[l], rois_l, out_h, out_w, scales[l], sampling_ratio,
                                           aligned, lv) : NULL;
        if (!y) break;
        wb_host_tensor_release(ctx, rois_l);
        pieces[n_pieces++] = y;
        row += n_l;
    }
    free(level);
    free(at);
    if (c->err != WB_OK) return NULL;
    if (n_pieces == 1) return pieces[0];
    wb_tensor *all = wb_op_concat(ctx, pieces, n_pieces, 0);
    for (int i = 0; i < n_pieces; i++) wb_host_tensor_release(ctx, pieces[i]);
    return all;
}

wb_tensor *wb_op_multiscale_roi_align(wb_ctx *ctx, wb_tensor *const *feats, int n_levels,
                                      const float *spatial_scales, wb_tensor *rois, int out_h, int out_w,
                                      int sampling_ratio, int aligned, const wb_roi_levels *lv) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_roi_args a;
    if (!wb_ctx_check_inputs(c, OP, &rois, 1) || !check_levels(c, feats, n_levels, spatial_scales, lv)) return NULL;
    for (int l = 0; l < n_levels; l++)
        if (!wb_roi_check_args(c, OP, feats[l], rois, out_h, out_w, spatial_scales[l], &a)) return NULL;
    if (sampling_ratio < 0) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: sampling_ratio %d must be >= 0 (0 = adaptive)", OP, sampling_ratio);
        return NULL;
    }
    int64_t k = a.k;
    if (k == 0) {
        int64_t shape[4] = {0, a.c, out_h, out_w};
        return wb_ctx_tensor_uninit(c, 4, shape);
    }
    float *rows = wb_roi_read_rows(c, OP, rois, a.n);
    float *pos = rows ? malloc((size_t)k * sizeof *pos) : NULL;
    float *level_rows = pos ? malloc((size_t)k * 5 * sizeof *level_rows) : NULL;
    wb_tensor *out = NULL;
    if (rows && !level_rows) wb_ctx_fail(c, WB_ERR_NOMEM, "%s: out of memory for %lld rois", OP, (long long)k);
    if (level_rows && pools_in_place(c, feats, n_levels, lv)) {
        out = pool_in_place(ctx, feats, n_levels, spatial_scales, rois, rows, k, out_h, out_w, sampling_ratio,
                            aligned, lv, level_rows);
        free(rows);
        free(pos);
        free(level_rows);
        return out;
    }
    wb_tensor *pooled = level_rows ? pool_by_level(ctx, feats, n_levels, spatial_scales, rows, k, out_h, out_w,
                                                   sampling_ratio, aligned, lv, pos, level_rows) : NULL;
    bool in_order = true;
    for (int64_t r = 0; pooled && r < k && in_order; r++) in_order = pos[r] == (float)r;
    if (pooled && in_order) {
        out = pooled;
    } else if (pooled) {
        wb_tensor *index = wb_host_tensor_from_host(ctx, 1, &k, pos);
        out = index ? wb_op_index_select(ctx, pooled, 0, index) : NULL;
        wb_host_tensor_release(ctx, pooled);
        wb_host_tensor_release(ctx, index);
    }
    free(rows);
    free(pos);
    free(level_rows);
    return out;
}
