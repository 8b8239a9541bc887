/* fcos_head: FCOS (Tian et al. 2019) with torchvision 0.14's semantics by
 * default and mmdetection 2.x's by options (the schema says which value gives
 * which), under torchvision's parameter names so its weights load:
 *   classification_head.conv.{3i}.{weight,bias}     3x3 conv i of the class tower
 *   classification_head.conv.{3i+1}.{weight,bias}   its GroupNorm
 *   classification_head.cls_logits.{weight,bias}
 *   regression_head.conv.*                          the same for the box tower
 *   regression_head.bbox_reg.*, regression_head.bbox_ctrness.*
 *   scales.{l}.scale                                mmdetection's per-level Scale (scale_per_level)
 *
 * Outputs per level l (3L in all): cls_score_l [N, K, H, W], then
 * bbox_pred_l [N, 4, H, W] (l, t, r, b distances after the ReLU, in strides
 * with norm_on_bbox, else exp'ed pixels), then centerness_l [N, 1, H, W]
 * (logits). Flattened, point (y, x) of level l is row start_l + y*W + x, the
 * order of torchvision's anchors and mmdetection's points. */
#ifndef FCOS_HEAD_H
#define FCOS_HEAD_H

#include <workbench/workbench.h>

#define FCOS_MAX_LEVELS 8
#define FCOS_MAX_CONVS 16

typedef struct fcos_conv {
    wb_tensor *w, *b;
} fcos_conv;

typedef struct fcos_norm {
    wb_tensor *gamma, *beta;
} fcos_norm;

typedef struct fcos_head {
    int num_classes, in_channels, feat_channels, stacked_convs, n_levels;
    int num_groups;                 /* GroupNorm groups in the towers; 0: no norm */
    int conv_bias;
    int strides[FCOS_MAX_LEVELS];
    float regress_ranges[FCOS_MAX_LEVELS + 1]; /* level l: max distance in (ranges[l], ranges[l+1]) */
    float prior_prob;
    /* targets */
    int torchvision_assigner;       /* strict range bounds, per-axis strides of the padded input, float32 tie-break */
    float center_offset;            /* points at (x + offset) * stride */
    float center_radius;            /* center sampling radius in strides; <= 0: off */
    int norm_on_bbox, scale_per_level, centerness_on_reg;
    int bbox_weight_centerness;     /* mmdetection: GIoU weighted by centerness targets, / their sum */
    float focal_gamma, focal_alpha;
    float loss_cls_weight, loss_bbox_weight, loss_centerness_weight;
    /* test */
    int score_sqrt;                 /* torchvision: sqrt(cls * ctr) thresholded; mmdetection: cls thresholded, * ctr */
    int nms_pre, max_per_img;
    float score_thr, iou_threshold;
    /* parameters */
    fcos_conv cls_convs[FCOS_MAX_CONVS], reg_convs[FCOS_MAX_CONVS], cls_out, reg_out, ctr_out;
    fcos_norm cls_norms[FCOS_MAX_CONVS], reg_norms[FCOS_MAX_CONVS];
    wb_tensor *scales[FCOS_MAX_LEVELS];
    /* points of the last feature and padded input sizes, cached (grow-only) */
    int cached_hw[FCOS_MAX_LEVELS][2], cached_pad[2];
    float *points;                  /* n_points rows of (x, y) */
    int64_t n_points, points_cap;
    int64_t level_start[FCOS_MAX_LEVELS + 1];
} fcos_head;

wb_status fcos_init_params(void *inst, wb_ctx *ctx);
wb_status fcos_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out);

/* Points of every level for the given feature sizes and padded input size
 * (0 when unknown: the nominal strides); NULL when out of memory. */
const float *fcos_points(fcos_head *h, const int (*hw)[2], int pad_h, int pad_w);
/* Level of point row r. */
int fcos_level_of(const fcos_head *h, int64_t r);
/* Distance unit of level l: its stride with norm_on_bbox, else 1 pixel. */
float fcos_unit(const fcos_head *h, int l);

/* The gt box index each point regresses (-1: background), torchvision's or
 * mmdetection's assignment; ignored boxes are left out. */
void fcos_assign(const fcos_head *h, const float *points, const wb_gt_image *gt, int *matched);
/* sqrt(min(l,r)/max(l,r) * min(t,b)/max(t,b)) of point (x, y) in box b. */
float fcos_centerness_target(float x, float y, const float *b);

wb_status fcos_loss(fcos_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *truth,
                    wb_loss_term *terms, int *n_terms);
wb_status fcos_predict(fcos_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds, const wb_batch_truth *meta,
                       wb_detections *dets);

#endif
