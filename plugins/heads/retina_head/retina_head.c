/* retina_head: module glue (schema, parameters, forward). Training targets
 * are in assign.c and loss.c, test-time decoding in decode.c. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detections.h"
#include "retina_head.h"

static const char *const normalizations[] = {"batch", "image", NULL};
static const char *const anchor_sizes[] = {"exact", "rounded", NULL};

static wb_status read_levels(wb_ctx *ctx, retina_head *h, const wb_params *p, const wb_feature_spec *in,
                             int n_in) {
    const wb_host_api *host = WB_H(ctx);
    h->n_levels = host->param_list_len(p, "strides");
    if (h->n_levels != n_in || n_in > RETINA_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID, "retina_head: %d strides configured but the neck gives %d feature maps",
                        h->n_levels, n_in);
    h->in_channels = in[0].channels;
    for (int l = 0; l < n_in; l++) {
        h->strides[l] = (int)host->param_int_at(p, "strides", l);
        if (in[l].channels != h->in_channels)
            return wb_error(ctx, WB_ERR_INVALID,
                            "retina_head: every level shares the conv tower, but input %d (%s) has %d channels and "
                            "input 0 has %d", l, in[l].name, in[l].channels, h->in_channels);
        if (in[l].stride != h->strides[l])
            return wb_error(ctx, WB_ERR_INVALID, "retina_head: input %d (%s) has stride %d but strides[%d] is %d", l,
                            in[l].name, in[l].stride, l, h->strides[l]);
    }
    return WB_OK;
}

/* mmdetection AnchorGenerator(octave_base_scale, scales_per_octave, ratios,
 * strides): base size = stride, scales octave_base_scale * 2^(i / n).
 * anchor_sizes = "rounded" builds torchvision's AnchorGenerator instead: the
 * sizes truncated to integers (int(32 * 2^(1/3)) = 40), every corner rounded
 * half to even (torch.round) and per-axis strides (anchors.c); with
 * torchvision's decode and NMS (decode.c), its trained weights give its
 * detections. */
static wb_status make_base_anchors(wb_ctx *ctx, retina_head *h, const wb_params *p) {
    const wb_host_api *host = WB_H(ctx);
    int n_scales = (int)host->param_int(p, "scales_per_octave"), n_ratios = host->param_list_len(p, "ratios");
    float octave = (float)host->param_float(p, "octave_base_scale");
    bool rounded = strcmp(host->param_string(p, "anchor_sizes"), "rounded") == 0;
    h->torchvision = rounded;
    float scales[RETINA_MAX_ANCHORS_PER_CELL], ratios[RETINA_MAX_ANCHORS_PER_CELL];
    h->n_base = n_scales * n_ratios;
    if (n_ratios < 1 || h->n_base > RETINA_MAX_ANCHORS_PER_CELL)
        return wb_error(ctx, WB_ERR_INVALID, "retina_head: %d scales x %d ratios anchors per cell (1..%d allowed)",
                        n_scales, n_ratios, RETINA_MAX_ANCHORS_PER_CELL);
    for (int i = 0; i < n_ratios; i++) ratios[i] = (float)host->param_float_at(p, "ratios", i);
    for (int l = 0; l < h->n_levels; l++) {
        double first = (double)octave * h->strides[l];
        /* rounded: sizes in pixels on a base of 1, as torchvision multiplies them */
        float base = rounded ? 1.0f : (float)h->strides[l];
        for (int i = 0; i < n_scales; i++)
            scales[i] = rounded ? (float)trunc(first * pow(2.0, (double)i / n_scales))
                                : octave * powf(2.0f, (float)i / (float)n_scales);
        host->base_anchors(base, scales, n_scales, ratios, n_ratios, 0.0f, h->base[l]);
        if (rounded)
            for (int k = 0; k < 4 * h->n_base; k++) h->base[l][k] = nearbyintf(h->base[l][k]);
    }
    return WB_OK;
}

/* The head divides by the number of positives itself, so a loss must sum
 * ("mean" is undone by the number of elements, as mmdetection's avg_factor
 * overrides the mean); "none" would not give a scalar. */
static int loss_reduces_by_mean(wb_ctx *ctx, const wb_params *p, const char *key) {
    const wb_params *sec = WB_H(ctx)->param_section(p, key);
    const char *r = sec && WB_H(ctx)->param_has(sec, "reduction") ? WB_H(ctx)->param_string(sec, "reduction") : "sum";
    if (strcmp(r, "none") == 0) {
        wb_error(ctx, WB_ERR_INVALID, "retina_head: %s has reduction \"none\"; use \"sum\" or \"mean\" (the head "
                 "divides either by the number of positive anchors)", key);
        return -1;
    }
    return strcmp(r, "mean") == 0;
}

static int type_in(const char *type, const char *const *names) {
    for (int i = 0; names[i]; i++)
        if (strcmp(type, names[i]) == 0) return 1;
    return 0;
}

/* IoU losses compare boxes, so they need the decoded predictions; the
 * classification losses make no sense on box coordinates. */
static wb_status check_loss_bbox(wb_ctx *ctx, retina_head *h, const wb_params *p) {
    static const char *const iou_family[] = {"iou", "giou", "diou", "ciou", NULL};
    static const char *const classification[] = {"focal_loss", "cross_entropy", NULL};
    const char *type = WB_H(ctx)->param_string(WB_H(ctx)->param_section(p, "loss_bbox"), "type");
    if (type_in(type, classification))
        return wb_error(ctx, WB_ERR_INVALID, "retina_head: loss_bbox is %s, a classification loss; use l1 or "
                        "smooth_l1 (on deltas), or iou, giou, diou or ciou with reg_decoded_bbox = true", type);
    h->bbox_elems_per_anchor = type_in(type, iou_family) ? 1 : 4;
    if (h->bbox_elems_per_anchor == 1 && !h->reg_decoded_bbox)
        return wb_error(ctx, WB_ERR_INVALID, "retina_head: loss_bbox %s compares boxes, not deltas; set "
                        "reg_decoded_bbox = true so that the head decodes its predicted deltas for it", type);
    return WB_OK;
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *host = WB_H(ctx);
    if (n_in < 1) return wb_error(ctx, WB_ERR_INVALID, "retina_head: needs at least one feature map");
    retina_head *h = calloc(1, sizeof *h);
    if (!h) return wb_error(ctx, WB_ERR_NOMEM, "retina_head: out of memory");
    h->num_classes = (int)host->param_int(p, "num_classes");
    h->feat_channels = (int)host->param_int(p, "feat_channels");
    h->stacked_convs = (int)host->param_int(p, "stacked_convs");
    h->prior_prob = (float)host->param_float(p, "prior_prob");
    h->pos_iou_thr = (float)host->param_float(p, "pos_iou_thr");
    h->neg_iou_thr = (float)host->param_float(p, "neg_iou_thr");
    h->min_pos_iou = (float)host->param_float(p, "min_pos_iou");
    h->match_low_quality = host->param_bool(p, "match_low_quality");
    h->ignore_iof_thr = (float)host->param_float(p, "ignore_iof_thr");
    h->normalize_per_image = strcmp(host->param_string(p, "normalize"), "image") == 0;
    h->reg_decoded_bbox = host->param_bool(p, "reg_decoded_bbox");
    for (int i = 0; i < 4; i++) {
        h->means[i] = (float)host->param_float_at(p, "target_means", i);
        h->stds[i] = (float)host->param_float_at(p, "target_stds", i);
    }
    h->nms_pre = (int)host->param_int(p, "nms_pre");
    h->score_thr = (float)host->param_float(p, "score_thr");
    h->iou_threshold = (float)host->param_float(p, "iou_threshold");
    h->max_per_img = (int)host->param_int(p, "max_per_img");
    if (host->param_list_len(p, "target_means") != 4 || host->param_list_len(p, "target_stds") != 4)
        wb_error(ctx, WB_ERR_INVALID, "retina_head: target_means and target_stds need 4 values (dx, dy, dw, dh)");
    if (wb_ok(ctx) == WB_OK && read_levels(ctx, h, p, in, n_in) == WB_OK && make_base_anchors(ctx, h, p) == WB_OK &&
        check_loss_bbox(ctx, h, p) == WB_OK) {
        h->cls_mean = loss_reduces_by_mean(ctx, p, "loss_cls");
        h->bbox_mean = loss_reduces_by_mean(ctx, p, "loss_bbox");
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

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    retina_head *h = inst;
    for (int l = 0; l < h->n_levels; l++) {
        if (l < max_out) {
            out[l] = (wb_feature_spec){"", h->n_base * h->num_classes, h->strides[l]};
            snprintf(out[l].name, sizeof out[l].name, "cls_score_%d", l);
        }
        if (h->n_levels + l < max_out) {
            out[h->n_levels + l] = (wb_feature_spec){"", h->n_base * 4, h->strides[l]};
            snprintf(out[h->n_levels + l].name, sizeof out[l].name, "bbox_pred_%d", l);
        }
    }
    return 2 * h->n_levels;
}

static retina_conv conv_param(wb_ctx *ctx, const char *prefix, int cout, int cin, float bias) {
    char name[WB_NAME_MAX * 2];
    int64_t ws[4] = {cout, cin, 3, 3}, bs[1] = {cout};
    retina_conv c;
    snprintf(name, sizeof name, "%s.weight", prefix);
    c.w = wb_param(ctx, name, 4, ws, wb_init_normal(0.0f, 0.01f), 1);
    snprintf(name, sizeof name, "%s.bias", prefix);
    c.b = wb_param(ctx, name, 1, bs, wb_init_constant(bias), 1);
    return c;
}

/* torchvision's RetinaNetHead init: N(0, 0.01) weights, zero biases, and the
 * class logits biased to prior_prob so the background does not swamp the
 * focal loss at the start. */
static wb_status init_params(void *inst, wb_ctx *ctx) {
    retina_head *h = inst;
    char name[WB_NAME_MAX];
    for (int i = 0; i < h->stacked_convs; i++) {
        int cin = i == 0 ? h->in_channels : h->feat_channels;
        snprintf(name, sizeof name, "classification_head.conv.%d.0", i);
        h->cls_convs[i] = conv_param(ctx, name, h->feat_channels, cin, 0.0f);
        snprintf(name, sizeof name, "regression_head.conv.%d.0", i);
        h->reg_convs[i] = conv_param(ctx, name, h->feat_channels, cin, 0.0f);
    }
    int cin = h->stacked_convs > 0 ? h->feat_channels : h->in_channels;
    float prior_bias = -logf((1.0f - h->prior_prob) / h->prior_prob);
    h->cls_out = conv_param(ctx, "classification_head.cls_logits", h->n_base * h->num_classes, cin, prior_bias);
    h->reg_out = conv_param(ctx, "regression_head.bbox_reg", h->n_base * 4, cin, 0.0f);
    return wb_ok(ctx);
}

/* Intermediates are released right after their last use (the tape keeps
 * what backward needs); the level's input belongs to the neck. */
static wb_tensor *branch(wb_ctx *ctx, wb_tensor *in, const retina_conv *convs, int n, const retina_conv *last) {
    wb_conv2d_params same = wb_conv_p(1, 1, 1, 1);
    wb_tensor *x = in;
    for (int i = 0; i < n; i++) {
        wb_tensor *conv = wb_conv2d(ctx, x, convs[i].w, convs[i].b, &same);
        if (x != in) wb_release(ctx, x);
        x = wb_relu(ctx, conv);
        wb_release(ctx, conv);
    }
    wb_tensor *y = wb_conv2d(ctx, x, last->w, last->b, &same);
    if (x != in) wb_release(ctx, x);
    return y;
}

static wb_status forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    retina_head *h = inst;
    if (n_in != h->n_levels || n_out != 2 * h->n_levels)
        return wb_error(ctx, WB_ERR_INVALID, "retina_head: forward got %d inputs and %d outputs, expected %d and %d",
                        n_in, n_out, h->n_levels, 2 * h->n_levels);
    for (int l = 0; l < h->n_levels; l++) {
        out[l] = branch(ctx, in[l], h->cls_convs, h->stacked_convs, &h->cls_out);
        out[h->n_levels + l] = branch(ctx, in[l], h->reg_convs, h->stacked_convs, &h->reg_out);
    }
    return wb_ok(ctx);
}

static wb_status loss(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                      wb_loss_term *terms, int *n_terms) {
    return retina_loss(inst, ctx, preds, n_preds, truth, terms, n_terms);
}

static wb_status predict(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                         wb_detections *dets) {
    return retina_predict(inst, ctx, preds, n_preds, meta, dets);
}

static wb_status describe(void *inst, char *buf, size_t size) {
    retina_head *h = inst;
    snprintf(buf, size, "RetinaNet head: %d classes, %d levels, %d anchors per cell, %d x %d-channel convs",
             h->num_classes, h->n_levels, h->n_base, h->stacked_convs, h->feat_channels);
    return WB_OK;
}

static void destroy(void *inst) {
    retina_head *h = inst;
    free(h->anchors);
    free(h);
}

static const wb_param_schema params[] = {
    WB_P_REQUIRED_RANGE("num_classes", WB_PARAM_INT, 1, WB_MAX_CLASSES, "number of object classes (no background class)"),
    WB_P_INT("feat_channels", "256", 1, 4096, "channels of the stacked convs of both branches"),
    WB_P_INT("stacked_convs", "4", 0, RETINA_MAX_CONVS, "3x3 conv + ReLU layers before each branch's output conv"),
    WB_P_FLOAT("prior_prob", "0.01", 1e-6, 0.5, "initial foreground probability of every class"),
    WB_P_FLOAT("octave_base_scale", "4", 0.01, 1000.0, "anchor size in strides of the first scale of an octave"),
    WB_P_INT("scales_per_octave", "3", 1, 16, "anchor scales per octave: octave_base_scale * 2^(i/n)"),
    WB_P_FLOAT_LIST("ratios", "[0.5, 1.0, 2.0]", 0.01, 100.0, "anchor aspect ratios h/w"),
    WB_P_CHOICE("anchor_sizes", "\"exact\"", anchor_sizes,
                "anchors as mmdetection computes them, or torchvision's exactly (for torchvision-trained "
                "weights): sizes and corners rounded, strides per axis = padded input size // feature size "
                "(P6, P7 of a 480-px side: 60, 120), and torchvision's box decode and batched NMS"),
    WB_P_INT_LIST("strides", "[8, 16, 32, 64, 128]", 1, 4096, "stride of each input level (= anchor base size)"),
    WB_P_FLOAT("pos_iou_thr", "0.5", 0.0, 1.0, "assigner: anchors with IoU >= this are positive"),
    WB_P_FLOAT("neg_iou_thr", "0.4", 0.0, 1.0, "assigner: anchors with max IoU < this are background"),
    WB_P_FLOAT("min_pos_iou", "0.0", 0.0, 1.0, "assigner: a box's best anchors need this IoU to become positive"),
    WB_P_BOOL("match_low_quality", "true", "assigner: every box gets its best-overlapping anchors as positives"),
    WB_P_FLOAT("ignore_iof_thr", "0.5", -1.0, 1.0,
               "anchors covered by an ignore box (crowd, difficult) above this fraction are ignored; <= 0: off"),
    WB_P_CHOICE("normalize", "\"batch\"", normalizations,
                "divide the losses by the positives of the whole batch (mmdetection) or per image, then "
                "average the images (torchvision)"),
    WB_P_FLOAT_LIST("target_means", "[0.0, 0.0, 0.0, 0.0]", -1e3, 1e3, "delta coder means (dx, dy, dw, dh)"),
    WB_P_FLOAT_LIST("target_stds", "[1.0, 1.0, 1.0, 1.0]", 1e-6, 1e3, "delta coder standard deviations"),
    WB_P_MODULE("loss_cls", WB_KIND_LOSS, "{ type = \"focal_loss\"; gamma = 2.0; alpha = 0.25; loss_weight = 1.0; }",
                "classification loss on [anchors, classes] logits and 0/1 targets"),
    WB_P_MODULE("loss_bbox", WB_KIND_LOSS, "{ type = \"l1\"; loss_weight = 1.0; }",
                "box loss on [anchors, 4] deltas (l1, smooth_l1), or on decoded boxes with reg_decoded_bbox "
                "(iou, giou, diou, ciou; l1, smooth_l1)"),
    WB_P_BOOL("reg_decoded_bbox", "false",
              "decode the predicted deltas to boxes (gradient through the decode) and give loss_bbox those and "
              "the gt boxes, as mmdetection's reg_decoded_bbox; required by the IoU losses"),
    WB_P_INT("nms_pre", "1000", 1, 1000000, "test: best candidates kept per level before NMS"),
    WB_P_FLOAT("score_thr", "0.05", 0.0, 1.0, "test: drop candidates scoring at or below this"),
    WB_P_FLOAT("iou_threshold", "0.5", 0.0, 1.0, "test: class-aware NMS IoU threshold"),
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
    .describe = describe,
    .destroy = destroy,
};

static const wb_module_desc retina_head_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_HEAD,
    .type_name = "retina_head",
    .summary = "RetinaNet head: anchors, max-IoU assigner, focal + box losses, class-aware NMS",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("retina_head", "0.1.0", "MIT", &retina_head_desc)
