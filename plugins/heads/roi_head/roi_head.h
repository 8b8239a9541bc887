/* roi_head: Faster R-CNN (Ren et al. 2015) as one head plugin that owns its
 * region proposal network as a sub-module (`rpn`, an rpn_head by default)
 * and runs one RoI stage on its proposals: mmdetection's StandardRoIHead
 * with a Shared2FCBBoxHead (plugins/common/two_stage/).
 *
 * Outputs: the RPN's outputs, then the feature maps the RoIs are pooled
 * from, passed through unchanged, so that loss() and predict() (which get
 * the outputs) can pool from them and the box head's gradient reaches the
 * neck through the head's own tape. Loss terms: loss_rpn_cls,
 * loss_rpn_bbox (the RPN's), loss_cls, acc (a metric: logged, not trained),
 * loss_bbox. Parameters: rpn.* and
 * bbox_head.* (mmdetection's names), res5.* with bbox_head = "res5"
 * (res5_head.h). */
#ifndef ROI_HEAD_H
#define ROI_HEAD_H

#include "../../common/two_stage/detector.h"
#include "res5_head.h"

typedef struct roi_head {
    ts_detector det;
    ts_roi_stage_cfg stage;
    ts_test_cfg test;
    ts_bbox_head bbox;
    int use_res5; /* bbox_head = "res5": res5 blocks and average pooling before fc_cls / fc_reg */
    res5_head res5;
    ts_roi_losses losses;
} roi_head;

/* pooled RoI features -> class logits and deltas, through res5 first when the head has it. */
wb_status roi_head_box_forward(roi_head *h, wb_ctx *ctx, wb_tensor *pooled, wb_tensor **cls, wb_tensor **reg);

wb_status roi_head_loss(roi_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                        wb_loss_term *terms, int *n_terms);
wb_status roi_head_predict(roi_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                           wb_detections *dets);

#endif
