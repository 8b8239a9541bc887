/* The Shared2FCBBoxHead of Faster and Cascade R-CNN (mmdetection names,
 * under a prefix: "bbox_head.shared_fcs.0.weight", "bbox_head.fc_cls.*",
 * "bbox_head.fc_reg.*"): pooled RoI features [K, C, S, S] flattened, fully
 * connected layers with ReLU, then class logits [K, num_classes + 1] with
 * the background LAST (mmdetection's convention: labels 0..K-1 are the
 * dataset's, K is background) and deltas [K, 4 * num_classes] (class
 * specific) or [K, 4] (class agnostic). */
#ifndef TS_BBOX_HEAD_H
#define TS_BBOX_HEAD_H

#include "two_stage.h"

#define TS_MAX_FCS 4

typedef struct ts_bbox_head {
    int in_features; /* C * S * S */
    int fc_channels, num_fcs, num_classes, class_agnostic;
    wb_tensor *fc_w[TS_MAX_FCS], *fc_b[TS_MAX_FCS], *cls_w, *cls_b, *reg_w, *reg_b;
} ts_bbox_head;

/* Deltas per RoI: 4 or 4 * num_classes. */
static inline int ts_bbox_reg_width(const ts_bbox_head *b) { return b->class_agnostic ? 4 : 4 * b->num_classes; }

/* Parameters named prefix.*: fcs Xavier-uniform, fc_cls N(0, 0.01), fc_reg
 * N(0, 0.001), biases 0 (mmdetection's init). */
wb_status ts_bbox_head_params(wb_ctx *ctx, ts_bbox_head *b, const char *prefix);
/* pooled [K, C, S, S] -> *cls [K, num_classes + 1], *reg [K, reg width]. */
wb_status ts_bbox_head_forward(wb_ctx *ctx, const ts_bbox_head *b, wb_tensor *pooled, wb_tensor **cls, wb_tensor **reg);

#endif
