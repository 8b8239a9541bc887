/* centernet_head: module glue (schema, parameters, forward, predict).
 * Names: hm.*, wh.*, reg.* as CenterNet's heads; conv branches hm.0 (3x3) and
 * hm.2 (1x1, after the ReLU), separable branches hm.0 (depthwise) and hm.1. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detections.h"
#include "centernet_head.h"

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *host = WB_H(ctx);
    if (n_in != 1 || in[0].stride <= 0)
        return wb_error(ctx, WB_ERR_INVALID,
                        "centernet_head takes one feature map with a stride (a neck with one output, such as "
                        "centernet_fpn), got %d inputs", n_in);
    centernet_head *h = calloc(1, sizeof *h);
    if (!h) return wb_error(ctx, WB_ERR_NOMEM, "centernet_head: out of memory");
    h->num_classes = (int)host->param_int(p, "num_classes");
    h->separable = strcmp(host->param_string(p, "branch"), "separable") == 0;
    h->head_conv = (int)host->param_int(p, "head_conv");
    h->ltrb = strcmp(host->param_string(p, "box"), "ltrb") == 0;
    h->box_scale = (float)host->param_float(p, "box_scale");
    h->prior_prob = (float)host->param_float(p, "prior_prob");
    h->min_overlap = (float)host->param_float(p, "min_overlap");
    h->w_heatmap = (float)host->param_float(p, "loss_heatmap_weight");
    h->w_wh = (float)host->param_float(p, "loss_wh_weight");
    h->w_offset = (float)host->param_float(p, "loss_offset_weight");
    h->w_giou = (float)host->param_float(p, "loss_giou_weight");
    h->topk = (int)host->param_int(p, "topk");
    h->score_thr = (float)host->param_float(p, "score_thr");
    h->in_channels = in[0].channels;
    h->stride = in[0].stride;
    h->heatmap.out_channels = h->num_classes;
    h->box.out_channels = h->ltrb ? 4 : 2;
    h->offset.out_channels = h->ltrb ? 0 : 2;
    *out = h;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    centernet_head *h = inst;
    int n = h->ltrb ? 2 : 3;
    if (max_out >= n) {
        out[0] = (wb_feature_spec){"heatmap", h->num_classes, h->stride};
        out[1] = (wb_feature_spec){"wh", h->box.out_channels, h->stride};
        if (!h->ltrb) out[2] = (wb_feature_spec){"reg", 2, h->stride};
    }
    return n;
}

static void make_branch(centernet_head *h, wb_ctx *ctx, cn_branch *b, const char *name, float bias) {
    char n1[64], n2[64];
    int64_t cout = b->out_channels;
    if (h->separable) {
        int64_t w1[4] = {h->in_channels, 1, 3, 3}, w2[4] = {cout, h->in_channels, 1, 1};
        snprintf(n1, sizeof n1, "%s.0.weight", name);
        b->w1 = wb_param(ctx, n1, 4, w1, wb_init_kaiming_normal_fan_out(), 1);
        snprintf(n1, sizeof n1, "%s.1.weight", name), snprintf(n2, sizeof n2, "%s.1.bias", name);
        b->w2 = wb_param(ctx, n1, 4, w2, wb_init_normal(0.0f, 0.01f), 1);
        b->b2 = wb_param(ctx, n2, 1, &cout, wb_init_constant(bias), 1);
        return;
    }
    int64_t w1[4] = {h->head_conv, h->in_channels, 3, 3}, c1 = h->head_conv, w2[4] = {cout, h->head_conv, 1, 1};
    snprintf(n1, sizeof n1, "%s.0.weight", name), snprintf(n2, sizeof n2, "%s.0.bias", name);
    b->w1 = wb_param(ctx, n1, 4, w1, wb_init_kaiming_uniform(sqrtf(5.0f)), 1);
    b->b1 = wb_param(ctx, n2, 1, &c1, wb_init_constant(0.0f), 1);
    snprintf(n1, sizeof n1, "%s.2.weight", name), snprintf(n2, sizeof n2, "%s.2.bias", name);
    b->w2 = wb_param(ctx, n1, 4, w2, wb_init_kaiming_uniform(sqrtf(5.0f)), 1);
    b->b2 = wb_param(ctx, n2, 1, &cout, wb_init_constant(bias), 1);
}

static wb_status init_params(void *inst, wb_ctx *ctx) {
    centernet_head *h = inst;
    /* CenterNet starts the heatmap at prior_prob (0.1: bias -2.19) and the rest at zero. */
    make_branch(h, ctx, &h->heatmap, "hm", -logf((1.0f - h->prior_prob) / h->prior_prob));
    make_branch(h, ctx, &h->box, "wh", h->ltrb ? 1.0f : 0.0f);
    if (!h->ltrb) make_branch(h, ctx, &h->offset, "reg", 0.0f);
    return wb_ok(ctx);
}

static wb_tensor *run_branch(const centernet_head *h, wb_ctx *ctx, const cn_branch *b, wb_tensor *x) {
    wb_conv2d_params c3 = wb_conv_p(1, 1, 1, h->separable ? h->in_channels : 1), c1 = wb_conv_p(1, 0, 1, 1);
    wb_tensor *mid = wb_conv2d(ctx, x, b->w1, b->b1, &c3);
    if (!h->separable) {
        wb_tensor *act = wb_relu(ctx, mid);
        wb_release(ctx, mid);
        mid = act;
    }
    wb_tensor *y = wb_conv2d(ctx, mid, b->w2, b->b2, &c1);
    wb_release(ctx, mid);
    return y;
}

static wb_status forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    centernet_head *h = inst;
    if (n_in != 1 || n_out != (h->ltrb ? 2 : 3))
        return wb_error(ctx, WB_ERR_INVALID, "centernet_head: forward got %d inputs and %d outputs", n_in, n_out);
    out[0] = run_branch(h, ctx, &h->heatmap, in[0]);
    out[1] = run_branch(h, ctx, &h->box, in[0]);
    if (!h->ltrb) out[2] = run_branch(h, ctx, &h->offset, in[0]);
    return wb_ok(ctx);
}

static wb_status loss(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                      wb_loss_term *terms, int *n_terms) {
    (void)n_preds;
    return cn_loss(inst, ctx, preds, truth, terms, n_terms);
}

static wb_status predict(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                         wb_detections *dets) {
    centernet_head *h = inst;
    (void)n_preds;
    wb_tensor_info hi = wb_info(ctx, preds[0]);
    const float *heat = wb_map(ctx, preds[0]), *box = wb_map(ctx, preds[1]);
    const float *off = h->ltrb ? NULL : wb_map(ctx, preds[2]);
    if (!heat || !box || (!h->ltrb && !off)) return wb_ok(ctx);
    int fh = (int)hi.shape[2], fw = (int)hi.shape[3];
    size_t plane = (size_t)fh * fw;
    for (int n = 0; n < meta->batch; n++) {
        wb_status st = cn_decode(h, heat + (size_t)n * h->num_classes * plane,
                                 box + (size_t)n * h->box.out_channels * plane, off ? off + (size_t)n * 2 * plane : NULL,
                                 fh, fw, &meta->images[n], &dets[n]);
        if (st != WB_OK) return wb_error(ctx, st, "centernet_head: out of memory decoding detections");
    }
    return WB_OK;
}

static wb_status describe(void *inst, char *buf, size_t size) {
    centernet_head *h = inst;
    snprintf(buf, size, "CenterNet, %d classes at stride %d, %s branches, %s boxes, top %d", h->num_classes, h->stride,
             h->separable ? "separable" : "conv", h->ltrb ? "ltrb" : "wh+offset", h->topk);
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const char *const k_branches[] = {"conv", "separable", NULL};
static const char *const k_boxes[] = {"wh_offset", "ltrb", NULL};

static const wb_param_schema params[] = {
    WB_P_REQUIRED_RANGE("num_classes", WB_PARAM_INT, 1, WB_MAX_CLASSES, "number of object classes"),
    WB_P_CHOICE("branch", "\"conv\"", k_branches,
                "conv: 3x3 conv (head_conv) + ReLU + 1x1 (CenterNet); separable: 3x3 depthwise + 1x1 (TF.js model)"),
    WB_P_INT("head_conv", "64", 1, 4096, "hidden channels of the conv branches"),
    WB_P_CHOICE("box", "\"wh_offset\"", k_boxes,
                "wh_offset: size and sub-cell offset (CenterNet, L1 losses); ltrb: distances to the sides from "
                "(x * stride, y * stride) times box_scale (GIoU loss)"),
    WB_P_FLOAT("box_scale", "16.0", 1e-6, 1e6, "ltrb: input pixels per unit of the box output"),
    WB_P_FLOAT("prior_prob", "0.1", 1e-6, 0.5, "initial heatmap probability (CenterNet: bias -2.19)"),
    WB_P_FLOAT("min_overlap", "0.7", 0.01, 0.99, "Gaussian radius: a box shifted by it keeps this IoU"),
    WB_P_FLOAT("loss_heatmap_weight", "1.0", 0.0, 1e6, "weight of the heatmap focal loss"),
    WB_P_FLOAT("loss_wh_weight", "0.1", 0.0, 1e6, "wh_offset: weight of the size L1 loss"),
    WB_P_FLOAT("loss_offset_weight", "1.0", 0.0, 1e6, "wh_offset: weight of the offset L1 loss"),
    WB_P_FLOAT("loss_giou_weight", "5.0", 0.0, 1e6, "ltrb: weight of the GIoU loss (TTFNet's)"),
    WB_P_INT("topk", "100", 1, 100000, "test: peaks kept over all classes and positions"),
    WB_P_FLOAT("score_thr", "0.0", 0.0, 1.0, "test: drop peaks scoring below this (0 keeps all topk)"),
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
    .describe = describe,
    .destroy = destroy,
};

static const wb_module_desc centernet_head_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_HEAD,
    .type_name = "centernet_head",
    .summary = "CenterNet: heatmap peaks (penalty-reduced focal loss), size + offset or ltrb boxes, top-k decoding",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("centernet_head", "0.1.0", "MIT", &centernet_head_desc)
