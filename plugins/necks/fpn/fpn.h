/* fpn: Feature Pyramid Network neck with mmdetection's semantics (lateral
 * 1x1 convs, top-down nearest upsampling to each lateral's size, 3x3 output
 * convs, extra levels by stride-2 convs or max-pooling) and torchvision's
 * FeaturePyramidNetwork parameter names:
 *   inner_blocks.<j>.0.{weight,bias}  lateral conv of used input level j
 *   layer_blocks.<j>.0.{weight,bias}  output conv of used input level j
 *   extra_blocks.p<l>.{weight,bias}   stride-2 conv producing output level l
 * With add_extra_convs = "on_output" and relu_before_extra_convs this is
 * torchvision's LastLevelP6P7(256, 256) (torchvision 0.14 RetinaNet);
 * "on_input" is LastLevelP6P7(C5 channels, 256) (mmdetection RetinaNet). */
#ifndef WB_PLUGIN_FPN_H
#define WB_PLUGIN_FPN_H

#include <workbench/workbench.h>

#include "../../common/fpn_parts/pyramid.h"

#define FPN_MAX_LEVELS FP_MAX_LEVELS

typedef enum fpn_extra { FPN_EXTRA_NONE = 0, FPN_EXTRA_ON_INPUT, FPN_EXTRA_ON_OUTPUT } fpn_extra;

typedef struct fpn_conv {
    wb_tensor *weight, *bias;
} fpn_conv;

typedef struct fpn {
    fp_pyramid geo;
    fpn_extra extra;
    int relu_before_extra;
    fpn_conv lateral[FPN_MAX_LEVELS];
    fpn_conv output[FPN_MAX_LEVELS];
    fpn_conv extra_conv[FPN_MAX_LEVELS]; /* outputs n_used..num_outs-1 when extra != NONE */
} fpn;

wb_status fpn_init_params(void *inst, wb_ctx *ctx);
wb_status fpn_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out);

#endif
