/* cascade_roi_head: Cascade R-CNN (Cai & Vasconcelos 2018) as mmdetection's
 * CascadeRoIHead: an RPN sub-module (as roi_head's), then stages of RoI
 * heads with rising IoU thresholds. Stage s is trained on the boxes stage
 * s - 1 refined (detached, gt boxes added as proposals again, the truth
 * re-assigned with stage s's thresholds and re-sampled), its terms weighted
 * by stage_loss_weights[s] and logged as s<s>.loss_cls, s<s>.acc (a metric:
 * not trained) and s<s>.loss_bbox. At test every stage refines the boxes of
 * the one before, the class logits of all stages are averaged (mmdetection
 * 2.x's ms_scores), and the last stage's deltas give the detections.
 * Parameters: rpn.*, bbox_head.<s>.* (mmdetection's names). */
#ifndef CASCADE_ROI_HEAD_H
#define CASCADE_ROI_HEAD_H

#include "../../common/two_stage/detector.h"

#define CASCADE_MAX_STAGES 4

typedef struct cascade_roi_head {
    ts_detector det;
    int n_stages;
    ts_roi_stage_cfg stage[CASCADE_MAX_STAGES];
    float loss_weight[CASCADE_MAX_STAGES];
    ts_test_cfg test;
    ts_bbox_head bbox[CASCADE_MAX_STAGES];
    ts_roi_losses losses;
} cascade_roi_head;

wb_status cascade_loss(cascade_roi_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                       const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms);
wb_status cascade_predict(cascade_roi_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                          const wb_batch_truth *meta, wb_detections *dets);

#endif
