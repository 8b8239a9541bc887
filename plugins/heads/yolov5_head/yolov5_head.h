/* yolov5_head: YOLOv5's Detect head (v6.x / 7.0) with its training loss
 * (utils/loss.py ComputeLoss) and its inference (Detect's decoding and
 * utils/general.py non_max_suppression), under MMYOLO's parameter names:
 *   head_module.convs_pred.{l}.{weight,bias}   (YOLOv5: model.24.m.{l})
 *   anchors                                     buffer [L, A, 2], pixels
 *
 * Output l is the 1x1 conv's map [N, A*(5+K), H, W]; channel a*(5+K) + k is
 * attribute k (x, y, w, h, objectness, K classes) of anchor a, the layout
 * YOLOv5 views as [N, A, 5+K, H, W]. The anchors live in a buffer, so a
 * checkpoint carries the anchors it was trained with (autoanchor may change
 * them) and loss and predict read them from there. */
#ifndef YOLOV5_HEAD_H
#define YOLOV5_HEAD_H

#include <stdint.h>
#include <workbench/workbench.h>

#define YOLOV5_MAX_LEVELS 5
#define YOLOV5_MAX_ANCHORS 9

typedef struct yolov5_head {
    int num_classes, n_levels, na, no; /* no = 5 + num_classes */
    int in_channels[YOLOV5_MAX_LEVELS], strides[YOLOV5_MAX_LEVELS];
    float anchors_cfg[YOLOV5_MAX_LEVELS * YOLOV5_MAX_ANCHORS * 2]; /* pixels, in YOLOv5's order */
    float *class_frequencies;                                      /* NULL: YOLOv5's 0.6 / (K - 0.99999) prior */
    /* loss: gains already scaled as YOLOv5's train.py scales them */
    float box_gain, obj_gain, cls_gain, cls_pw, obj_pw, anchor_t, fl_gamma, label_smoothing, gr;
    float balance[YOLOV5_MAX_LEVELS];
    /* test */
    int multi_label, agnostic, nms_pre, max_per_img;
    float score_thr, iou_threshold;
    /* parameters and buffers */
    wb_tensor *w[YOLOV5_MAX_LEVELS], *b[YOLOV5_MAX_LEVELS], *anchors;
} yolov5_head;

/* The anchors of level l in pixels (A pairs w, h), from the buffer. */
const float *yolov5_anchors(const yolov5_head *h, wb_ctx *ctx, int l);

/* One positive of YOLOv5's build_targets: prediction row (image b, anchor a,
 * cell gj, gi), its box target (x, y relative to the cell, w, h in grid
 * units), the anchor in grid units and the class. */
typedef struct yolov5_target {
    int b, a, gj, gi, cls;
    float box[4], anchor[2];
} yolov5_target;

/* YOLOv5's build_targets for level l of an H x W map: shape-ratio matching
 * (anchor_t) with the two neighbouring cells nearest the centre, in
 * YOLOv5's order (offset, then anchor, then box: where two targets land on
 * one prediction, the later one sets the objectness target). Ignored boxes
 * are not targets. out has room for yolov5_max_targets(); returns the
 * number written. */
int yolov5_build_targets(const yolov5_head *h, const float *anchors_px, int l, int H, int W,
                         const wb_batch_truth *truth, yolov5_target *out);
int64_t yolov5_max_targets(const yolov5_head *h, const wb_batch_truth *truth);

/* Rows (b, a, gj, gi) of a level's map [N, A*(5+K), H, W] as [n, 5+K], with
 * the gradient scattered back (a custom op). */
wb_tensor *yolov5_gather(const yolov5_head *h, wb_ctx *ctx, wb_tensor *map, const yolov5_target *t, int n);

wb_status yolov5_loss(yolov5_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                      const wb_batch_truth *truth, wb_loss_term *terms, int *n_terms);

wb_status yolov5_predict(yolov5_head *h, wb_ctx *ctx, wb_tensor *const *preds, int n_preds,
                         const wb_batch_truth *meta, wb_detections *dets);

#endif
