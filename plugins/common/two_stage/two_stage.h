/* Building blocks of two-stage detectors, compiled into each plugin that
 * uses them (rpn_head, roi_head, cascade_roi_head): anchors, mmdetection's
 * MaxIoUAssigner and RandomSampler, and the RoI tensors handed between the
 * stages. Everything here works on host memory; nothing carries a gradient. */
#ifndef TWO_STAGE_H
#define TWO_STAGE_H

#include <workbench/workbench.h>

#define TS_MAX_LEVELS 8
#define TS_MAX_ANCHORS_PER_CELL 32

/* ---- anchors ---- */
typedef struct ts_anchors {
    int n_levels, n_base;
    int strides[TS_MAX_LEVELS];
    int rounded; /* torchvision's AnchorGenerator: per-axis strides = padded input // feature size */
    float base[TS_MAX_LEVELS][4 * TS_MAX_ANCHORS_PER_CELL];
    /* all anchors of the last sizes asked for, rows level by level, (y*W + x)*A + a */
    int cached_hw[TS_MAX_LEVELS][2], cached_pad[2];
    float *all;
    int64_t n, cap;
    int64_t level_start[TS_MAX_LEVELS + 1];
} ts_anchors;

/* Base anchors of size scale * stride per (ratio, scale), ratio-major as
 * mmdetection's AnchorGenerator; rounded: corners rounded half to even as
 * torchvision's (whose sizes are the same pixels: 32 at stride 4, ...). */
wb_status ts_anchors_init(wb_ctx *ctx, ts_anchors *a, const int *strides, int n_levels, const float *scales,
                          int n_scales, const float *ratios, int n_ratios, int rounded);
/* The anchors of every level for feature sizes hw and the padded input
 * size; cached while the sizes stay. NULL when out of memory. */
const float *ts_anchors_grid(ts_anchors *a, const int (*hw)[2], int pad_h, int pad_w);
void ts_anchors_free(ts_anchors *a);

/* ---- assignment and sampling ---- */
typedef struct ts_assigner {
    float pos_iou_thr, neg_iou_thr, min_pos_iou;
    int match_low_quality; /* each gt also takes its best candidates (all ties) */
    float ignore_iof_thr;  /* candidates covered by an ignore box above this fraction are ignored; <= 0 off */
} ts_assigner;

/* The boxes of one image that take part in assignment (not ignore regions),
 * with their labels; NULL counts mean none. Returns the count or -1 (label
 * outside 0..num_classes-1: err says which). */
int ts_gt_boxes(const wb_gt_image *gt, int num_classes, float *boxes, int *labels, char *err, size_t err_size);

/* mmdetection's MaxIoUAssigner on n candidate boxes against G gt boxes:
 * state[i] = -1 ignored, 0 background, g + 1 matched to gt g. iou (scratch,
 * G*n floats or n when G = 0) gets the overlaps; max_iou (optional) each
 * candidate's best IoU. Ignore regions come from gt_img (ignore flags). */
void ts_assign(const wb_host_api *host, const ts_assigner *cfg, const float *cand, int64_t n, const float *gt,
               int G, const wb_gt_image *gt_img, float *iou, int *state, float *max_iou);

/* mmdetection's RandomSampler: keeps at most num * pos_fraction positives and
 * num - (positives kept) negatives, chosen uniformly from the module's RNG;
 * the others become -1 (not sampled). Returns the number kept. */
int64_t ts_sample(wb_ctx *ctx, int *state, int64_t n, int num, float pos_fraction);

/* ---- box coder ---- */
/* Boxes from deltas (x, y, w, h offsets normalised by means / stds) on
 * anchors or proposals, clipped to img_h x img_w. torchvision: its
 * BoxCoder.decode_single arithmetic (centers as x1 + w / 2, dw and dh
 * clamped from above only); otherwise mmdetection's delta2bbox (the host's
 * box_decode). */
void ts_decode(const wb_host_api *host, const float *anchor, const float *delta, const float means[4],
               const float stds[4], int torchvision, int img_h, int img_w, float *out);

/* ---- RoIs ---- */
/* A [K, 5] tensor of (batch index, x1, y1, x2, y2) rows from per-image box
 * lists (boxes[i]: counts[i] rows of 4), images in order, no padding. */
wb_tensor *ts_rois(wb_ctx *ctx, const float *const *boxes, const int64_t *counts, int n_images);

/* ---- detections ---- */
/* The release_detections of every two-stage head: their predict fills
 * boxes, scores and labels with malloc'd arrays (detections.c). */
void ts_release_detections(void *inst, wb_detections *d);

#endif
