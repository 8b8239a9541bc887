/* roi_head's bbox_head = "res5": Detectron2's Res5ROIHeads box head, the
 * Keras Faster R-CNN's (ResNet-50 C4): ResNet's layer4 on the pooled RoIs
 * (Bottlenecks of width C / 2 on C input channels, the first with stride 2
 * and a downsample: 14x14 RoIs become 7x7 maps of 2C channels), average
 * pooling, then the box head's fc_cls / fc_reg without shared fcs. The
 * blocks are plugins/common/res_blocks (the resnet backbone's own code) and
 * their parameters res5.<block>.* carry torchvision's names, so a
 * torchvision ResNet-50 checkpoint's layer4.* is this head's res5.*. */
#ifndef ROI_HEAD_RES5_H
#define ROI_HEAD_RES5_H

#include "../../common/res_blocks/res_blocks.h"

#define RES5_MAX_BLOCKS 8

typedef struct res5_head {
    int n_blocks, in_channels, width; /* out: 4 * width */
    rb_norm norm;
    res_block block[RES5_MAX_BLOCKS];
} res5_head;

/* Parameters "res5.<b>.conv1.weight", ... (torchvision's init). */
wb_status res5_params(wb_ctx *ctx, res5_head *r);
/* pooled [K, C, S, S] -> [K, 4 * width, 1, 1]. */
wb_tensor *res5_forward(wb_ctx *ctx, const res5_head *r, wb_tensor *pooled);

#endif
