/* resnet: torchvision's ResNet v1.5 (stride on the 3x3 conv of Bottleneck)
 * as a detection backbone with mmdetection's options: out_indices,
 * frozen_stages, norm bn / frozen_bn, norm_eval, zero_init_residual.
 * Parameters carry torchvision's names so converted ImageNet weights load. */
#ifndef WB_PLUGIN_RESNET_H
#define WB_PLUGIN_RESNET_H

#include <workbench/workbench.h>
#include "../../common/res_blocks/res_blocks.h"

#define RESNET_STAGES 4
#define RESNET_MAX_BLOCKS 36 /* layer3 of ResNet-152 */

typedef struct resnet {
    int depth;
    int bottleneck;           /* 1: Bottleneck (expansion 4), 0: BasicBlock */
    int n_blocks[RESNET_STAGES];
    int out_indices[RESNET_STAGES];
    int n_out;
    int frozen_stages;        /* -1 none, 0 stem, k stem + layer1..k */
    rb_norm norm;             /* norm = "frozen_bn", norm_eval */
    int zero_init_residual;
    int in_channels;
    conv_bn stem;
    res_block layer[RESNET_STAGES][RESNET_MAX_BLOCKS];
} resnet;

/* Channels of stage i's output (0-based) and its stride. */
int resnet_stage_channels(const resnet *m, int stage);
int resnet_stage_stride(int stage);

wb_status resnet_init_params(void *inst, wb_ctx *ctx);
wb_status resnet_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out);

#endif
