/* tp_fcos_lite: module glue (schema, parameters, forward, loss, predict).
 * Forward and loss are SDK ops (the tape gives the backward); targets and
 * decoding are host code (assign.c, decode.c). The losses come from the
 * config (loss_cls, loss_bbox) and follow the SDK's loss contract. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tp_fcos_lite.h"

/* 1 when the loss section reduces by "mean", 0 for "sum" (or no `reduction`
 * key: such a loss sums), -1 (reported) for "none": a term must be one value. */
static int reduces_by_mean(wb_ctx *ctx, const wb_params *p, const char *key) {
    const wb_host_api *host = WB_H(ctx);
    const wb_params *sec = host->param_section(p, key);
    const char *r = host->param_has(sec, "reduction") ? host->param_string(sec, "reduction") : "sum";
    if (strcmp(r, "none") == 0) {
        wb_error(ctx, WB_ERR_INVALID, "tp_fcos_lite: %s has reduction \"none\"; use \"sum\" or \"mean\"", key);
        return -1;
    }
    return strcmp(r, "mean") == 0;
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *host = WB_H(ctx);
    if (n_in < 1 || n_in > FCOS_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID, "tp_fcos_lite: takes 1..%d feature maps, got %d", FCOS_MAX_LEVELS, n_in);
    for (int l = 0; l < n_in; l++)
        if (in[l].channels != in[0].channels || in[l].stride < 1)
            return wb_error(ctx, WB_ERR_INVALID, "tp_fcos_lite: its branches are shared, so every input needs the "
                            "same channels and a stride; '%s' has %d channels at stride %d, '%s' %d", in[l].name,
                            in[l].channels, in[l].stride, in[0].name, in[0].channels);
    fcos_head *h = calloc(1, sizeof *h);
    if (!h) return wb_error(ctx, WB_ERR_NOMEM, "tp_fcos_lite: out of memory");
    h->num_classes = (int)host->param_int(p, "num_classes");
    h->feat_channels = (int)host->param_int(p, "feat_channels");
    h->center_radius = (float)host->param_float(p, "center_radius");
    h->prior_prob = (float)host->param_float(p, "prior_prob");
    h->score_thr = (float)host->param_float(p, "score_thr");
    h->nms_iou = (float)host->param_float(p, "nms_iou");
    h->nms_pre = (int)host->param_int(p, "nms_pre");
    h->max_per_img = (int)host->param_int(p, "max_per_img");
    h->in_channels = in[0].channels;
    h->n_levels = n_in;
    for (int l = 0; l < n_in; l++) h->strides[l] = in[l].stride;
    h->cls_mean = reduces_by_mean(ctx, p, "loss_cls");
    h->bbox_mean = reduces_by_mean(ctx, p, "loss_bbox");
    if (wb_ok(ctx) == WB_OK) {
        h->loss_cls = host->submodule_create(ctx, host->param_section(p, "loss_cls"), "loss_cls", NULL, 0);
        h->loss_bbox = host->submodule_create(ctx, host->param_section(p, "loss_bbox"), "loss_bbox", NULL, 0);
    }
    if (wb_ok(ctx) != WB_OK) {
        free(h);
        return wb_ok(ctx);
    }
    *out = h;
    return WB_OK;
}

/* Outputs: the class logits of every level, then the distances of every level. */
static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    const fcos_head *h = inst;
    for (int l = 0; l < h->n_levels && h->n_levels + l < max_out; l++) {
        out[l] = (wb_feature_spec){"", h->num_classes, h->strides[l]};
        out[h->n_levels + l] = (wb_feature_spec){"", 4, h->strides[l]};
        snprintf(out[l].name, sizeof out[l].name, "cls_score_%d", l);
        snprintf(out[h->n_levels + l].name, sizeof out[h->n_levels + l].name, "bbox_pred_%d", l);
    }
    return 2 * h->n_levels;
}

static wb_status init_params(void *inst, wb_ctx *ctx) {
    fcos_head *h = inst;
    int64_t w1[4] = {h->feat_channels, h->in_channels, 3, 3}, b1[1] = {h->feat_channels};
    int64_t wc[4] = {h->num_classes, h->feat_channels, 1, 1}, bc[1] = {h->num_classes};
    int64_t wr[4] = {4, h->feat_channels, 1, 1}, br[1] = {4};
    /* Every class starts at prior_prob, so the background does not swamp the first iterations. */
    float bias_cls = -logf((1.0f - h->prior_prob) / h->prior_prob);
    h->cls_w1 = wb_param(ctx, "cls_conv.weight", 4, w1, wb_init_normal(0.0f, 0.01f), 1);
    h->cls_b1 = wb_param(ctx, "cls_conv.bias", 1, b1, wb_init_constant(0.0f), 1);
    h->cls_w2 = wb_param(ctx, "conv_cls.weight", 4, wc, wb_init_normal(0.0f, 0.01f), 1);
    h->cls_b2 = wb_param(ctx, "conv_cls.bias", 1, bc, wb_init_constant(bias_cls), 1);
    h->reg_w1 = wb_param(ctx, "reg_conv.weight", 4, w1, wb_init_normal(0.0f, 0.01f), 1);
    h->reg_b1 = wb_param(ctx, "reg_conv.bias", 1, b1, wb_init_constant(0.0f), 1);
    h->reg_w2 = wb_param(ctx, "conv_reg.weight", 4, wr, wb_init_normal(0.0f, 0.01f), 1);
    h->reg_b2 = wb_param(ctx, "conv_reg.bias", 1, br, wb_init_constant(1.0f), 1);
    return wb_ok(ctx);
}

static wb_tensor *branch(wb_ctx *ctx, wb_tensor *x, wb_tensor *w1, wb_tensor *b1, wb_tensor *w2, wb_tensor *b2) {
    wb_conv2d_params c3 = wb_conv_p(1, 1, 1, 1), c1 = wb_conv_p(1, 0, 1, 1);
    wb_tensor *hidden = wb_relu(ctx, wb_conv2d(ctx, x, w1, b1, &c3));
    wb_tensor *y = wb_conv2d(ctx, hidden, w2, b2, &c1);
    wb_release(ctx, hidden);
    return y;
}

static wb_status forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    fcos_head *h = inst;
    if (n_in != h->n_levels || n_out != 2 * h->n_levels)
        return wb_error(ctx, WB_ERR_INVALID, "tp_fcos_lite: called with %d inputs and %d outputs", n_in, n_out);
    for (int l = 0; l < n_in; l++) {
        out[l] = branch(ctx, in[l], h->cls_w1, h->cls_b1, h->cls_w2, h->cls_b2);
        out[n_in + l] = branch(ctx, in[l], h->reg_w1, h->reg_b1, h->reg_w2, h->reg_b2);
    }
    return wb_ok(ctx);
}

/* [N, C, H, W] maps of every level -> one [rows, C] matrix, rows (level, image, y, x). */
static wb_tensor *flatten(wb_ctx *ctx, wb_tensor *const *maps, int n_levels, int channels) {
    static const int to_nhwc[4] = {0, 2, 3, 1};
    int64_t rows[2] = {-1, channels};
    wb_tensor *flat[FCOS_MAX_LEVELS];
    for (int l = 0; l < n_levels; l++) flat[l] = wb_reshape(ctx, wb_permute(ctx, maps[l], to_nhwc), 2, rows);
    return n_levels == 1 ? flat[0] : wb_concat(ctx, flat, n_levels, 0);
}

/* Runs a loss sub-module on (pred, target, weight); a "mean" is turned back into the sum. */
static wb_tensor *run_loss(wb_ctx *ctx, wb_submodule *m, int mean, wb_tensor *pred, wb_tensor *target,
                           wb_tensor *weight) {
    wb_tensor *in[3] = {pred, target, weight}, *out = NULL;
    if (WB_H(ctx)->submodule_forward(ctx, m, in, 3, &out, 1) != WB_OK) return NULL;
    return mean ? wb_scale(ctx, out, (float)wb_info(ctx, pred).numel) : out;
}

static wb_status loss(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                      wb_loss_term *terms, int *n_terms) {
    fcos_head *h = inst;
    const int L = h->n_levels;
    fcos_level levels[FCOS_MAX_LEVELS];
    if (n_preds != 2 * L) return wb_error(ctx, WB_ERR_INVALID, "tp_fcos_lite: loss got %d predictions", n_preds);
    for (int l = 0; l < L; l++) {
        wb_tensor_info i = wb_info(ctx, preds[l]);
        levels[l] = (fcos_level){(int)i.shape[2], (int)i.shape[3]};
    }
    wb_tensor *cls = flatten(ctx, preds, L, h->num_classes), *reg = flatten(ctx, preds + L, L, 4);
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    wb_tensor_info ci = wb_info(ctx, cls), ri = wb_info(ctx, reg);
    wb_tensor *t[4] = {wb_tensor_new(ctx, 2, ci.shape), wb_tensor_new(ctx, 2, ci.shape),
                       wb_tensor_new(ctx, 2, ri.shape), wb_tensor_new(ctx, 2, ri.shape)};
    fcos_targets host_t = {wb_map(ctx, t[0]), wb_map(ctx, t[1]), wb_map(ctx, t[2]), wb_map(ctx, t[3])};
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    fcos_assign(h, truth, levels, &host_t);
    for (int i = 0; i < 4; i++) wb_unmap(ctx, t[i]);
    terms[0] = (wb_loss_term){"loss_cls", run_loss(ctx, h->loss_cls, h->cls_mean, cls, t[0], t[1])};
    terms[1] = (wb_loss_term){"loss_bbox", run_loss(ctx, h->loss_bbox, h->bbox_mean, reg, t[2], t[3])};
    *n_terms = 2;
    return wb_ok(ctx);
}

static void release_detections(void *inst, wb_detections *d) {
    (void)inst;
    free(d->boxes), free(d->scores), free(d->labels);
    memset(d, 0, sizeof *d);
}

static wb_status predict(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                         wb_detections *dets) {
    fcos_head *h = inst;
    const int L = h->n_levels;
    const float *cls[FCOS_MAX_LEVELS], *reg[FCOS_MAX_LEVELS];
    fcos_level levels[FCOS_MAX_LEVELS];
    if (n_preds != 2 * L) return wb_error(ctx, WB_ERR_INVALID, "tp_fcos_lite: predict got %d predictions", n_preds);
    for (int l = 0; l < L; l++) {
        wb_tensor_info i = wb_info(ctx, preds[l]);
        levels[l] = (fcos_level){(int)i.shape[2], (int)i.shape[3]};
        cls[l] = wb_map(ctx, preds[l]);
        reg[l] = wb_map(ctx, preds[L + l]);
    }
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    for (int n = 0; n < meta->batch; n++) {
        if (fcos_decode(h, WB_H(ctx), cls, reg, levels, n, &meta->images[n], &dets[n]) != WB_OK) {
            for (int k = 0; k < n; k++) release_detections(inst, &dets[k]); /* the core releases only on success */
            return wb_error(ctx, WB_ERR_NOMEM, "tp_fcos_lite: out of memory decoding detections");
        }
    }
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const wb_param_schema params[] = {
    WB_P_REQUIRED_RANGE("num_classes", WB_PARAM_INT, 1, WB_MAX_CLASSES, "number of object classes"),
    WB_P_INT("feat_channels", "64", 1, 4096, "channels of the hidden 3x3 conv of each branch"),
    WB_P_FLOAT("center_radius", "1.5", 0.1, 100.0, "positives lie within this many strides of a box center"),
    WB_P_FLOAT("prior_prob", "0.01", 1e-6, 0.5, "initial foreground probability of every class"),
    WB_P_MODULE("loss_cls", WB_KIND_LOSS, "{ type = \"focal_loss\"; reduction = \"sum\"; }",
                "classification loss on [locations, classes] logits and 0/1 targets"),
    WB_P_MODULE("loss_bbox", WB_KIND_LOSS, "{ type = \"l1\"; reduction = \"sum\"; }",
                "box loss on [locations, 4] edge distances in strides"),
    WB_P_FLOAT("score_thr", "0.05", 0.0, 0.999, "test: drop detections scoring at or below this"),
    WB_P_FLOAT("nms_iou", "0.5", 0.0, 1.0, "test: class-aware NMS IoU threshold"),
    WB_P_INT("nms_pre", "1000", 1, 1000000, "test: candidates kept before NMS"),
    WB_P_INT("max_per_img", "100", 1, 100000, "test: detections kept per image"),
    WB_PARAM_END,
};

static const wb_module_vtable vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = create,
    .output_specs = output_specs,
    .init_params = init_params,
    .forward = forward,
    .loss = loss,
    .predict = predict,
    .release_detections = release_detections,
    .destroy = destroy,
};

static const wb_module_desc desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_HEAD,
    .type_name = "tp_fcos_lite",
    .summary = "Anchor-free multi-level head (FCOS-like, shared branches) with configurable losses (out-of-tree "
               "example)",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("tp_fcos_lite", "0.1.0", "MIT", &desc)
