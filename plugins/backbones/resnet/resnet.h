/* resnet: torchvision's ResNet v1.5 (stride on the 3x3 conv of Bottleneck)
 * as a detection backbone with mmdetection's options: out_indices,
 * frozen_stages, norm bn / frozen_bn, norm_eval, zero_init_residual.
 * Parameters carry torchvision's names so converted ImageNet weights load. */
#ifndef WB_PLUGIN_RESNET_H
#define WB_PLUGIN_RESNET_H

#include <workbench/workbench.h>

#define RESNET_STAGES 4
#define RESNET_MAX_BLOCKS 36 /* layer3 of ResNet-152 */

/* A bias-free conv followed by BatchNorm, as every conv of torchvision's ResNet. */
typedef struct conv_bn {
    wb_tensor *weight;
    wb_tensor *gamma, *beta, *running_mean, *running_var;
    int stride, pad;
    int frozen; /* in a frozen stage: fixed parameters, running statistics */
} conv_bn;

/* BasicBlock uses conv[0..1], Bottleneck conv[0..2]; downsample when the
 * shape changes. */
typedef struct res_block {
    conv_bn conv[3];
    conv_bn downsample;
    int has_downsample;
} res_block;

typedef struct resnet {
    int depth;
    int bottleneck;           /* 1: Bottleneck (expansion 4), 0: BasicBlock */
    int n_blocks[RESNET_STAGES];
    int out_indices[RESNET_STAGES];
    int n_out;
    int frozen_stages;        /* -1 none, 0 stem, k stem + layer1..k */
    int frozen_bn;            /* norm = "frozen_bn" */
    int norm_eval;
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
