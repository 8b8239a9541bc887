/* center_head: a small anchor-free head (FCOS-like, one level). Per cell it
 * predicts class logits and the distances (left, top, right, bottom) to the
 * box edges in units of the stride. */
#ifndef CENTER_HEAD_H
#define CENTER_HEAD_H

#include <workbench/workbench.h>

typedef struct center_head {
    int num_classes, in_channels, feat_channels, stride;
    float center_radius, prior_prob;
    float score_thr, nms_iou;
    int nms_pre, max_per_img;
    wb_tensor *cls_w1, *cls_b1, *cls_w2, *cls_b2;
    wb_tensor *reg_w1, *reg_b1, *reg_w2, *reg_b2;
} center_head;

/* Host-side training targets for one batch, each [N, C, H, W]. */
typedef struct center_targets {
    float *cls, *cls_weight;   /* one-hot classes; 0 weight inside ignore regions */
    float *reg, *reg_weight;   /* ltrb / stride at positive cells */
    int num_pos;
} center_targets;

/* Fills t (zeroed arrays of the right sizes) from the ground truth. */
void center_build_targets(const center_head *h, const wb_batch_truth *truth, int feat_h, int feat_w,
                          center_targets *t);

/* Decodes one image's maps (host memory) into detections. */
wb_status center_decode(const center_head *h, const wb_host_api *host, const float *cls, const float *reg,
                        int feat_h, int feat_w, const wb_gt_image *meta, wb_detections *det);

#endif
