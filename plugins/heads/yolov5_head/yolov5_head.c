/* yolov5_head: module glue (schema, parameters, forward). Targets are in
 * targets.c, the loss in loss.c (with the gather op in gather_op.c), the
 * inference in predict.c. */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detections.h"
#include "yolov5_head.h"

static wb_status read_levels(wb_ctx *ctx, yolov5_head *h, const wb_params *p, const wb_feature_spec *in, int n_in) {
    const wb_host_api *host = WB_H(ctx);
    h->n_levels = host->param_list_len(p, "strides");
    if (n_in < 1 || n_in > YOLOV5_MAX_LEVELS || h->n_levels != n_in)
        return wb_error(ctx, WB_ERR_INVALID, "yolov5_head: %d strides configured but the neck gives %d feature maps "
                        "(1..%d supported)", h->n_levels, n_in, YOLOV5_MAX_LEVELS);
    for (int l = 0; l < n_in; l++) {
        h->strides[l] = (int)host->param_int_at(p, "strides", l);
        h->in_channels[l] = in[l].channels;
        if (in[l].stride != h->strides[l])
            return wb_error(ctx, WB_ERR_INVALID, "yolov5_head: input %d (%s) has stride %d but strides[%d] is %d", l,
                            in[l].name, in[l].stride, l, h->strides[l]);
        if (l > 0 && h->strides[l] <= h->strides[l - 1])
            return wb_error(ctx, WB_ERR_INVALID, "yolov5_head: strides must increase, got %d after %d",
                            h->strides[l], h->strides[l - 1]);
    }
    return WB_OK;
}

/* YOLOv5's check_anchor_order: when the mean anchor area of the levels
 * shrinks as the stride grows, the levels' anchors are swapped end for end
 * (the anchors within a level keep their order). */
static void order_anchors(wb_ctx *ctx, yolov5_head *h) {
    int per_level = 2 * h->na, L = h->n_levels;
    double first = 0, last = 0;
    for (int a = 0; a < h->na; a++) {
        first += h->anchors_cfg[2 * a] * h->anchors_cfg[2 * a + 1];
        last += h->anchors_cfg[(L - 1) * per_level + 2 * a] * h->anchors_cfg[(L - 1) * per_level + 2 * a + 1];
    }
    if (L < 2 || last >= first) return;
    wb_log(ctx, WB_LOG_INFO, "yolov5_head: the anchors shrink as the stride grows; reversing their levels (as "
           "YOLOv5's check_anchor_order)");
    float tmp[YOLOV5_MAX_LEVELS * YOLOV5_MAX_ANCHORS * 2];
    for (int l = 0; l < L; l++)
        memcpy(tmp + l * per_level, h->anchors_cfg + (L - 1 - l) * per_level, (size_t)per_level * sizeof(float));
    memcpy(h->anchors_cfg, tmp, (size_t)(L * per_level) * sizeof(float));
}

static wb_status read_anchors(wb_ctx *ctx, yolov5_head *h, const wb_params *p) {
    const wb_host_api *host = WB_H(ctx);
    int n = host->param_list_len(p, "anchors");
    if (n % (2 * h->n_levels) != 0 || n / (2 * h->n_levels) < 1 || n / (2 * h->n_levels) > YOLOV5_MAX_ANCHORS)
        return wb_error(ctx, WB_ERR_INVALID, "yolov5_head: anchors has %d values; it needs the same number of (w, h) "
                        "pairs for each of the %d levels (1..%d per level), e.g. YOLOv5's 18 for 3 levels", n,
                        h->n_levels, YOLOV5_MAX_ANCHORS);
    h->na = n / (2 * h->n_levels);
    for (int i = 0; i < n; i++) h->anchors_cfg[i] = (float)host->param_float_at(p, "anchors", i);
    order_anchors(ctx, h);
    return WB_OK;
}

/* YOLOv5's train.py: box *= 3 / nl, cls *= nc / 80 * 3 / nl,
 * obj *= (imgsz / 640)^2 * 3 / nl (MMYOLO's configs write the same). */
static void read_gains(yolov5_head *h, const wb_host_api *host, const wb_params *p) {
    double levels = 3.0 / h->n_levels, img = (double)host->param_int(p, "img_size") / 640.0;
    bool scale = host->param_bool(p, "scale_gains");
    h->box_gain = (float)(host->param_float(p, "box") * (scale ? levels : 1.0));
    h->cls_gain = (float)(host->param_float(p, "cls") * (scale ? h->num_classes / 80.0 * levels : 1.0));
    h->obj_gain = (float)(host->param_float(p, "obj") * (scale ? img * img * levels : 1.0));
    h->cls_pw = (float)host->param_float(p, "cls_pw");
    h->obj_pw = (float)host->param_float(p, "obj_pw");
    h->anchor_t = (float)host->param_float(p, "anchor_t");
    h->fl_gamma = (float)host->param_float(p, "fl_gamma");
    h->label_smoothing = (float)host->param_float(p, "label_smoothing");
    h->gr = (float)host->param_float(p, "gr");
}

static wb_status read_balance(wb_ctx *ctx, yolov5_head *h, const wb_params *p) {
    const wb_host_api *host = WB_H(ctx);
    if (host->param_list_len(p, "balance") != h->n_levels)
        return wb_error(ctx, WB_ERR_INVALID, "yolov5_head: balance has %d values but there are %d levels (YOLOv5: "
                        "[4.0, 1.0, 0.4] for 3, [4.0, 1.0, 0.25, 0.06, 0.02] for 5)",
                        host->param_list_len(p, "balance"), h->n_levels);
    for (int l = 0; l < h->n_levels; l++) h->balance[l] = (float)host->param_float_at(p, "balance", l);
    return WB_OK;
}

static wb_status read_class_frequencies(wb_ctx *ctx, yolov5_head *h, const wb_params *p) {
    const wb_host_api *host = WB_H(ctx);
    int n = host->param_list_len(p, "class_frequencies");
    if (n == 0) return WB_OK;
    if (n != h->num_classes)
        return wb_error(ctx, WB_ERR_INVALID, "yolov5_head: class_frequencies has %d values for %d classes", n,
                        h->num_classes);
    h->class_frequencies = malloc((size_t)n * sizeof(float));
    if (!h->class_frequencies) return wb_error(ctx, WB_ERR_NOMEM, "yolov5_head: out of memory");
    for (int k = 0; k < n; k++) h->class_frequencies[k] = (float)host->param_float_at(p, "class_frequencies", k);
    return WB_OK;
}

static void destroy(void *inst) {
    yolov5_head *h = inst;
    free(h->class_frequencies);
    free(h);
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *host = WB_H(ctx);
    yolov5_head *h = calloc(1, sizeof *h);
    if (!h) return wb_error(ctx, WB_ERR_NOMEM, "yolov5_head: out of memory");
    h->num_classes = (int)host->param_int(p, "num_classes");
    h->no = 5 + h->num_classes;
    h->multi_label = host->param_bool(p, "multi_label");
    h->agnostic = host->param_bool(p, "agnostic");
    h->nms_pre = (int)host->param_int(p, "nms_pre");
    h->max_per_img = (int)host->param_int(p, "max_per_img");
    h->score_thr = (float)host->param_float(p, "score_thr");
    h->iou_threshold = (float)host->param_float(p, "iou_threshold");
    if (read_levels(ctx, h, p, in, n_in) == WB_OK && read_anchors(ctx, h, p) == WB_OK &&
        read_balance(ctx, h, p) == WB_OK && read_class_frequencies(ctx, h, p) == WB_OK)
        read_gains(h, host, p); /* scaled by the number of levels */
    if (wb_ok(ctx) != WB_OK) {
        destroy(h);
        return wb_ok(ctx);
    }
    *out = h;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    yolov5_head *h = inst;
    for (int l = 0; l < h->n_levels && l < max_out; l++) {
        out[l] = (wb_feature_spec){"", h->na * h->no, h->strides[l]};
        snprintf(out[l].name, sizeof out[l].name, "pred_%d", l);
    }
    return h->n_levels;
}

/* YOLOv5's Detect._initialize_biases on top of PyTorch's default conv init:
 * objectness for 8 objects per 640 x 640 image, classes at 0.6 / (K - 0.99999)
 * (or the given class frequencies). */
static void prior_biases(const yolov5_head *h, int l, float *bias) {
    double s = h->strides[l], obj = log(8.0 / ((640.0 / s) * (640.0 / s)));
    double sum = 0;
    for (int k = 0; h->class_frequencies && k < h->num_classes; k++) sum += h->class_frequencies[k];
    for (int a = 0; a < h->na; a++) {
        float *b = bias + a * h->no;
        b[4] += (float)obj;
        for (int k = 0; k < h->num_classes; k++)
            b[5 + k] += (float)(h->class_frequencies ? log(h->class_frequencies[k] / sum)
                                                     : log(0.6 / (h->num_classes - 0.99999)));
    }
}

static wb_status init_params(void *inst, wb_ctx *ctx) {
    yolov5_head *h = inst;
    char name[WB_NAME_MAX];
    for (int l = 0; l < h->n_levels; l++) {
        int64_t ws[4] = {h->na * h->no, h->in_channels[l], 1, 1}, bs[1] = {h->na * h->no};
        float bound = 1.0f / sqrtf((float)h->in_channels[l]); /* PyTorch's Conv2d bias init */
        wb_init bias_init = {WB_INIT_UNIFORM, 0, 0, 0, -bound, bound, 0};
        snprintf(name, sizeof name, "head_module.convs_pred.%d.weight", l);
        h->w[l] = wb_param(ctx, name, 4, ws, wb_init_kaiming_uniform(sqrtf(5.0f)), 1);
        snprintf(name, sizeof name, "head_module.convs_pred.%d.bias", l);
        h->b[l] = wb_param(ctx, name, 1, bs, bias_init, 1);
        float *bias = wb_map(ctx, h->b[l]);
        if (!bias) return wb_ok(ctx);
        prior_biases(h, l, bias);
        wb_unmap(ctx, h->b[l]);
    }
    int64_t as[3] = {h->n_levels, h->na, 2};
    h->anchors = wb_buffer(ctx, "anchors", 3, as, wb_init_constant(0.0f));
    float *anchors = wb_map(ctx, h->anchors);
    if (!anchors) return wb_ok(ctx);
    memcpy(anchors, h->anchors_cfg, (size_t)(h->n_levels * h->na * 2) * sizeof(float));
    wb_unmap(ctx, h->anchors);
    return wb_ok(ctx);
}

const float *yolov5_anchors(const yolov5_head *h, wb_ctx *ctx, int l) {
    const float *a = wb_map(ctx, h->anchors);
    return a ? a + l * 2 * h->na : NULL;
}

static wb_status forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    yolov5_head *h = inst;
    if (n_in != h->n_levels || n_out != h->n_levels)
        return wb_error(ctx, WB_ERR_INVALID, "yolov5_head: forward got %d inputs and %d outputs, expected %d each",
                        n_in, n_out, h->n_levels);
    wb_conv2d_params one = wb_conv_p(1, 0, 1, 1);
    for (int l = 0; l < h->n_levels; l++) out[l] = wb_conv2d(ctx, in[l], h->w[l], h->b[l], &one);
    return wb_ok(ctx);
}

static wb_status loss(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                      wb_loss_term *terms, int *n_terms) {
    return yolov5_loss(inst, ctx, preds, n_preds, truth, terms, n_terms);
}

static wb_status predict(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                         wb_detections *dets) {
    return yolov5_predict(inst, ctx, preds, n_preds, meta, dets);
}

static wb_status describe(void *inst, char *buf, size_t size) {
    yolov5_head *h = inst;
    snprintf(buf, size, "YOLOv5 head: %d classes, %d levels, %d anchors per cell", h->num_classes, h->n_levels,
             h->na);
    return WB_OK;
}

static const wb_param_schema params[] = {
    WB_P_REQUIRED_RANGE("num_classes", WB_PARAM_INT, 1, WB_MAX_CLASSES, "number of object classes"),
    WB_P_INT_LIST("strides", "[8, 16, 32]", 1, 4096, "stride of each input level (the neck's outputs)"),
    WB_P_FLOAT_LIST("anchors", "[10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326]",
                    1e-3, 1e5, "anchor (w, h) pairs in pixels, level by level (YOLOv5's P3/P4/P5 by default); "
                    "listed largest first they are reversed, as YOLOv5's check_anchor_order does"),
    WB_P_FLOAT_LIST("class_frequencies", "[]", 1e-9, 1e12,
                    "initial class biases log(f_k / sum f) (YOLOv5's _initialize_biases cf); empty: "
                    "log(0.6 / (num_classes - 0.99999))"),
    WB_P_FLOAT("box", "0.05", 0.0, 1e3, "box (CIoU) loss gain (hyp box)"),
    WB_P_FLOAT("obj", "1.0", 0.0, 1e3, "objectness loss gain (hyp obj)"),
    WB_P_FLOAT("cls", "0.5", 0.0, 1e3, "classification loss gain (hyp cls)"),
    WB_P_BOOL("scale_gains", "true",
              "scale the gains as YOLOv5's train.py: box *= 3/levels, cls *= num_classes/80 * 3/levels, "
              "obj *= (img_size/640)^2 * 3/levels"),
    WB_P_INT("img_size", "640", 1, 100000, "training image size (YOLOv5's --img) that scales the objectness gain"),
    WB_P_FLOAT("cls_pw", "1.0", 1e-6, 1e3, "positive weight of the classification BCE (hyp cls_pw)"),
    WB_P_FLOAT("obj_pw", "1.0", 1e-6, 1e3, "positive weight of the objectness BCE (hyp obj_pw)"),
    WB_P_FLOAT("anchor_t", "4.0", 1.0, 1e3,
               "a box is a target of an anchor when its width and height ratios to it are below this (hyp anchor_t)"),
    WB_P_FLOAT("fl_gamma", "0.0", 0.0, 10.0, "focal loss gamma on both BCEs, alpha 0.25; 0: plain BCE (hyp fl_gamma)"),
    WB_P_FLOAT("label_smoothing", "0.0", 0.0, 1.0,
               "class targets 1 - eps/2 and eps/2 (YOLOv5's smooth_BCE; --label-smoothing)"),
    WB_P_FLOAT("gr", "1.0", 0.0, 1.0,
               "objectness target of a target's cell: (1 - gr) + gr * CIoU (detached, clamped at 0); YOLOv5: 1. "
               "gr = 0 (target 1) makes the loss a function of the predictions alone, for gradcheck"),
    WB_P_FLOAT_LIST("balance", "[4.0, 1.0, 0.4]", 0.0, 1e3, "objectness loss weight of each level"),
    WB_P_BOOL("multi_label", "true",
              "test: every class above score_thr makes a detection (YOLOv5's val.py); false: the best class only "
              "(detect.py)"),
    WB_P_BOOL("agnostic", "false", "test: NMS across classes"),
    WB_P_FLOAT("score_thr", "0.001", 0.0, 1.0,
               "test: candidates need objectness and objectness * class probability above this"),
    WB_P_INT("nms_pre", "30000", 1, 10000000, "test: best candidates of an image kept before NMS (YOLOv5's max_nms)"),
    WB_P_FLOAT("iou_threshold", "0.6", 0.0, 1.0, "test: NMS IoU threshold (YOLOv5's val.py 0.6; train.py on COCO 0.65)"),
    WB_P_INT("max_per_img", "300", 1, 100000, "test: detections kept per image"),
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

static const wb_module_desc yolov5_head_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_HEAD,
    .type_name = "yolov5_head",
    .summary = "YOLOv5 Detect head: anchors with shape-ratio matching, CIoU + objectness + class BCE, YOLOv5's NMS",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("yolov5_head", "0.1.0", "MIT", &yolov5_head_desc)
