/* The convolutions the benchmark times: every distinct conv layer of a
 * torchvision ResNet-50 and of a RetinaNet FPN, and MobileNetV3-Large's
 * depthwise convs, at batch 2, 512x512 input. */
#ifndef WB_BENCH_CONV_SHAPES_H
#define WB_BENCH_CONV_SHAPES_H

#include "backends/kernels_conv.h"

typedef struct bench_conv {
    const char *name;
    wb_conv_shape shape;
    int resnet_count; /* how many ResNet-50 layers have this shape (0: FPN or MobileNetV3 only) */
} bench_conv;

/* The table and its length. */
const bench_conv *bench_conv_shapes(int *count);
double bench_conv_flops(const wb_conv_shape *s); /* 2 * MACs of one pass */

#endif
