/* rpn_head: module glue (schema, parameters, forward). Training targets and
 * losses are in rpn_loss.c, proposals in rpn_proposals.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "rpn_head.h"

static const char *const anchor_sizes[] = {"exact", "rounded", NULL};

static wb_status read_anchors(wb_ctx *ctx, rpn_head *h, const wb_params *p, const wb_feature_spec *in, int n_in) {
    const wb_host_api *host = WB_H(ctx);
    int strides[TS_MAX_LEVELS];
    h->n_levels = host->param_list_len(p, "strides");
    if (h->n_levels != n_in || n_in > TS_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID, "rpn_head: %d strides configured but the neck gives %d feature maps",
                        h->n_levels, n_in);
    h->in_channels = in[0].channels;
    for (int l = 0; l < n_in; l++) {
        strides[l] = (int)host->param_int_at(p, "strides", l);
        if (in[l].channels != h->in_channels)
            return wb_error(ctx, WB_ERR_INVALID, "rpn_head: every level shares one conv, but input %d (%s) has %d "
                            "channels and input 0 has %d", l, in[l].name, in[l].channels, h->in_channels);
        if (in[l].stride != strides[l])
            return wb_error(ctx, WB_ERR_INVALID, "rpn_head: input %d (%s) has stride %d but strides[%d] is %d", l,
                            in[l].name, in[l].stride, l, strides[l]);
    }
    int n_scales = host->param_list_len(p, "anchor_scales"), n_ratios = host->param_list_len(p, "ratios");
    float scales[TS_MAX_ANCHORS_PER_CELL], ratios[TS_MAX_ANCHORS_PER_CELL];
    for (int i = 0; i < n_scales && i < TS_MAX_ANCHORS_PER_CELL; i++)
        scales[i] = (float)host->param_float_at(p, "anchor_scales", i);
    for (int i = 0; i < n_ratios && i < TS_MAX_ANCHORS_PER_CELL; i++)
        ratios[i] = (float)host->param_float_at(p, "ratios", i);
    h->torchvision_decode = strcmp(host->param_string(p, "anchor_sizes"), "rounded") == 0;
    return ts_anchors_init(ctx, &h->anchors, strides, n_in, scales, n_scales, ratios, n_ratios,
                           h->torchvision_decode);
}

/* The head divides by the number of sampled anchors itself, so a loss that
 * reduces by "mean" is multiplied back by its element count; "none" would
 * not give one value. */
static int reduces_by_mean(wb_ctx *ctx, const wb_params *p, const char *key) {
    const wb_params *sec = WB_H(ctx)->param_section(p, key);
    const char *r = WB_H(ctx)->param_has(sec, "reduction") ? WB_H(ctx)->param_string(sec, "reduction") : "sum";
    if (strcmp(r, "none") == 0)
        wb_error(ctx, WB_ERR_INVALID, "rpn_head: %s has reduction \"none\"; use \"sum\" or \"mean\" (the head "
                 "divides either by the number of sampled anchors)", key);
    return strcmp(r, "mean") == 0;
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *host = WB_H(ctx);
    if (n_in < 1) return wb_error(ctx, WB_ERR_INVALID, "rpn_head: needs at least one feature map");
    rpn_head *h = calloc(1, sizeof *h);
    if (!h) return wb_error(ctx, WB_ERR_NOMEM, "rpn_head: out of memory");
    h->feat_channels = (int)host->param_int(p, "feat_channels");
    h->assigner = (ts_assigner){(float)host->param_float(p, "pos_iou_thr"), (float)host->param_float(p, "neg_iou_thr"),
                                (float)host->param_float(p, "min_pos_iou"), host->param_bool(p, "match_low_quality"),
                                (float)host->param_float(p, "ignore_iof_thr")};
    h->sampler_num = (int)host->param_int(p, "sampler_num");
    h->pos_fraction = (float)host->param_float(p, "pos_fraction");
    if (host->param_list_len(p, "target_means") != 4 || host->param_list_len(p, "target_stds") != 4)
        wb_error(ctx, WB_ERR_INVALID, "rpn_head: target_means and target_stds need 4 values (dx, dy, dw, dh)");
    for (int i = 0; i < 4 && wb_ok(ctx) == WB_OK; i++) {
        h->means[i] = (float)host->param_float_at(p, "target_means", i);
        h->stds[i] = (float)host->param_float_at(p, "target_stds", i);
    }
    h->train = (rpn_proposal_cfg){(int)host->param_int(p, "train_nms_pre"), (int)host->param_int(p, "train_max_per_img")};
    h->test = (rpn_proposal_cfg){(int)host->param_int(p, "nms_pre"), (int)host->param_int(p, "max_per_img")};
    h->nms_iou = (float)host->param_float(p, "iou_threshold");
    h->min_size = (float)host->param_float(p, "min_bbox_size");
    if (wb_ok(ctx) == WB_OK && read_anchors(ctx, h, p, in, n_in) == WB_OK) {
        h->cls_mean = reduces_by_mean(ctx, p, "loss_cls");
        h->bbox_mean = reduces_by_mean(ctx, p, "loss_bbox");
        h->loss_cls = host->submodule_create(ctx, host->param_section(p, "loss_cls"), "loss_cls", NULL, 0);
        h->loss_bbox = host->submodule_create(ctx, host->param_section(p, "loss_bbox"), "loss_bbox", NULL, 0);
    }
    if (wb_ok(ctx) != WB_OK) {
        ts_anchors_free(&h->anchors);
        free(h);
        return wb_ok(ctx);
    }
    *out = h;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    rpn_head *h = inst;
    int L = h->n_levels;
    for (int l = 0; l < L; l++) {
        if (l < max_out) {
            out[l] = (wb_feature_spec){"", h->anchors.n_base, h->anchors.strides[l]};
            snprintf(out[l].name, sizeof out[l].name, "rpn_cls_%d", l);
        }
        if (L + l < max_out) {
            out[L + l] = (wb_feature_spec){"", 4 * h->anchors.n_base, h->anchors.strides[l]};
            snprintf(out[L + l].name, sizeof out[L + l].name, "rpn_reg_%d", l);
        }
    }
    return 2 * L;
}

static rpn_conv conv_param(wb_ctx *ctx, const char *name, int cout, int cin, int k) {
    char full[WB_NAME_MAX];
    int64_t ws[4] = {cout, cin, k, k}, bs[1] = {cout};
    rpn_conv c;
    snprintf(full, sizeof full, "%s.weight", name);
    c.w = wb_param(ctx, full, 4, ws, wb_init_normal(0.0f, 0.01f), 1);
    snprintf(full, sizeof full, "%s.bias", name);
    c.b = wb_param(ctx, full, 1, bs, wb_init_constant(0.0f), 1);
    return c;
}

/* N(0, 0.01) weights and zero biases, as mmdetection's and torchvision's RPN heads. */
static wb_status init_params(void *inst, wb_ctx *ctx) {
    rpn_head *h = inst;
    h->conv = conv_param(ctx, "rpn_conv", h->feat_channels, h->in_channels, 3);
    h->cls = conv_param(ctx, "rpn_cls", h->anchors.n_base, h->feat_channels, 1);
    h->reg = conv_param(ctx, "rpn_reg", 4 * h->anchors.n_base, h->feat_channels, 1);
    return wb_ok(ctx);
}

static wb_status forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    rpn_head *h = inst;
    const int L = h->n_levels;
    if (n_in != L || n_out != 2 * L)
        return wb_error(ctx, WB_ERR_INVALID, "rpn_head: forward got %d inputs and %d outputs, expected %d and %d",
                        n_in, n_out, L, 2 * L);
    wb_conv2d_params same = wb_conv_p(1, 1, 1, 1), point = wb_conv_p(1, 0, 1, 1);
    for (int l = 0; l < L; l++) {
        wb_tensor *x = wb_conv2d_act(ctx, in[l], h->conv.w, h->conv.b, &same, WB_ACTIVATION_RELU);
        out[l] = wb_conv2d(ctx, x, h->cls.w, h->cls.b, &point);
        out[L + l] = wb_conv2d(ctx, x, h->reg.w, h->reg.b, &point);
        wb_release(ctx, x);
    }
    return wb_ok(ctx);
}

static wb_status loss(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                      wb_loss_term *terms, int *n_terms) {
    return rpn_loss(inst, ctx, preds, n_preds, truth, terms, n_terms);
}

static wb_status predict(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                         wb_detections *dets) {
    return rpn_predict(inst, ctx, preds, n_preds, meta, dets);
}

static wb_status describe(void *inst, char *buf, size_t size) {
    rpn_head *h = inst;
    snprintf(buf, size, "RPN head: %d levels, %d anchors per cell, %d-channel conv", h->n_levels, h->anchors.n_base,
             h->feat_channels);
    return WB_OK;
}

static void destroy(void *inst) {
    rpn_head *h = inst;
    ts_anchors_free(&h->anchors);
    free(h);
}

static const wb_param_schema params[] = {
    WB_P_INT("feat_channels", "256", 1, 4096, "channels of the shared 3x3 conv"),
    WB_P_INT_LIST("strides", "[4, 8, 16, 32, 64]", 1, 4096, "stride of each input level"),
    WB_P_FLOAT_LIST("anchor_scales", "[8.0]", 0.01, 1000.0, "anchor sizes in strides (8: 32 px at stride 4)"),
    WB_P_FLOAT_LIST("ratios", "[0.5, 1.0, 2.0]", 0.01, 100.0, "anchor aspect ratios h/w"),
    WB_P_CHOICE("anchor_sizes", "\"exact\"", anchor_sizes,
                "anchors as mmdetection computes them, or torchvision's (corners rounded, per-axis strides = "
                "padded input // feature size, its box decode) for torchvision-trained weights"),
    WB_P_FLOAT("pos_iou_thr", "0.7", 0.0, 1.0, "assigner: anchors with IoU >= this are positive"),
    WB_P_FLOAT("neg_iou_thr", "0.3", 0.0, 1.0, "assigner: anchors with max IoU < this are background"),
    WB_P_FLOAT("min_pos_iou", "0.3", 0.0, 1.0, "assigner: a box's best anchors need this IoU to become positive"),
    WB_P_BOOL("match_low_quality", "true", "assigner: every box gets its best-overlapping anchors as positives"),
    WB_P_FLOAT("ignore_iof_thr", "0.5", -1.0, 1.0,
               "anchors covered by an ignore box (crowd, difficult) above this fraction are ignored; <= 0: off"),
    WB_P_INT("sampler_num", "256", 1, 10000000, "sampler: anchors per image that enter the loss"),
    WB_P_FLOAT("pos_fraction", "0.5", 0.0, 1.0, "sampler: at most this fraction of them positive"),
    WB_P_FLOAT_LIST("target_means", "[0.0, 0.0, 0.0, 0.0]", -1e3, 1e3, "delta coder means (dx, dy, dw, dh)"),
    WB_P_FLOAT_LIST("target_stds", "[1.0, 1.0, 1.0, 1.0]", 1e-6, 1e3, "delta coder standard deviations"),
    WB_P_MODULE("loss_cls", WB_KIND_LOSS, "{ type = \"cross_entropy\"; use_sigmoid = true; loss_weight = 1.0; }",
                "objectness loss on [anchors, 1] logits and 0/1 targets, divided by the sampled anchors"),
    WB_P_MODULE("loss_bbox", WB_KIND_LOSS, "{ type = \"l1\"; loss_weight = 1.0; }",
                "box loss on [anchors, 4] deltas of the positives, divided by the sampled anchors"),
    WB_P_INT("train_nms_pre", "2000", 1, 1000000, "training proposals: best anchors per level before NMS"),
    WB_P_INT("train_max_per_img", "1000", 1, 1000000, "training proposals kept per image after NMS"),
    WB_P_INT("nms_pre", "1000", 1, 1000000, "test proposals: best anchors per level before NMS"),
    WB_P_INT("max_per_img", "1000", 1, 1000000, "test proposals kept per image after NMS"),
    WB_P_FLOAT("iou_threshold", "0.7", 0.0, 1.0, "proposal NMS IoU threshold (per level)"),
    WB_P_FLOAT("min_bbox_size", "0.0", 0.0, 1e4, "proposals narrower or lower than this are dropped (and empty ones)"),
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
    .release_detections = ts_release_detections,
    .describe = describe,
    .destroy = destroy,
};

static const wb_module_desc rpn_head_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_HEAD,
    .type_name = "rpn_head",
    .summary = "Region proposal network: anchors, max-IoU assigner, random sampler, objectness + box losses, "
               "proposals by per-level NMS",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("rpn_head", "0.1.0", "MIT", &rpn_head_desc)
