/* centernet_head: CenterNet ("Objects as Points", Zhou et al. 2019) on one
 * feature map: a class heatmap trained with the penalty-reduced focal loss
 * against Gaussian peaks, boxes read at 3x3 max-pool peaks of the heatmap,
 * top-k over classes and positions. Two box encodings:
 *   wh_offset  CenterNet's: width/height (map units) + sub-cell offset, L1 losses
 *   ltrb       distances to the four sides from the cell's corner point
 *              (x * stride, y * stride) times box_scale, GIoU loss (the
 *              TF.js CenterNet-MobileNetV3 decodes this way)
 * and two branch styles: "conv" (3x3 conv head_conv + ReLU + 1x1, as
 * CenterNet) or "separable" (3x3 depthwise + 1x1 with bias, as the TF model). */
#ifndef WB_PLUGIN_CENTERNET_HEAD_H
#define WB_PLUGIN_CENTERNET_HEAD_H

#include <workbench/workbench.h>

/* One prediction branch: conv mode uses all four, separable mode w1 (depthwise, no bias), w2, b2. */
typedef struct cn_branch {
    wb_tensor *w1, *b1, *w2, *b2;
    int out_channels;
} cn_branch;

typedef struct centernet_head {
    int num_classes;
    int in_channels, stride;
    int separable;
    int head_conv;
    int ltrb;            /* box encoding: 1 ltrb, 0 wh_offset */
    float box_scale;     /* ltrb: distances in input pixels = output * box_scale */
    float prior_prob;
    float min_overlap;   /* Gaussian radius: CenterNet's gaussian_radius(min_overlap) */
    float w_heatmap, w_wh, w_offset, w_giou;
    int topk;
    float score_thr;
    cn_branch heatmap, box, offset;
} centernet_head;

/* Targets of one batch on host memory; every array covers the whole batch. */
typedef struct cn_targets {
    float *heatmap;      /* [N, C, H, W] Gaussian peaks, 1 at object centers */
    float *box_target;   /* wh_offset: [N, 2, H, W] w, h; ltrb: [N*H*W, 4] target boxes */
    float *box_weight;   /* wh_offset: [N, 2, H, W]; ltrb: [N*H*W] (1 at centers, before normalising) */
    float *offset_target, *offset_weight; /* wh_offset only: [N, 2, H, W] */
    int num_objects;
} cn_targets;

void cn_build_targets(const centernet_head *h, const wb_batch_truth *truth, int fh, int fw, cn_targets *t);
wb_status cn_loss(centernet_head *h, wb_ctx *ctx, wb_tensor *const *preds, const wb_batch_truth *truth,
                  wb_loss_term *terms, int *n_terms);
/* Detections of one image from its heatmap logits [C, H, W], box [B, H, W] and offset [2, H, W] (or NULL). */
wb_status cn_decode(const centernet_head *h, const float *heat, const float *box, const float *offset, int fh,
                    int fw, const wb_gt_image *img, wb_detections *det);

#endif
