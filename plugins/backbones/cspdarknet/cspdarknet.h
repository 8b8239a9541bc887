/* cspdarknet: YOLOv5 v6.x's CSPDarknet backbone (the backbone section of
 * yolov5{n,s,m,l,x}.yaml) with MMYOLO's YOLOv5CSPDarknet options and names:
 *   stem          Conv 6x6/2 (pad 2)                        YOLOv5 model.0
 *   stage<i>.0    Conv 3x3/2                                model.1, 3, 5, 7
 *   stage<i>.1    C3 with shortcut, round(3, 6, 9, 3 * deepen) bottlenecks
 *   stage4.2      SPPF (k = 5)                              model.9
 * Channels 64, 128, 256, 512, 1024 scaled by widen_factor (make_divisible 8).
 * Output index 0 is the stem (stride 2), i = 1..4 stage i (stride 2^(i+1)). */
#ifndef WB_PLUGIN_CSPDARKNET_H
#define WB_PLUGIN_CSPDARKNET_H

#include <workbench/workbench.h>
#include "csp_layers.h"

#define CSPDARKNET_STAGES 4

typedef struct cspdarknet {
    double deepen_factor, widen_factor;
    int out_indices[CSPDARKNET_STAGES + 1];
    int n_out;
    int frozen_stages; /* -1 none, 0 the stem, k the stem and stage1..k */
    csp_mode mode;     /* norm_eval */
    int in_channels;
    csp_conv stem;
    csp_conv downsample[CSPDARKNET_STAGES]; /* stage<i>.0 */
    csp_c3 c3[CSPDARKNET_STAGES];           /* stage<i>.1 */
    csp_sppf sppf;                          /* stage4.2 */
} cspdarknet;

/* Channels and stride of output index i (0 = stem, 1..4 = stages). */
int cspdarknet_channels(const cspdarknet *m, int index);
int cspdarknet_stride(int index);
/* Bottlenecks in the C3 of stage 0..3 (YOLOv5's 3, 6, 9, 3 scaled by deepen_factor). */
int cspdarknet_blocks(const cspdarknet *m, int stage);

wb_status cspdarknet_init_params(void *inst, wb_ctx *ctx);
wb_status cspdarknet_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out);

#endif
