/* rpn_head: the region proposal network of Faster R-CNN (Ren et al. 2015)
 * with mmdetection's training semantics and parameter names (rpn_conv,
 * rpn_cls, rpn_reg; tools/export_faster_rcnn.py renames torchvision's).
 *
 * Outputs per level l (2L in all): cls_score_l [N, A, H, W] (objectness
 * logits) then bbox_pred_l [N, A*4, H, W] (channel a*4 + j). loss() gives
 * loss_rpn_cls and loss_rpn_bbox; predict() gives the proposals of each
 * image (label 0, score = objectness probability), with the train settings
 * (nms_pre, max_per_img) while the context trains and the test ones
 * otherwise. A two-stage head owns an rpn_head as a sub-module and takes its
 * proposals through predict (docs/architecture.md, "Two-stage detectors"). */
#ifndef RPN_HEAD_H
#define RPN_HEAD_H

#include "two_stage.h"

typedef struct rpn_conv {
    wb_tensor *w, *b;
} rpn_conv;

typedef struct rpn_proposal_cfg {
    int nms_pre, max_per_img;
} rpn_proposal_cfg;

typedef struct rpn_head {
    int in_channels, feat_channels, n_levels;
    ts_anchors anchors;
    ts_assigner assigner;
    int sampler_num;
    float pos_fraction;
    float means[4], stds[4];
    int torchvision_decode; /* anchor_sizes "rounded": torchvision's BoxCoder arithmetic */
    rpn_proposal_cfg train, test;
    float nms_iou, min_size;
    wb_submodule *loss_cls, *loss_bbox;
    int cls_mean, bbox_mean; /* the loss reduces by "mean": undone by the element count */
    rpn_conv conv, cls, reg;
} rpn_head;

wb_status rpn_loss(rpn_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                   wb_loss_term *terms, int *n_terms);
wb_status rpn_predict(rpn_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                      wb_detections *dets);

#endif
