/* roi_head: module glue (schema, parameters, forward); the stage's loss and
 * predict are in roi_head_run.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "roi_head.h"

static const char *const box_heads[] = {"shared2fc", "res5", NULL};
static const char *const res5_norms[] = {"frozen_bn", "bn", NULL};

/* bbox_head = "res5": layer4's Bottlenecks (width C / 2) on the pooled C
 * channels, then fc_cls / fc_reg straight on the pooled 2C channels. */
static wb_status read_res5(wb_ctx *ctx, roi_head *h, const wb_params *p) {
    const wb_host_api *host = WB_H(ctx);
    h->use_res5 = strcmp(host->param_string(p, "bbox_head"), "res5") == 0;
    if (!h->use_res5 || wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    int c = h->det.roi_specs[0].channels;
    if (c % 2 != 0)
        return wb_error(ctx, WB_ERR_INVALID, "roi_head: bbox_head \"res5\" widens the pooled channels to 2C with "
                        "Bottlenecks of width C / 2, but the pooled input has %d (odd) channels", c);
    h->res5 = (res5_head){.n_blocks = (int)host->param_int(p, "res5_blocks"), .in_channels = c, .width = c / 2,
                          .norm = {.frozen_bn = strcmp(host->param_string(p, "res5_norm"), "frozen_bn") == 0}};
    h->bbox.in_features = 2 * c;
    h->bbox.num_fcs = 0;
    return WB_OK;
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *host = WB_H(ctx);
    roi_head *h = calloc(1, sizeof *h);
    if (!h) return wb_error(ctx, WB_ERR_NOMEM, "roi_head: out of memory");
    if (host->param_list_len(p, "target_means") != 4 || host->param_list_len(p, "target_stds") != 4)
        wb_error(ctx, WB_ERR_INVALID, "roi_head: target_means and target_stds need 4 values (dx, dy, dw, dh)");
    if (wb_ok(ctx) == WB_OK && ts_detector_create(ctx, &h->det, p, in, n_in) == WB_OK) {
        ts_stage_cfg_read(ctx, p, &h->stage, &h->test);
        h->bbox = ts_detector_bbox_head_cfg(ctx, &h->det, p, h->stage.num_classes);
        ts_detector_check_pooled_channels(ctx, &h->det, "roi_head");
        read_res5(ctx, h, p);
        if (wb_ok(ctx) == WB_OK) ts_losses_create(ctx, p, &h->losses, "roi_head");
    }
    if (wb_ok(ctx) != WB_OK) {
        free(h);
        return wb_ok(ctx);
    }
    *out = h;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    roi_head *h = inst;
    return ts_detector_output_specs(&h->det, out, max_out);
}

static wb_status init_params(void *inst, wb_ctx *ctx) {
    roi_head *h = inst;
    if (h->use_res5) res5_params(ctx, &h->res5);
    return ts_bbox_head_params(ctx, &h->bbox, "bbox_head");
}

static wb_status forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    roi_head *h = inst;
    return ts_detector_forward(ctx, &h->det, in, n_in, out, n_out);
}

static wb_status loss(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                      wb_loss_term *terms, int *n_terms) {
    return roi_head_loss(inst, ctx, preds, n_preds, truth, terms, n_terms);
}

static wb_status predict(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                         wb_detections *dets) {
    return roi_head_predict(inst, ctx, preds, n_preds, meta, dets);
}

static wb_status describe(void *inst, char *buf, size_t size) {
    roi_head *h = inst;
    char box[64];
    if (h->use_res5)
        snprintf(box, sizeof box, "res5 (%d Bottlenecks, %d -> %d channels)", h->res5.n_blocks, h->res5.in_channels,
                 4 * h->res5.width);
    else
        snprintf(box, sizeof box, "%d x %d fcs", h->bbox.num_fcs, h->bbox.fc_channels);
    snprintf(buf, size, "Faster R-CNN RoI head: %d classes, %d pooled levels, %dx%d %s, %s, %s deltas",
             h->stage.num_classes, h->det.n_roi, h->det.extractor.roi_size, h->det.extractor.roi_size,
             h->det.extractor.levels.use_roi_pool ? "RoIPool" : "RoIAlign", box,
             h->bbox.class_agnostic ? "class-agnostic" : "class-specific");
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const wb_param_schema params[] = {
    WB_P_REQUIRED_RANGE("num_classes", WB_PARAM_INT, 1, WB_MAX_CLASSES,
                        "number of object classes; the classifier adds the background as class num_classes (last)"),
    TS_DETECTOR_PARAMS,
    WB_P_INT("fc_channels", "1024", 1, 65536, "width of the shared fully connected layers"),
    WB_P_INT("num_shared_fcs", "2", 0, TS_MAX_FCS, "shared fully connected layers (Shared2FCBBoxHead: 2)"),
    WB_P_CHOICE("bbox_head", "\"shared2fc\"", box_heads, "shared2fc: mmdetection's Shared2FCBBoxHead (fc_channels, "
                "num_shared_fcs); res5: Detectron2's Res5ROIHeads, the Keras Faster R-CNN's: ResNet layer4 on the "
                "pooled RoIs (res5.* with torchvision's names: a ResNet-50 checkpoint's layer4.*), average pooling, "
                "fc_cls / fc_reg"),
    WB_P_INT("res5_blocks", "3", 1, RES5_MAX_BLOCKS, "bbox_head res5: Bottlenecks (ResNet-50/101's layer4: 3)"),
    WB_P_CHOICE("res5_norm", "\"frozen_bn\"", res5_norms, "bbox_head res5: frozen_bn keeps the BN statistics "
                "and affine parameters fixed (Detectron2 and the Keras seed with pretrained weights); bn trains them "
                "with the statistics of the sampled RoIs"),
    WB_P_BOOL("reg_class_agnostic", "false", "one set of deltas for all classes instead of one per class"),
    WB_P_FLOAT_LIST("target_stds", "[0.1, 0.1, 0.2, 0.2]", 1e-6, 1e3, "delta coder standard deviations"),
    TS_ASSIGN_PARAMS("0.5", "0.5"),
    TS_STAGE_PARAMS("512", "0.25"),
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

static const wb_module_desc roi_head_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_HEAD,
    .type_name = "roi_head",
    .summary = "Faster R-CNN: an RPN sub-module, RoIAlign/RoIPool over the pyramid, Shared2FC box head, max-IoU "
               "assigner + random sampler, per-class NMS",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("roi_head", "0.1.0", "MIT", &roi_head_desc)
