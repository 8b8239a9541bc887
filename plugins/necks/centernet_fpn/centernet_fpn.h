/* centernet_fpn: the decoder of CenterNet-MobileNetV3
 * (github.com/610265158/mobilenetv3_centernet, the COCO model in
 * ../shared/models/centernet_mobilenetv3): from the top level down, a
 * two-branch separable upsampling (3x3 and 5x5 depthwise + 1x1 + BN, summed,
 * resized x2) concatenated with a lateral of the level below (1x1 reduce +
 * BN + ReLU, 5x5 depthwise, 1x1 + BN), then ReLU; an optional squeeze-excite
 * gate (sigmoid) on the last map. One output at the finest input's stride. */
#ifndef WB_PLUGIN_CENTERNET_FPN_H
#define WB_PLUGIN_CENTERNET_FPN_H

#include <workbench/workbench.h>

#define CFPN_MAX_LEVELS 6

/* A conv (bias-free) and BatchNorm, optionally ReLU. */
typedef struct cfpn_conv_bn {
    wb_tensor *weight, *gamma, *beta, *running_mean, *running_var;
    int kernel, groups, relu;
} cfpn_conv_bn;

/* Depthwise conv (no bias, no BN, as TensorFlow's separable_conv2d) then a 1x1 conv + BN. */
typedef struct cfpn_separable {
    wb_tensor *depthwise;
    int kernel;
    cfpn_conv_bn pointwise;
} cfpn_separable;

typedef struct cfpn_level {
    cfpn_conv_bn reduce;    /* lateral 1x1 + BN + ReLU */
    cfpn_separable lateral; /* lateral 5x5 separable */
    cfpn_separable branch_x, branch_y; /* upsampling of the level above into this one */
} cfpn_level;

typedef struct centernet_fpn {
    int n_levels;
    int in_channels[CFPN_MAX_LEVELS];
    int in_strides[CFPN_MAX_LEVELS];
    int channels[CFPN_MAX_LEVELS]; /* per level below the top: lateral and upsampling width */
    int reduction;                 /* lateral reduce width = input / reduction */
    int lateral_kernel;
    int tf_resize;                 /* TF1 resize_bilinear (half_pixel_centers false) */
    int se_channels;               /* 0: no gate */
    int norm_eval;                 /* BN on running statistics in training too */
    cfpn_level level[CFPN_MAX_LEVELS];
    cfpn_conv_bn se_fc1;
    wb_tensor *se_fc2;
} centernet_fpn;

wb_status cfpn_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out);

#endif
