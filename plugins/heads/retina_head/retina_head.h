/* retina_head: RetinaNet's head (Lin et al. 2017) with mmdetection's training
 * and test semantics and torchvision's parameter names, so converted
 * torchvision weights load:
 *   classification_head.conv.{i}.0.{weight,bias}, classification_head.cls_logits.*
 *   regression_head.conv.{i}.0.{weight,bias},     regression_head.bbox_reg.*
 *
 * Outputs per level l (2L in all): cls_score_l [N, A*K, H, W] then
 * bbox_pred_l [N, A*4, H, W]; channel a*K + k is class k of anchor a, as in
 * both torchvision and mmdetection. Flattened the torchvision way (permute to
 * NHWC, reshape), level l becomes [N, H*W*A, K], row (y*W + x)*A + a, which is
 * also the order of the host's grid_anchors. */
#ifndef RETINA_HEAD_H
#define RETINA_HEAD_H

#include <workbench/workbench.h>

#define RETINA_MAX_LEVELS 8
#define RETINA_MAX_ANCHORS_PER_CELL 64
#define RETINA_MAX_CONVS 16

typedef struct retina_conv {
    wb_tensor *w, *b;
} retina_conv;

typedef struct retina_head {
    int num_classes, in_channels, feat_channels, stacked_convs, n_levels;
    int strides[RETINA_MAX_LEVELS];
    int n_base;                     /* anchors per cell */
    float base[RETINA_MAX_LEVELS][4 * RETINA_MAX_ANCHORS_PER_CELL]; /* base anchors of each level */
    int torchvision;                /* anchor_sizes "rounded": torchvision's anchors, decode and NMS */
    float prior_prob;
    /* assigner */
    float pos_iou_thr, neg_iou_thr, min_pos_iou, ignore_iof_thr;
    int match_low_quality;
    int normalize_per_image;        /* torchvision: per image, then mean; mmdetection: whole batch */
    float means[4], stds[4];
    int reg_decoded_bbox;           /* loss_bbox compares decoded boxes with the gt boxes */
    /* test */
    int nms_pre, max_per_img;
    float score_thr, iou_threshold;
    /* losses (children on the head's context) */
    wb_submodule *loss_cls, *loss_bbox;
    int cls_mean, bbox_mean;        /* the loss reduces by "mean": the head undoes the 1/numel */
    int bbox_elems_per_anchor;      /* elements of loss_bbox's elementwise loss per anchor (IoU family: 1) */
    /* parameters */
    retina_conv cls_convs[RETINA_MAX_CONVS], reg_convs[RETINA_MAX_CONVS], cls_out, reg_out;
    /* all anchors of the last feature and padded input sizes, cached (grow-only) */
    int cached_hw[RETINA_MAX_LEVELS][2], cached_pad[2];
    float *anchors;
    int64_t n_anchors, anchors_cap;
    int64_t level_start[RETINA_MAX_LEVELS + 1]; /* first anchor row of each level */
} retina_head;

/* Anchors of every level for the given feature sizes and padded batch input
 * size (pad_h, pad_w; 0 when unknown: the nominal strides), rows level by
 * level; NULL when out of memory. */
const float *retina_anchors(retina_head *h, const int (*hw)[2], int pad_h, int pad_w);

/* Training targets of one image, written into rows [0, n_anchors) of each
 * array (already zeroed): cls [T, K], cls_w [T, K], reg [T, 4], reg_w [T, 4].
 * Weights are 1 where they apply (negatives: cls only; ignored: nothing).
 * reg holds encoded deltas, or with reg_decoded_bbox the gt boxes (the
 * anchors themselves on rows of weight 0).
 * Returns the number of positives, or -1 with a message in err. */
int retina_assign(const retina_head *h, const wb_host_api *host, const float *anchors, int64_t n_anchors,
                  const wb_gt_image *gt, float *cls, float *cls_w, float *reg, float *reg_w, char *err,
                  size_t err_size);

/* Boxes [R, 4] decoded from deltas [R, 4] on anchors [R, 4] with the head's
 * coder (dw, dh clamped at log(1000/16), no clipping); the gradient flows to
 * the deltas through a custom op with an analytic backward. */
wb_tensor *retina_decode_boxes(retina_head *h, wb_ctx *ctx, wb_tensor *deltas, wb_tensor *anchors);

wb_status retina_loss(retina_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                      const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms);

wb_status retina_predict(retina_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                         const wb_batch_truth *meta, wb_detections *dets);

#endif
