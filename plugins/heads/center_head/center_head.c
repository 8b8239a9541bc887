/* center_head: module glue (schema, parameters, forward, loss, predict).
 * Forward and loss use only SDK ops; targets and decoding are host code. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "detections.h"
#include "center_head.h"

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *host = WB_H(ctx);
    if (n_in != 1 || in[0].stride <= 0)
        return wb_error(ctx, WB_ERR_INVALID, "center_head takes one feature map with a stride, got %d inputs", n_in);
    center_head *h = calloc(1, sizeof *h);
    if (!h) return wb_error(ctx, WB_ERR_NOMEM, "out of memory");
    h->num_classes = (int)host->param_int(p, "num_classes");
    h->feat_channels = (int)host->param_int(p, "feat_channels");
    h->center_radius = (float)host->param_float(p, "center_radius");
    h->prior_prob = (float)host->param_float(p, "prior_prob");
    h->score_thr = (float)host->param_float(p, "score_thr");
    h->nms_iou = (float)host->param_float(p, "nms_iou");
    h->nms_pre = (int)host->param_int(p, "nms_pre");
    h->max_per_img = (int)host->param_int(p, "max_per_img");
    h->in_channels = in[0].channels;
    h->stride = in[0].stride;
    *out = h;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    center_head *h = inst;
    if (max_out >= 2) {
        out[0] = (wb_feature_spec){"cls_score", h->num_classes, h->stride};
        out[1] = (wb_feature_spec){"bbox_pred", 4, h->stride};
    }
    return 2;
}

static wb_status init_params(void *inst, wb_ctx *ctx) {
    center_head *h = inst;
    int64_t w1[4] = {h->feat_channels, h->in_channels, 3, 3}, b1[1] = {h->feat_channels};
    int64_t wc[4] = {h->num_classes, h->feat_channels, 1, 1}, bc[1] = {h->num_classes};
    int64_t wr[4] = {4, h->feat_channels, 1, 1}, br[1] = {4};
    /* Focal-loss practice: start every class at prior_prob so early training
     * is not swamped by the background. */
    float bias_cls = -logf((1.0f - h->prior_prob) / h->prior_prob);
    h->cls_w1 = wb_param(ctx, "cls_conv.weight", 4, w1, wb_init_normal(0.0f, 0.01f), 1);
    h->cls_b1 = wb_param(ctx, "cls_conv.bias", 1, b1, wb_init_constant(0.0f), 1);
    h->cls_w2 = wb_param(ctx, "cls_out.weight", 4, wc, wb_init_normal(0.0f, 0.01f), 1);
    h->cls_b2 = wb_param(ctx, "cls_out.bias", 1, bc, wb_init_constant(bias_cls), 1);
    h->reg_w1 = wb_param(ctx, "reg_conv.weight", 4, w1, wb_init_normal(0.0f, 0.01f), 1);
    h->reg_b1 = wb_param(ctx, "reg_conv.bias", 1, b1, wb_init_constant(0.0f), 1);
    h->reg_w2 = wb_param(ctx, "reg_out.weight", 4, wr, wb_init_normal(0.0f, 0.01f), 1);
    h->reg_b2 = wb_param(ctx, "reg_out.bias", 1, br, wb_init_constant(1.0f), 1);
    return wb_ok(ctx);
}

static wb_status forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    center_head *h = inst;
    (void)n_in;
    (void)n_out;
    wb_conv2d_params c3 = wb_conv_p(1, 1, 1, 1), c1 = wb_conv_p(1, 0, 1, 1);
    wb_tensor *c = wb_relu(ctx, wb_conv2d(ctx, in[0], h->cls_w1, h->cls_b1, &c3));
    out[0] = wb_conv2d(ctx, c, h->cls_w2, h->cls_b2, &c1);
    wb_tensor *r = wb_relu(ctx, wb_conv2d(ctx, in[0], h->reg_w1, h->reg_b1, &c3));
    out[1] = wb_conv2d(ctx, r, h->reg_w2, h->reg_b2, &c1);
    return wb_ok(ctx);
}

static wb_status loss(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                      wb_loss_term *terms, int *n_terms) {
    center_head *h = inst;
    (void)n_preds;
    wb_tensor_info ci = wb_info(ctx, preds[0]), ri = wb_info(ctx, preds[1]);
    wb_tensor *cls_t = wb_tensor_new(ctx, 4, ci.shape), *cls_w = wb_tensor_new(ctx, 4, ci.shape);
    wb_tensor *reg_t = wb_tensor_new(ctx, 4, ri.shape), *reg_w = wb_tensor_new(ctx, 4, ri.shape);
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    center_targets t = {wb_map(ctx, cls_t), wb_map(ctx, cls_w), wb_map(ctx, reg_t), wb_map(ctx, reg_w), 0};
    center_build_targets(h, truth, (int)ci.shape[2], (int)ci.shape[3], &t);
    wb_unmap(ctx, cls_t), wb_unmap(ctx, cls_w), wb_unmap(ctx, reg_t), wb_unmap(ctx, reg_w);
    /* Normalised by the number of positives, as FCOS/RetinaNet do. */
    float avg = t.num_pos > 0 ? (float)t.num_pos : 1.0f;
    wb_tensor *lc = wb_sigmoid_focal_loss(ctx, preds[0], cls_t, cls_w, 2.0f, 0.25f, WB_REDUCE_SUM);
    wb_tensor *lb = wb_l1_loss(ctx, preds[1], reg_t, reg_w, WB_REDUCE_SUM);
    terms[0] = (wb_loss_term){"loss_cls", wb_scale(ctx, lc, 1.0f / avg)};
    terms[1] = (wb_loss_term){"loss_bbox", wb_scale(ctx, lb, 0.25f / avg)};
    *n_terms = 2;
    return wb_ok(ctx);
}

static wb_status predict(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                         wb_detections *dets) {
    center_head *h = inst;
    (void)n_preds;
    wb_tensor_info ci = wb_info(ctx, preds[0]);
    const float *cls = wb_map(ctx, preds[0]), *reg = wb_map(ctx, preds[1]);
    if (!cls || !reg) return wb_ok(ctx);
    int fh = (int)ci.shape[2], fw = (int)ci.shape[3];
    size_t plane = (size_t)fh * fw;
    for (int n = 0; n < meta->batch; n++) {
        wb_status st = center_decode(h, WB_H(ctx), cls + (size_t)n * h->num_classes * plane, reg + (size_t)n * 4 * plane,
                                     fh, fw, &meta->images[n], &dets[n]);
        if (st != WB_OK) return wb_error(ctx, st, "out of memory decoding detections");
    }
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const wb_param_schema params[] = {
    WB_P_REQUIRED_RANGE("num_classes", WB_PARAM_INT, 1, WB_MAX_CLASSES, "number of object classes"),
    WB_P_INT("feat_channels", "64", 1, 4096, "channels of the hidden 3x3 conv of each branch"),
    WB_P_FLOAT("center_radius", "1.5", 0.0, 100.0, "positive cells lie within this many strides of a box center"),
    WB_P_FLOAT("prior_prob", "0.01", 1e-6, 0.5, "initial foreground probability of every class"),
    WB_P_FLOAT("score_thr", "0.05", 0.0, 1.0, "test: drop detections scoring below this"),
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
    .release_detections = det_release,
    .destroy = destroy,
};

static const wb_module_desc center_head_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_HEAD,
    .type_name = "center_head",
    .summary = "Anchor-free single-level head (FCOS-like): focal loss on classes, L1 on edge distances",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("center_head", "0.1.0", "MIT", &center_head_desc)
