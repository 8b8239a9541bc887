/* torchvision's ResNet v1.5 building blocks (BasicBlock; Bottleneck with the
 * stride on its 3x3 conv), their parameters under torchvision's names below
 * a prefix ("layer2.0." gives "layer2.0.conv1.weight", "layer2.0.bn1.bias",
 * "layer2.0.downsample.1.running_var"). Compiled into the resnet backbone
 * and into roi_head's res5 box head (Detectron2's Res5ROIHeads: layer4 on
 * pooled RoIs), so a torchvision checkpoint's layer4.* is head.res5.*.
 * torchvision's num_batches_tracked buffers have no counterpart: BN here
 * always uses momentum 0.1. */
#ifndef RES_BLOCKS_H
#define RES_BLOCKS_H

#include <workbench/workbench.h>

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

/* How BN behaves (mmdetection's norm options). */
typedef struct rb_norm {
    int frozen_bn; /* norm = "frozen_bn": affine parameters fixed, running statistics */
    int norm_eval; /* running statistics even while training */
} rb_norm;

/* The parameters of "<prefix><conv_name>.weight" and "<prefix><bn_name>.*":
 * conv Kaiming-normal (fan out), BN weight gamma0, bias 0, running mean 0
 * and variance 1 (torchvision's init). */
void rb_conv_bn_params(wb_ctx *ctx, const char *prefix, const rb_norm *norm, conv_bn *cb, const char *conv_name,
                       const char *bn_name, int cin, int cout, int k, int stride, int frozen, float gamma0);
/* One block (Bottleneck when bottleneck, else BasicBlock) of `width` inner
 * channels; returns its output channels (width x 4 or width). With
 * zero_init_residual the last BN starts at gamma 0. */
int rb_block_params(wb_ctx *ctx, const char *prefix, const rb_norm *norm, res_block *b, int bottleneck, int cin,
                    int width, int stride, int frozen, int zero_init_residual);

/* conv + BN (+ ReLU): batch statistics only in training with a trainable BN;
 * at inference BN folds into the conv. */
wb_tensor *rb_conv_bn(wb_ctx *ctx, const rb_norm *norm, const conv_bn *cb, wb_tensor *x, int relu);
/* A block's output relu(convs(x) + identity or downsample(x)); x stays. */
wb_tensor *rb_block(wb_ctx *ctx, const rb_norm *norm, const res_block *b, int bottleneck, wb_tensor *x);

#endif
