/* ResNet-50 (torchvision, stride on the 3x3), RetinaNet FPN and
 * MobileNetV3-Large depthwise conv shapes for a batch of 2 images of 512x512. */
#include "conv_shapes.h"

#define BATCH 2

/* Square input hw, square kernel k with "same" padding k/2. */
#define OUT(hw, k, stride) (((hw) + 2 * ((k) / 2) - (k)) / (stride) + 1)
#define CONV(label, cin, hw, cout, k, stride, count)                                                  \
    {label,                                                                                           \
     {.n = BATCH, .c_in = cin, .h_in = hw, .w_in = hw, .c_out = cout, .h_out = OUT(hw, k, stride),    \
      .w_out = OUT(hw, k, stride), .k_h = k, .k_w = k, .stride_h = stride, .stride_w = stride,        \
      .pad_h = (k) / 2, .pad_w = (k) / 2, .dil_h = 1, .dil_w = 1, .groups = 1},                       \
     count}

/* Depthwise: groups = channels, one k x k filter per channel. */
#define DWCONV(label, c, hw, k, stride)                                                              \
    {label,                                                                                           \
     {.n = BATCH, .c_in = c, .h_in = hw, .w_in = hw, .c_out = c, .h_out = OUT(hw, k, stride),         \
      .w_out = OUT(hw, k, stride), .k_h = k, .k_w = k, .stride_h = stride, .stride_w = stride,        \
      .pad_h = (k) / 2, .pad_w = (k) / 2, .dil_h = 1, .dil_w = 1, .groups = c},                       \
     0}

static const bench_conv g_shapes[] = {
    CONV("conv1 7x7/2 3-64 @512", 3, 512, 64, 7, 2, 1),
    CONV("l1 1x1 64-64 @128", 64, 128, 64, 1, 1, 1),
    CONV("l1 3x3 64-64 @128", 64, 128, 64, 3, 1, 3),
    CONV("l1 1x1 64-256 @128", 64, 128, 256, 1, 1, 4),
    CONV("l1 1x1 256-64 @128", 256, 128, 64, 1, 1, 2),
    CONV("l2 1x1 256-128 @128", 256, 128, 128, 1, 1, 1),
    CONV("l2 3x3/2 128-128 @128", 128, 128, 128, 3, 2, 1),
    CONV("l2 1x1/2 256-512 @128", 256, 128, 512, 1, 2, 1),
    CONV("l2 1x1 128-512 @64", 128, 64, 512, 1, 1, 4),
    CONV("l2 1x1 512-128 @64", 512, 64, 128, 1, 1, 3),
    CONV("l2 3x3 128-128 @64", 128, 64, 128, 3, 1, 3),
    CONV("l3 1x1 512-256 @64", 512, 64, 256, 1, 1, 1),
    CONV("l3 3x3/2 256-256 @64", 256, 64, 256, 3, 2, 1),
    CONV("l3 1x1/2 512-1024 @64", 512, 64, 1024, 1, 2, 1),
    CONV("l3 1x1 256-1024 @32", 256, 32, 1024, 1, 1, 6),
    CONV("l3 1x1 1024-256 @32", 1024, 32, 256, 1, 1, 5),
    CONV("l3 3x3 256-256 @32", 256, 32, 256, 3, 1, 5),
    CONV("l4 1x1 1024-512 @32", 1024, 32, 512, 1, 1, 1),
    CONV("l4 3x3/2 512-512 @32", 512, 32, 512, 3, 2, 1),
    CONV("l4 1x1/2 1024-2048 @32", 1024, 32, 2048, 1, 2, 1),
    CONV("l4 1x1 512-2048 @16", 512, 16, 2048, 1, 1, 3),
    CONV("l4 1x1 2048-512 @16", 2048, 16, 512, 1, 1, 2),
    CONV("l4 3x3 512-512 @16", 512, 16, 512, 3, 1, 2),
    CONV("fpn lat 1x1 512-256 @64", 512, 64, 256, 1, 1, 0),
    CONV("fpn lat 1x1 1024-256 @32", 1024, 32, 256, 1, 1, 0),
    CONV("fpn lat 1x1 2048-256 @16", 2048, 16, 256, 1, 1, 0),
    CONV("fpn 3x3 256-256 @64", 256, 64, 256, 3, 1, 0),
    CONV("fpn 3x3 256-256 @32", 256, 32, 256, 3, 1, 0),
    CONV("fpn 3x3 256-256 @16", 256, 16, 256, 3, 1, 0),
    DWCONV("mbv3 dw 3x3 16 @256", 16, 256, 3, 1),
    DWCONV("mbv3 dw 3x3/2 64 @256", 64, 256, 3, 2),
    DWCONV("mbv3 dw 3x3 72 @128", 72, 128, 3, 1),
    DWCONV("mbv3 dw 5x5/2 72 @128", 72, 128, 5, 2),
    DWCONV("mbv3 dw 5x5 120 @64", 120, 64, 5, 1),
    DWCONV("mbv3 dw 3x3/2 240 @64", 240, 64, 3, 2),
    DWCONV("mbv3 dw 3x3 480 @32", 480, 32, 3, 1),
    DWCONV("mbv3 dw 5x5/2 672 @32", 672, 32, 5, 2),
    DWCONV("mbv3 dw 5x5 960 @16", 960, 16, 5, 1),
};

const bench_conv *bench_conv_shapes(int *count) {
    *count = (int)(sizeof g_shapes / sizeof *g_shapes);
    return g_shapes;
}

double bench_conv_flops(const wb_conv_shape *s) {
    return 2.0 * (double)s->n * s->c_out * s->h_out * s->w_out * (s->c_in / s->groups) * s->k_h * s->k_w;
}
