/* tp_fcos_lite: a small anchor-free head in the FCOS style, built out of
 * tree against the installed SDK. Every input level shares one pair of
 * branches; per location it predicts class logits and the distances (left,
 * top, right, bottom) to the box edges in strides. */
#ifndef TP_FCOS_LITE_H
#define TP_FCOS_LITE_H

#include <workbench/workbench.h>

#define FCOS_MAX_LEVELS 8

typedef struct fcos_head {
    int num_classes, in_channels, feat_channels;
    int n_levels, strides[FCOS_MAX_LEVELS];
    float center_radius, prior_prob, score_thr, nms_iou;
    int nms_pre, max_per_img;
    /* A loss that averages ("mean") is multiplied back by its element count,
     * so the weights' 1 / num_pos alone normalises (see the loss contract). */
    int cls_mean, bbox_mean;
    wb_submodule *loss_cls, *loss_bbox;
    wb_tensor *cls_w1, *cls_b1, *cls_w2, *cls_b2;
    wb_tensor *reg_w1, *reg_b1, *reg_w2, *reg_b2;
} fcos_head;

/* One level's size; rows of a flattened level are (image, y, x). */
typedef struct fcos_level {
    int h, w;
} fcos_level;

/* Host targets in the flattened layout of every level, one after the other:
 * cls [rows, K] one-hot, reg [rows, 4] distances in strides, and their
 * weights, already divided by the number of positives. */
typedef struct fcos_targets {
    float *cls, *cls_w, *reg, *reg_w;
} fcos_targets;

/* Fills t (zeroed) and returns the number of positive locations. */
int fcos_assign(const fcos_head *h, const wb_batch_truth *truth, const fcos_level *levels, fcos_targets *t);

/* Detections of image n from the mapped predictions of every level. */
wb_status fcos_decode(const fcos_head *h, const wb_host_api *host, const float *const *cls, const float *const *reg,
                      const fcos_level *levels, int n, const wb_gt_image *meta, wb_detections *det);

#endif
