/* The plumbing of a two-stage head (see detector.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "detector.h"

const char *const ts_roi_level_rules[] = {"mmdet", "torchvision", NULL};
const char *const ts_roi_pool_kinds[] = {"align", "pool", NULL};
const char *const ts_box_coders[] = {"mmdet", "torchvision", NULL};

static wb_status read_extractor(wb_ctx *ctx, ts_detector *d, const wb_params *p, const wb_feature_spec *in, int n_in) {
    const wb_host_api *host = WB_H(ctx);
    ts_roi_extractor *ex = &d->extractor;
    d->n_roi = host->param_list_len(p, "roi_strides");
    if (d->n_roi < 1 || d->n_roi > TS_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID, "roi_strides: %d levels (1..%d)", d->n_roi, TS_MAX_LEVELS);
    for (int l = 0; l < d->n_roi; l++) {
        int stride = (int)host->param_int_at(p, "roi_strides", l), found = -1;
        for (int i = 0; i < n_in && found < 0; i++) found = in[i].stride == stride ? i : -1;
        if (found < 0)
            return wb_error(ctx, WB_ERR_INVALID, "roi_strides[%d] is %d but no input feature map has that stride", l,
                            stride);
        if (l > 0 && stride != 2 * (int)host->param_int_at(p, "roi_strides", l - 1))
            return wb_error(ctx, WB_ERR_INVALID, "roi_strides must double from level to level (4, 8, 16, 32), got %d "
                            "after %d", stride, (int)host->param_int_at(p, "roi_strides", l - 1));
        d->roi_input[l] = found;
        d->roi_specs[l] = in[found];
        snprintf(d->roi_specs[l].name, sizeof d->roi_specs[l].name, "roi_feat_%d", l);
        ex->scales[l] = 1.0f / (float)stride;
    }
    ex->n_levels = d->n_roi;
    ex->roi_size = (int)host->param_int(p, "roi_size");
    ex->sampling_ratio = (int)host->param_int(p, "sampling_ratio");
    ex->aligned = host->param_bool(p, "aligned");
    ex->levels = strcmp(host->param_string(p, "roi_levels"), "torchvision") == 0 ? wb_roi_levels_torchvision()
                                                                               : wb_roi_levels_mmdet();
    ex->levels.finest_scale = (float)host->param_float(p, "finest_scale");
    ex->levels.use_roi_pool = strcmp(host->param_string(p, "roi_pool"), "pool") == 0;
    return WB_OK;
}

wb_status ts_detector_create(wb_ctx *ctx, ts_detector *d, const wb_params *p, const wb_feature_spec *in, int n_in) {
    const wb_host_api *host = WB_H(ctx);
    memset(d, 0, sizeof *d);
    d->n_in = n_in;
    if (read_extractor(ctx, d, p, in, n_in) != WB_OK) return wb_ok(ctx);
    d->rpn = host->submodule_create(ctx, host->param_section(p, "rpn"), "rpn", in, n_in);
    if (!d->rpn) return wb_ok(ctx);
    d->n_rpn_out = host->submodule_output_specs(d->rpn, d->rpn_specs, 16);
    if (d->n_rpn_out + d->n_roi > 16)
        return wb_error(ctx, WB_ERR_INVALID, "the rpn has %d outputs and %d feature maps are pooled: more than the "
                        "16 outputs a head may have", d->n_rpn_out, d->n_roi);
    return WB_OK;
}

int ts_detector_n_out(const ts_detector *d) { return d->n_rpn_out + d->n_roi; }

int ts_detector_output_specs(const ts_detector *d, wb_feature_spec *out, int max_out) {
    wb_feature_spec all[16];
    memcpy(all, d->rpn_specs, (size_t)d->n_rpn_out * sizeof *all);
    memcpy(all + d->n_rpn_out, d->roi_specs, (size_t)d->n_roi * sizeof *all);
    int n = ts_detector_n_out(d);
    memcpy(out, all, (size_t)(n < max_out ? n : max_out) * sizeof *out);
    return n;
}

wb_status ts_detector_forward(wb_ctx *ctx, const ts_detector *d, wb_tensor *const *in, int n_in, wb_tensor **out,
                              int n_out) {
    if (n_in != d->n_in || n_out != ts_detector_n_out(d))
        return wb_error(ctx, WB_ERR_INVALID, "forward got %d inputs and %d outputs, expected %d and %d", n_in, n_out,
                        d->n_in, ts_detector_n_out(d));
    if (WB_H(ctx)->submodule_forward(ctx, d->rpn, in, n_in, out, d->n_rpn_out) != WB_OK) return wb_ok(ctx);
    /* Passed through: loss() and predict() pool from them; they stay the neck's tensors. */
    for (int l = 0; l < d->n_roi; l++) out[d->n_rpn_out + l] = in[d->roi_input[l]];
    return wb_ok(ctx);
}

wb_status ts_detector_proposals(wb_ctx *ctx, const ts_detector *d, wb_tensor *const *preds, const wb_batch_truth *truth,
                                ts_boxes *out) {
    const wb_host_api *host = WB_H(ctx);
    int B = truth->batch;
    wb_gt_image *geo = calloc((size_t)B + 1, sizeof *geo);
    wb_detections *dets = calloc((size_t)B + 1, sizeof *dets);
    if (!geo || !dets || ts_boxes_alloc(ctx, out, B) != WB_OK) {
        free(geo), free(dets);
        return wb_error(ctx, WB_ERR_NOMEM, "two-stage: out of memory for proposals");
    }
    for (int n = 0; n < B; n++) {
        const wb_gt_image *img = &truth->images[n];
        geo[n] = (wb_gt_image){sizeof(wb_gt_image), 0, NULL, NULL, NULL, img->img_h, img->img_w, img->img_h,
                               img->img_w, 1.0f, 1.0f, img->image_id, 0.0f, 0.0f};
    }
    wb_batch_truth meta = {sizeof meta, B, truth->pad_h, truth->pad_w, geo};
    if (host->submodule_predict(ctx, d->rpn, preds, d->n_rpn_out, &meta, dets) == WB_OK) {
        for (int n = 0; n < B; n++) {
            out->counts[n] = dets[n].num;
            out->boxes[n] = malloc(((size_t)dets[n].num + 1) * 4 * sizeof(float));
            if (!out->boxes[n]) {
                wb_error(ctx, WB_ERR_NOMEM, "two-stage: out of memory for proposals");
                break;
            }
            if (dets[n].num > 0) memcpy(out->boxes[n], dets[n].boxes, (size_t)dets[n].num * 4 * sizeof(float));
        }
        host->submodule_release_detections(d->rpn, dets, B);
    }
    free(geo), free(dets);
    return wb_ok(ctx);
}

void ts_stage_cfg_read(wb_ctx *ctx, const wb_params *p, ts_roi_stage_cfg *cfg, ts_test_cfg *test) {
    const wb_host_api *host = WB_H(ctx);
    cfg->num_classes = (int)host->param_int(p, "num_classes");
    /* a cascade sets the thresholds per stage */
    int has_thr = host->param_has(p, "pos_iou_thr");
    cfg->assigner = (ts_assigner){has_thr ? (float)host->param_float(p, "pos_iou_thr") : 0.5f,
                                  has_thr ? (float)host->param_float(p, "neg_iou_thr") : 0.5f,
                                  has_thr ? (float)host->param_float(p, "min_pos_iou") : 0.5f,
                                  host->param_bool(p, "match_low_quality"), (float)host->param_float(p, "ignore_iof_thr")};
    cfg->sampler_num = (int)host->param_int(p, "sampler_num");
    cfg->pos_fraction = (float)host->param_float(p, "pos_fraction");
    cfg->add_gt = host->param_bool(p, "add_gt_as_proposals");
    cfg->torchvision = strcmp(host->param_string(p, "box_coder"), "torchvision") == 0;
    for (int i = 0; i < 4; i++) {
        cfg->means[i] = (float)host->param_float_at(p, "target_means", i);
        cfg->stds[i] = host->param_has(p, "target_stds") ? (float)host->param_float_at(p, "target_stds", i) : 1.0f;
    }
    *test = (ts_test_cfg){(float)host->param_float(p, "score_thr"), (float)host->param_float(p, "iou_threshold"),
                          (float)host->param_float(p, "min_bbox_size"), (int)host->param_int(p, "max_per_img")};
}

static int reduces_by_mean(wb_ctx *ctx, const wb_params *p, const char *key, const char *owner) {
    const wb_params *sec = WB_H(ctx)->param_section(p, key);
    const char *r = WB_H(ctx)->param_has(sec, "reduction") ? WB_H(ctx)->param_string(sec, "reduction") : "sum";
    if (strcmp(r, "none") == 0)
        wb_error(ctx, WB_ERR_INVALID, "%s: %s has reduction \"none\"; use \"sum\" or \"mean\" (the head divides "
                 "either by the number of sampled RoIs)", owner, key);
    return strcmp(r, "mean") == 0;
}

ts_bbox_head ts_detector_bbox_head_cfg(wb_ctx *ctx, const ts_detector *d, const wb_params *p,
                                        int num_classes) {
    const wb_host_api *host = WB_H(ctx);
    const ts_roi_extractor *ex = &d->extractor;
    return (ts_bbox_head){.in_features = d->roi_specs[0].channels * ex->roi_size * ex->roi_size,
                          .fc_channels = (int)host->param_int(p, "fc_channels"),
                          .num_fcs = (int)host->param_int(p, "num_shared_fcs"),
                          .num_classes = num_classes,
                          .class_agnostic = host->param_bool(p, "reg_class_agnostic")};
}

wb_status ts_detector_check_pooled_channels(wb_ctx *ctx, const ts_detector *d, const char *owner) {
    for (int l = 1; l < d->n_roi; l++)
        if (d->roi_specs[l].channels != d->roi_specs[0].channels)
            wb_error(ctx, WB_ERR_INVALID, "%s: pooled inputs need equal channels; level %d has %d, level 0 %d", owner,
                     l, d->roi_specs[l].channels, d->roi_specs[0].channels);
    return wb_ok(ctx);
}

wb_status ts_losses_create(wb_ctx *ctx, const wb_params *p, ts_roi_losses *l, const char *owner) {
    const wb_host_api *host = WB_H(ctx);
    l->cls_mean = reduces_by_mean(ctx, p, "loss_cls", owner);
    l->bbox_mean = reduces_by_mean(ctx, p, "loss_bbox", owner);
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    l->cls = host->submodule_create(ctx, host->param_section(p, "loss_cls"), "loss_cls", NULL, 0);
    l->bbox = host->submodule_create(ctx, host->param_section(p, "loss_bbox"), "loss_bbox", NULL, 0);
    return wb_ok(ctx);
}
