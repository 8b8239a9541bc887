/* fcos_head: module glue (schema, configuration, declared outputs). The
 * towers are in forward.c, points and targets in points.c and assign.c, the
 * losses in loss.c, test-time decoding in decode.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detections.h"
#include "fcos_head.h"

static const char *const k_variants[] = {"torchvision", "mmdet", NULL};
static const char *const k_norms[] = {"gn", "none", NULL};
static const char *const k_bbox_weights[] = {"none", "centerness", NULL};
static const char *const k_scores[] = {"sqrt", "product", NULL};

static wb_status read_levels(wb_ctx *ctx, fcos_head *h, const wb_params *p, const wb_feature_spec *in, int n_in) {
    const wb_host_api *host = WB_H(ctx);
    h->n_levels = host->param_list_len(p, "strides");
    if (h->n_levels != n_in || n_in > FCOS_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID, "fcos_head: %d strides configured but the neck gives %d feature maps",
                        h->n_levels, n_in);
    if (host->param_list_len(p, "regress_ranges") != n_in + 1)
        return wb_error(ctx, WB_ERR_INVALID, "fcos_head: regress_ranges needs %d boundaries (one more than the %d "
                        "levels), got %d", n_in + 1, n_in, host->param_list_len(p, "regress_ranges"));
    h->in_channels = in[0].channels;
    for (int l = 0; l <= n_in; l++) {
        h->regress_ranges[l] = (float)host->param_float_at(p, "regress_ranges", l);
        if (l > 0 && !(h->regress_ranges[l] > h->regress_ranges[l - 1]))
            return wb_error(ctx, WB_ERR_INVALID, "fcos_head: regress_ranges must increase, but boundary %d (%g) "
                            "follows %g", l, (double)h->regress_ranges[l], (double)h->regress_ranges[l - 1]);
    }
    for (int l = 0; l < n_in; l++) {
        h->strides[l] = (int)host->param_int_at(p, "strides", l);
        if (in[l].channels != h->in_channels)
            return wb_error(ctx, WB_ERR_INVALID, "fcos_head: every level shares the towers, but input %d (%s) has "
                            "%d channels and input 0 has %d", l, in[l].name, in[l].channels, h->in_channels);
        if (in[l].stride != h->strides[l])
            return wb_error(ctx, WB_ERR_INVALID, "fcos_head: input %d (%s) has stride %d but strides[%d] is %d", l,
                            in[l].name, in[l].stride, l, h->strides[l]);
    }
    return WB_OK;
}

static wb_status read_norm(wb_ctx *ctx, fcos_head *h, const wb_params *p) {
    const wb_host_api *host = WB_H(ctx);
    h->num_groups = strcmp(host->param_string(p, "norm"), "gn") == 0 ? (int)host->param_int(p, "num_groups") : 0;
    if (h->num_groups > 0 && h->feat_channels % h->num_groups != 0)
        return wb_error(ctx, WB_ERR_INVALID, "fcos_head: feat_channels %d is not a multiple of num_groups %d (the "
                        "towers' GroupNorm); set num_groups to a divisor of feat_channels", h->feat_channels,
                        h->num_groups);
    if (h->num_groups == 0 && !h->conv_bias)
        return wb_error(ctx, WB_ERR_INVALID, "fcos_head: norm = \"none\" with conv_bias = false leaves the tower "
                        "convs without any offset; set conv_bias = true");
    return WB_OK;
}

static void configure(wb_ctx *ctx, fcos_head *h, const wb_params *p) {
    const wb_host_api *host = WB_H(ctx);
    h->num_classes = (int)host->param_int(p, "num_classes");
    h->feat_channels = (int)host->param_int(p, "feat_channels");
    h->stacked_convs = (int)host->param_int(p, "stacked_convs");
    h->conv_bias = host->param_bool(p, "conv_bias");
    h->prior_prob = (float)host->param_float(p, "prior_prob");
    h->torchvision_assigner = strcmp(host->param_string(p, "assigner"), "torchvision") == 0;
    h->center_offset = (float)host->param_float(p, "center_offset");
    h->center_radius = host->param_bool(p, "center_sampling") ? (float)host->param_float(p, "center_sample_radius")
                                                               : 0.0f;
    h->norm_on_bbox = host->param_bool(p, "norm_on_bbox");
    h->scale_per_level = host->param_bool(p, "scale_per_level");
    h->centerness_on_reg = host->param_bool(p, "centerness_on_reg");
    h->bbox_weight_centerness = strcmp(host->param_string(p, "bbox_loss_weight"), "centerness") == 0;
    h->focal_gamma = (float)host->param_float(p, "focal_gamma");
    h->focal_alpha = (float)host->param_float(p, "focal_alpha");
    h->loss_cls_weight = (float)host->param_float(p, "loss_cls_weight");
    h->loss_bbox_weight = (float)host->param_float(p, "loss_bbox_weight");
    h->loss_centerness_weight = (float)host->param_float(p, "loss_centerness_weight");
    h->score_sqrt = strcmp(host->param_string(p, "score"), "sqrt") == 0;
    h->nms_pre = (int)host->param_int(p, "nms_pre");
    h->score_thr = (float)host->param_float(p, "score_thr");
    h->iou_threshold = (float)host->param_float(p, "iou_threshold");
    h->max_per_img = (int)host->param_int(p, "max_per_img");
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    if (n_in < 1) return wb_error(ctx, WB_ERR_INVALID, "fcos_head: needs at least one feature map");
    fcos_head *h = calloc(1, sizeof *h);
    if (!h) return wb_error(ctx, WB_ERR_NOMEM, "fcos_head: out of memory");
    configure(ctx, h, p);
    if (read_levels(ctx, h, p, in, n_in) != WB_OK || read_norm(ctx, h, p) != WB_OK) {
        free(h);
        return wb_ok(ctx);
    }
    *out = h;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    fcos_head *h = inst;
    static const char *const kinds[3] = {"cls_score", "bbox_pred", "centerness"};
    const int channels[3] = {h->num_classes, 4, 1};
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < h->n_levels; l++) {
            int i = k * h->n_levels + l;
            if (i >= max_out) continue;
            out[i] = (wb_feature_spec){"", channels[k], h->strides[l]};
            snprintf(out[i].name, sizeof out[i].name, "%s_%d", kinds[k], l);
        }
    return 3 * h->n_levels;
}

static wb_status loss(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                      wb_loss_term *terms, int *n_terms) {
    return fcos_loss(inst, ctx, preds, n_preds, truth, terms, n_terms);
}

static wb_status predict(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                         wb_detections *dets) {
    return fcos_predict(inst, ctx, preds, n_preds, meta, dets);
}

static wb_status describe(void *inst, char *buf, size_t size) {
    fcos_head *h = inst;
    snprintf(buf, size, "FCOS head: %d classes, %d levels, %d x %d-channel convs%s, %s targets", h->num_classes,
             h->n_levels, h->stacked_convs, h->feat_channels, h->num_groups ? " with GroupNorm" : "",
             h->torchvision_assigner ? "torchvision" : "mmdetection");
    return WB_OK;
}

static void destroy(void *inst) {
    fcos_head *h = inst;
    free(h->points);
    free(h);
}

static const wb_param_schema params[] = {
    WB_P_REQUIRED_RANGE("num_classes", WB_PARAM_INT, 1, WB_MAX_CLASSES, "number of object classes (no background class)"),
    WB_P_INT("feat_channels", "256", 1, 4096, "channels of the stacked convs of both towers"),
    WB_P_INT("stacked_convs", "4", 0, FCOS_MAX_CONVS, "3x3 conv (+ GroupNorm) + ReLU layers of each tower"),
    WB_P_CHOICE("norm", "\"gn\"", k_norms, "norm after each tower conv: GroupNorm (both), or none"),
    WB_P_INT("num_groups", "32", 1, 4096, "GroupNorm groups (both: 32)"),
    WB_P_BOOL("conv_bias", "true", "tower convs have a bias (torchvision: true; mmdetection's GN head: false)"),
    WB_P_FLOAT("prior_prob", "0.01", 1e-6, 0.5, "initial foreground probability of every class"),
    WB_P_INT_LIST("strides", "[8, 16, 32, 64, 128]", 1, 4096, "stride of each input level"),
    WB_P_FLOAT_LIST("regress_ranges", "[-1.0, 64.0, 128.0, 256.0, 512.0, 1e8]", -1.0, 1e8,
                    "level l regresses points whose largest distance to the box edges lies between boundaries l "
                    "and l + 1 (torchvision: 4 and 8 strides, i.e. these, first and last open)"),
    WB_P_CHOICE("assigner", "\"torchvision\"", k_variants,
                "torchvision: range bounds exclusive, point strides = padded input size // feature size per axis, "
                "the smallest box by torchvision's float32 1e8 - area; mmdet: bounds inclusive, nominal strides"),
    WB_P_FLOAT("center_offset", "0.0", 0.0, 1.0, "points at (x + offset) * stride (torchvision: 0; mmdetection: 0.5)"),
    WB_P_BOOL("center_sampling", "true", "positives only within center_sample_radius strides of a box's center "
              "(torchvision: always; mmdetection: center_sampling = True)"),
    WB_P_FLOAT("center_sample_radius", "1.5", 0.0, 100.0, "center sampling radius in strides (both: 1.5)"),
    WB_P_BOOL("norm_on_bbox", "true", "regress distances in strides through a ReLU (torchvision; mmdetection "
              "norm_on_bbox = True); false: exp, in pixels (mmdetection's default)"),
    WB_P_BOOL("scale_per_level", "false", "a learnable scalar per level multiplies the box regression "
              "(mmdetection's Scale, scales.<l>.scale; torchvision has none)"),
    WB_P_BOOL("centerness_on_reg", "true", "centerness from the box tower (torchvision; mmdetection "
              "centerness_on_reg = True), else from the class tower"),
    WB_P_CHOICE("bbox_loss_weight", "\"none\"", k_bbox_weights,
                "GIoU loss per positive: none (torchvision: summed / positives) or centerness (mmdetection: "
                "weighted by the centerness targets, / their sum)"),
    WB_P_FLOAT("focal_gamma", "2.0", 0.0, 10.0, "focal loss gamma"),
    WB_P_FLOAT("focal_alpha", "0.25", 0.0, 1.0, "focal loss alpha"),
    WB_P_FLOAT("loss_cls_weight", "1.0", 0.0, 1e4, "weight of loss_cls (focal, / positives)"),
    WB_P_FLOAT("loss_bbox_weight", "1.0", 0.0, 1e4, "weight of loss_bbox (GIoU)"),
    WB_P_FLOAT("loss_centerness_weight", "1.0", 0.0, 1e4, "weight of loss_centerness (BCE, / positives)"),
    WB_P_CHOICE("score", "\"sqrt\"", k_scores,
                "test: sqrt(sigmoid(cls) * sigmoid(centerness)) thresholded and ranked (torchvision), or "
                "sigmoid(cls) thresholded and ranked, then times sigmoid(centerness) (product: mmdetection)"),
    WB_P_FLOAT("score_thr", "0.05", 0.0, 1.0, "test: drop candidates scoring at or below this (torchvision's "
               "builder: 0.2; mmdetection: 0.05)"),
    WB_P_INT("nms_pre", "1000", 1, 1000000, "test: best candidates kept per level before NMS (both: 1000)"),
    WB_P_FLOAT("iou_threshold", "0.6", 0.0, 1.0, "test: class-aware NMS IoU threshold (torchvision: 0.6; "
               "mmdetection: 0.5)"),
    WB_P_INT("max_per_img", "100", 1, 100000, "test: detections kept per image (both: 100)"),
    WB_PARAM_END,
};

static const wb_module_vtable vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = create,
    .output_specs = output_specs,
    .init_params = fcos_init_params,
    .forward = fcos_forward,
    .loss = loss,
    .predict = predict,
    .release_detections = det_release,
    .describe = describe,
    .destroy = destroy,
};

static const wb_module_desc fcos_head_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_HEAD,
    .type_name = "fcos_head",
    .summary = "FCOS head: anchor-free points, GroupNorm towers, focal + GIoU + centerness losses (torchvision 0.14 "
               "by default, mmdetection by options)",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("fcos_head", "0.1.0", "MIT", &fcos_head_desc)
