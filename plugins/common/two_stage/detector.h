/* What every two-stage head plugin does around its RoI stages: own the RPN
 * as a sub-module, pass the pooled feature maps through as outputs, and ask
 * the RPN for proposals (its predict, in input pixels). See
 * docs/writing-a-plugin.md, "A two-stage head". */
#ifndef TS_DETECTOR_H
#define TS_DETECTOR_H

#include "roi_stage.h"

typedef struct ts_detector {
    wb_submodule *rpn;
    int n_rpn_out, n_in, n_roi;
    int roi_input[TS_MAX_LEVELS];            /* inputs pooled, finest first */
    wb_feature_spec roi_specs[TS_MAX_LEVELS];
    wb_feature_spec rpn_specs[16];
    ts_roi_extractor extractor;
} ts_detector;

/* Creates the `rpn` sub-module on all inputs and reads the extractor keys
 * (roi_strides, roi_size, sampling_ratio, aligned, roi_levels, roi_pool). */
wb_status ts_detector_create(wb_ctx *ctx, ts_detector *d, const wb_params *p, const wb_feature_spec *in, int n_in);
/* The RPN's specs, then the pooled inputs' (passed through). */
int ts_detector_output_specs(const ts_detector *d, wb_feature_spec *out, int max_out);
int ts_detector_n_out(const ts_detector *d);
/* RPN forward into out[0..n_rpn_out), the pooled inputs after it. */
wb_status ts_detector_forward(wb_ctx *ctx, const ts_detector *d, wb_tensor *const *in, int n_in, wb_tensor **out,
                              int n_out);
/* The RPN's proposals of each image in input pixels (its predict with the
 * geometry of the input: scale 1, no offset, clipped to the valid size). */
wb_status ts_detector_proposals(wb_ctx *ctx, const ts_detector *d, wb_tensor *const *preds, const wb_batch_truth *truth,
                                ts_boxes *out);

/* The keys every stage shares: assigner, sampler, coder and test settings. */
void ts_stage_cfg_read(wb_ctx *ctx, const wb_params *p, ts_roi_stage_cfg *cfg, ts_test_cfg *test);
/* The box head's shape from fc_channels, num_shared_fcs and
 * reg_class_agnostic, on RoIs pooled from d's inputs. */
ts_bbox_head ts_detector_bbox_head_cfg(wb_ctx *ctx, const ts_detector *d, const wb_params *p, int num_classes);
/* One box head serves every pooled level, so their channels must agree;
 * the error names owner. */
wb_status ts_detector_check_pooled_channels(wb_ctx *ctx, const ts_detector *d, const char *owner);
/* loss_cls / loss_bbox sub-modules (a "mean" reduction is undone, "none" refused). */
wb_status ts_losses_create(wb_ctx *ctx, const wb_params *p, ts_roi_losses *l, const char *owner);

/* Schema entries of the keys above, for the plugins' tables. */
extern const char *const ts_roi_level_rules[], *const ts_roi_pool_kinds[], *const ts_box_coders[];
#define TS_DETECTOR_PARAMS                                                                                            \
    WB_P_MODULE("rpn", WB_KIND_HEAD, "{ type = \"rpn_head\"; }",                                                   \
                "the region proposal network (a head whose predict gives proposals), run on every input"),          \
    WB_P_INT_LIST("roi_strides", "[4, 8, 16, 32]", 1, 4096, "strides of the inputs RoIs are pooled from"),          \
    WB_P_INT("roi_size", "7", 1, 64, "pooled RoI features are roi_size x roi_size"),                                 \
    WB_P_INT("sampling_ratio", "0", 0, 64, "RoIAlign sampling points per bin side (0: adaptive)"),                  \
    WB_P_BOOL("aligned", "true", "RoIAlign with the half-pixel shift (torchvision's Faster R-CNN: false)"),         \
    WB_P_CHOICE("roi_levels", "\"mmdet\"", ts_roi_level_rules,                                                     \
                "the level of a RoI: mmdet's floor(log2(sqrt(area) / finest_scale)) or torchvision's "              \
                "MultiScaleRoIAlign rule (224 px at level 4)"),                                                     \
    WB_P_FLOAT("finest_scale", "56", 1.0, 4096.0, "roi_levels mmdet: RoIs below this size go to the finest level"), \
    WB_P_CHOICE("roi_pool", "\"align\"", ts_roi_pool_kinds, "RoIAlign (bilinear) or RoIPool (max, the Keras "      \
                "Faster R-CNN's)")

#define TS_ASSIGN_PARAMS(pos_, neg_)                                                                                  \
    WB_P_FLOAT("pos_iou_thr", pos_, 0.0, 1.0, "assigner: RoIs with IoU >= this are positive"),                      \
    WB_P_FLOAT("neg_iou_thr", neg_, 0.0, 1.0, "assigner: RoIs with max IoU < this are background"),                 \
    WB_P_FLOAT("min_pos_iou", pos_, 0.0, 1.0, "assigner: a box's best RoIs need this IoU (with match_low_quality)")

/* Sampling, coder, test and loss keys (TS_ASSIGN_PARAMS apart: a cascade has them per stage). */
#define TS_STAGE_PARAMS(num_, frac_)                                                                                  \
    WB_P_BOOL("match_low_quality", "false", "assigner: every box gets its best-overlapping RoIs as positives"),      \
    WB_P_FLOAT("ignore_iof_thr", "0.5", -1.0, 1.0,                                                                   \
               "RoIs covered by an ignore box (crowd, difficult) above this fraction are ignored; <= 0: off"),      \
    WB_P_INT("sampler_num", num_, 1, 10000000, "sampler: RoIs per image that enter the loss"),                      \
    WB_P_FLOAT("pos_fraction", frac_, 0.0, 1.0, "sampler: at most this fraction of them positive"),                 \
    WB_P_BOOL("add_gt_as_proposals", "true", "the gt boxes join the proposals before sampling"),                     \
    WB_P_CHOICE("box_coder", "\"mmdet\"", ts_box_coders,                                                           \
                "decode and class NMS as mmdetection, or with torchvision's arithmetic (for its weights)"),          \
    WB_P_FLOAT_LIST("target_means", "[0.0, 0.0, 0.0, 0.0]", -1e3, 1e3, "delta coder means (dx, dy, dw, dh)"),        \
    WB_P_FLOAT("score_thr", "0.05", 0.0, 1.0, "test: drop class scores at or below this"),                           \
    WB_P_FLOAT("iou_threshold", "0.5", 0.0, 1.0, "test: NMS IoU threshold, per class"),                              \
    WB_P_INT("max_per_img", "100", 1, 100000, "test: detections kept per image"),                                   \
    WB_P_FLOAT("min_bbox_size", "0.0", 0.0, 1e4, "test: boxes narrower or lower than this are dropped (0: off)"),   \
    WB_P_MODULE("loss_cls", WB_KIND_LOSS, "{ type = \"cross_entropy\"; loss_weight = 1.0; }",                      \
                "softmax classification loss over [RoIs, classes + 1] (background last)"),                          \
    WB_P_MODULE("loss_bbox", WB_KIND_LOSS, "{ type = \"l1\"; loss_weight = 1.0; }",                                 \
                "box loss on the deltas of the positives' class, divided by the sampled RoIs")

#endif
