/* cascade_roi_head: module glue (schema, parameters, forward); the stages'
 * loss and predict are in cascade_run.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cascade_roi_head.h"

static wb_status read_stages(wb_ctx *ctx, cascade_roi_head *h, const wb_params *p) {
    const wb_host_api *host = WB_H(ctx);
    int n = host->param_list_len(p, "stage_iou_thrs");
    if (n < 1 || n > CASCADE_MAX_STAGES || host->param_list_len(p, "stage_loss_weights") != n ||
        host->param_list_len(p, "stage_target_stds") != 4 * n)
        return wb_error(ctx, WB_ERR_INVALID, "cascade_roi_head: %d stage_iou_thrs (1..%d), %d stage_loss_weights "
                        "and %d stage_target_stds (4 per stage) do not describe the same stages", n,
                        CASCADE_MAX_STAGES, host->param_list_len(p, "stage_loss_weights"),
                        host->param_list_len(p, "stage_target_stds"));
    h->n_stages = n;
    ts_roi_stage_cfg base;
    ts_stage_cfg_read(ctx, p, &base, &h->test);
    for (int s = 0; s < n; s++) {
        h->stage[s] = base;
        float thr = (float)host->param_float_at(p, "stage_iou_thrs", s);
        h->stage[s].assigner.pos_iou_thr = h->stage[s].assigner.neg_iou_thr = h->stage[s].assigner.min_pos_iou = thr;
        for (int i = 0; i < 4; i++) h->stage[s].stds[i] = (float)host->param_float_at(p, "stage_target_stds", 4 * s + i);
        h->loss_weight[s] = (float)host->param_float_at(p, "stage_loss_weights", s);
        h->bbox[s] = ts_detector_bbox_head_cfg(ctx, &h->det, p, base.num_classes);
    }
    return wb_ok(ctx);
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    cascade_roi_head *h = calloc(1, sizeof *h);
    if (!h) return wb_error(ctx, WB_ERR_NOMEM, "cascade_roi_head: out of memory");
    if (WB_H(ctx)->param_list_len(p, "target_means") != 4)
        wb_error(ctx, WB_ERR_INVALID, "cascade_roi_head: target_means needs 4 values (dx, dy, dw, dh)");
    if (wb_ok(ctx) == WB_OK && ts_detector_create(ctx, &h->det, p, in, n_in) == WB_OK &&
        read_stages(ctx, h, p) == WB_OK) {
        ts_detector_check_pooled_channels(ctx, &h->det, "cascade_roi_head");
        if (wb_ok(ctx) == WB_OK) ts_losses_create(ctx, p, &h->losses, "cascade_roi_head");
    }
    if (wb_ok(ctx) != WB_OK) {
        free(h);
        return wb_ok(ctx);
    }
    *out = h;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    cascade_roi_head *h = inst;
    return ts_detector_output_specs(&h->det, out, max_out);
}

static wb_status init_params(void *inst, wb_ctx *ctx) {
    cascade_roi_head *h = inst;
    for (int s = 0; s < h->n_stages; s++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "bbox_head.%d", s);
        ts_bbox_head_params(ctx, &h->bbox[s], prefix);
    }
    return wb_ok(ctx);
}

static wb_status forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    cascade_roi_head *h = inst;
    return ts_detector_forward(ctx, &h->det, in, n_in, out, n_out);
}

static wb_status loss(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                      wb_loss_term *terms, int *n_terms) {
    return cascade_loss(inst, ctx, preds, n_preds, truth, terms, n_terms);
}

static wb_status predict(void *inst, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                         wb_detections *dets) {
    return cascade_predict(inst, ctx, preds, n_preds, meta, dets);
}

static wb_status describe(void *inst, char *buf, size_t size) {
    cascade_roi_head *h = inst;
    snprintf(buf, size, "Cascade R-CNN RoI head: %d classes, %d stages, %d pooled levels, %s", h->stage[0].num_classes,
             h->n_stages, h->det.n_roi, h->det.extractor.levels.use_roi_pool ? "RoIPool" : "RoIAlign");
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const wb_param_schema params[] = {
    WB_P_REQUIRED_RANGE("num_classes", WB_PARAM_INT, 1, WB_MAX_CLASSES,
                        "number of object classes; the classifiers add the background as class num_classes (last)"),
    TS_DETECTOR_PARAMS,
    WB_P_INT("fc_channels", "1024", 1, 65536, "width of each stage's shared fully connected layers"),
    WB_P_INT("num_shared_fcs", "2", 0, TS_MAX_FCS, "shared fully connected layers per stage (Shared2FCBBoxHead: 2)"),
    WB_P_BOOL("reg_class_agnostic", "true", "one set of deltas for all classes (Cascade R-CNN's choice)"),
    WB_P_FLOAT_LIST("stage_iou_thrs", "[0.5, 0.6, 0.7]", 0.0, 1.0,
                    "per stage: RoIs with IoU >= this are positive, below it background"),
    WB_P_FLOAT_LIST("stage_loss_weights", "[1.0, 0.5, 0.25]", 0.0, 1e3, "per stage: factor of its loss terms"),
    WB_P_FLOAT_LIST("stage_target_stds", "[0.1, 0.1, 0.2, 0.2, 0.05, 0.05, 0.1, 0.1, 0.033, 0.033, 0.067, 0.067]",
                    1e-6, 1e3, "per stage: the delta coder's 4 standard deviations"),
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

static const wb_module_desc cascade_roi_head_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_HEAD,
    .type_name = "cascade_roi_head",
    .summary = "Cascade R-CNN: an RPN sub-module, then RoI stages with rising IoU thresholds on refined boxes, "
               "stage scores averaged at test",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("cascade_roi_head", "0.1.0", "MIT", &cascade_roi_head_desc)
