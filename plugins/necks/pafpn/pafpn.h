/* pafpn: mmdetection's PAFPN (Liu et al. 2018, "Path Aggregation Network"):
 * an FPN (lateral 1x1 convs, top-down nearest upsampling to each lateral's
 * size, 3x3 fpn convs), then a bottom-up path: each level adds a 3x3/2 conv
 * of the finer (already augmented) level and passes through a 3x3 pafpn conv
 * (the finest level keeps its fpn conv output). Extra levels as mmdetection's
 * FPN add_extra_convs: max-pool 1/2, or 3x3/2 convs on the last input, last
 * lateral or last output. mmdetection's parameter names (ConvModule without
 * norm), so converted weights load:
 *   lateral_convs.<j>.conv.{weight,bias}     1x1, used input level j
 *   fpn_convs.<j>.conv.{weight,bias}         3x3 of level j; j >= used: extra convs
 *   downsample_convs.<j>.conv.{weight,bias}  3x3/2 from level j to j + 1
 *   pafpn_convs.<j>.conv.{weight,bias}       3x3 output conv of level j + 1 */
#ifndef WB_PLUGIN_PAFPN_H
#define WB_PLUGIN_PAFPN_H

#include <workbench/workbench.h>

#include "../../common/fpn_parts/pyramid.h"

#define PAFPN_MAX_LEVELS FP_MAX_LEVELS

typedef enum pafpn_extra {
    PAFPN_EXTRA_NONE = 0,
    PAFPN_EXTRA_ON_INPUT,
    PAFPN_EXTRA_ON_LATERAL,
    PAFPN_EXTRA_ON_OUTPUT
} pafpn_extra;

typedef struct pafpn_conv {
    wb_tensor *weight, *bias;
} pafpn_conv;

typedef struct pafpn {
    fp_pyramid geo;
    pafpn_extra extra;
    int relu_before_extra;
    pafpn_conv lateral[PAFPN_MAX_LEVELS];
    pafpn_conv fpn[PAFPN_MAX_LEVELS];    /* n_used output convs, then the extra convs */
    pafpn_conv down[PAFPN_MAX_LEVELS];   /* n_used - 1 */
    pafpn_conv pafpn[PAFPN_MAX_LEVELS];  /* n_used - 1 */
} pafpn;

wb_status pafpn_init_params(void *inst, wb_ctx *ctx);
wb_status pafpn_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out);

#endif
