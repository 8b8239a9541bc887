/* mobilenet_v3: torchvision 0.14's MobileNetV3-Large / -Small feature
 * extractor (`features`: stem, inverted residual blocks with squeeze-excite
 * and hard-swish, last 1x1 conv) as a detection backbone, under torchvision's
 * parameter names. Options for models trained elsewhere: TensorFlow's SAME
 * padding, TF-Slim's expansion widths, a last conv of any width, the scale of
 * the hard activations, and expansion outputs (the activation after a block's
 * 1x1 expansion, which TensorFlow detectors tap as features). */
#ifndef WB_PLUGIN_MOBILENET_V3_H
#define WB_PLUGIN_MOBILENET_V3_H

#include <workbench/workbench.h>

#define MNV3_MAX_FEATURES 17 /* Large: stem, 15 blocks, last conv */

typedef enum mnv3_act { MNV3_ACT_NONE = 0, MNV3_ACT_RELU, MNV3_ACT_HARDSWISH } mnv3_act;

/* A bias-free conv, BatchNorm and an activation (torchvision's Conv2dNormActivation). */
typedef struct conv_bn {
    wb_tensor *weight;
    wb_tensor *gamma, *beta, *running_mean, *running_var;
    int kernel, stride, groups;
    mnv3_act act;
    int frozen; /* fixed parameters, running statistics */
} conv_bn;

/* features[i] for 1 <= i <= blocks: torchvision's InvertedResidual. */
typedef struct mnv3_block {
    conv_bn expand; /* absent when the expansion equals the input width */
    conv_bn depthwise;
    conv_bn project;
    int has_expand, has_se, use_res;
    int in_ch, exp_ch, out_ch, squeeze_ch;
    wb_tensor *fc1_w, *fc1_b, *fc2_w, *fc2_b; /* squeeze-excite 1x1 convs */
} mnv3_block;

typedef struct mobilenet_v3 {
    int large;
    int n_blocks;
    conv_bn stem;                          /* features.0 */
    mnv3_block blocks[MNV3_MAX_FEATURES];  /* features.1 .. features.n_blocks */
    conv_bn last;                          /* features.(n_blocks + 1) */
    int stride_of[MNV3_MAX_FEATURES];      /* output stride of features[i] */
    int out_indices[MNV3_MAX_FEATURES];
    int out_expansion[MNV3_MAX_FEATURES];  /* 1: output i is features[out_indices[i]]'s expansion */
    int n_out;
    int frozen_stages;                     /* -1 none, k: features[0..k] */
    int norm_eval;
    int tf_same;                           /* TensorFlow SAME padding (asymmetric when strided) */
    float hard_scale;                      /* the 1/6 of hardswish and hardsigmoid */
    int in_channels;
    float width_mult;
    int slim_expansion;
    int last_channels;
} mobilenet_v3;

/* Fills channels, kernels and strides of every layer from arch, width_mult,
 * slim_expansion and last_channels. */
void mnv3_build_layout(mobilenet_v3 *m);
int mnv3_feature_channels(const mobilenet_v3 *m, int index, int expansion);

wb_status mnv3_init_params(void *inst, wb_ctx *ctx);
wb_status mnv3_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out);

#endif
