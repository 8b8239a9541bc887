/* One RoI stage of a two-stage detector: proposals of each image sampled
 * against the ground truth, their features pooled from the pyramid, a box
 * head's outputs turned into loss terms or detections. roi_head runs one
 * stage, cascade_roi_head three. RoIs of all images travel as one [K, 5]
 * tensor (batch index, x1, y1, x2, y2), per-image counts alongside: no
 * padding to the image with the most. */
#ifndef TS_ROI_STAGE_H
#define TS_ROI_STAGE_H

#include "bbox_head.h"

typedef struct ts_roi_extractor {
    int n_levels;                  /* the finest n_levels features pooled */
    float scales[TS_MAX_LEVELS];   /* 1 / stride */
    int roi_size, sampling_ratio, aligned;
    wb_roi_levels levels;
} ts_roi_extractor;

typedef struct ts_roi_stage_cfg {
    int num_classes;
    ts_assigner assigner;
    int sampler_num, add_gt;
    float pos_fraction;
    float means[4], stds[4];
    int torchvision; /* box decode and batched NMS as torchvision */
} ts_roi_stage_cfg;

/* Boxes per image, input pixels, images in batch order. */
typedef struct ts_boxes {
    int n_images;
    int64_t *counts;
    float **boxes;
} ts_boxes;

/* The sampled RoIs of a batch: per image positives first, then negatives. */
typedef struct ts_roi_batch {
    int n_images;
    int64_t k, *counts;
    float *boxes;    /* k x 4 */
    int *labels;     /* 0..num_classes-1, num_classes = background */
    float *gt_boxes; /* k x 4: the matched gt box of a positive */
    int *is_gt;      /* 1: a gt box added as a proposal */
} ts_roi_batch;

wb_status ts_boxes_alloc(wb_ctx *ctx, ts_boxes *b, int n_images);
void ts_boxes_free(ts_boxes *b);
void ts_roi_batch_free(ts_roi_batch *b);

/* Assigns and samples proposals (the gt boxes added first when add_gt). */
wb_status ts_roi_sample(wb_ctx *ctx, const ts_roi_stage_cfg *cfg, const ts_boxes *proposals,
                        const wb_batch_truth *truth, ts_roi_batch *out);
/* The [K, 5] RoIs of per-image box lists. */
wb_tensor *ts_rois_of(wb_ctx *ctx, const float *boxes, const int64_t *counts, int n_images);
/* [K, C, S, S] features of the RoIs, each from its level. */
wb_tensor *ts_roi_pool(wb_ctx *ctx, const ts_roi_extractor *ex, wb_tensor *const *feats, wb_tensor *rois);

typedef struct ts_roi_losses {
    wb_submodule *cls, *bbox;
    int cls_mean, bbox_mean; /* reduces by "mean": undone by the element count */
} ts_roi_losses;

/* Softmax classification over all sampled RoIs and box regression of the
 * positives (the deltas of their class), both divided by the sampled RoIs;
 * *acc: percentage of RoIs classified right (no gradient). */
wb_status ts_roi_loss(wb_ctx *ctx, const ts_roi_stage_cfg *cfg, const ts_bbox_head *head, const ts_roi_losses *losses,
                      wb_tensor *cls, wb_tensor *reg, const ts_roi_batch *batch, wb_tensor **loss_cls,
                      wb_tensor **loss_bbox, float *acc);

/* mmdetection's accuracy(cls_score, labels) (top-1, no threshold): the
 * percentage of the k rows of logits [k, c] whose largest entry (the first
 * of equal ones) is at the row's label; every sampled RoI counts, background
 * ones too. 0 for k = 0. */
float ts_accuracy(const float *logits, const int *labels, int64_t k, int c);

/* Boxes decoded from reg (the deltas of class `labels[i]`, or the agnostic
 * ones) on boxes, clipped to each image: out has k x 4 floats. */
void ts_refine(const wb_host_api *host, const ts_roi_stage_cfg *cfg, const ts_bbox_head *head, const float *boxes,
               const int64_t *counts, int n_images, const wb_batch_truth *meta, const float *reg, const int *labels,
               float *out);

typedef struct ts_test_cfg {
    float score_thr, iou_threshold, min_size;
    int max_per_img;
} ts_test_cfg;

/* Detections of one image from class probabilities [k, C + 1] (background
 * last) and deltas [k, reg width] on its RoI boxes: per class above
 * score_thr, NMS per class, the best max_per_img, in original pixels. */
wb_status ts_roi_detect(const wb_host_api *host, const ts_roi_stage_cfg *cfg, const ts_bbox_head *head,
                        const ts_test_cfg *test, const float *boxes, int64_t k, const float *probs, const float *reg,
                        const wb_gt_image *img, wb_detections *det);

/* Softmax of each row of logits [k, c] on the host; probs may be logits. */
void ts_softmax_rows(const float *logits, int64_t k, int c, float *probs);

#endif
