/* yolov5_pafpn: YOLOv5 v6.x's PAFPN (the head section of yolov5s.yaml up to
 * Detect) on c3, c4, c5 of C3, C4, C5 channels, with MMYOLO's YOLOv5PAFPN
 * names (YOLOv5 layer in brackets):
 *   reduce_layers.2          Conv 1x1 C5 -> C4                          [10]
 *   top_down_layers.0.0      C3 (no shortcut) of cat(up(r5), c4) -> C4  [13]
 *   top_down_layers.0.1      Conv 1x1 C4 -> C3                          [14]
 *   top_down_layers.1        C3 of cat(up(r4), c3) -> C3 = p3           [17]
 *   downsample_layers.0      Conv 3x3/2 C3 -> C3                        [18]
 *   bottom_up_layers.0       C3 of cat(down(p3), r4) -> C4 = p4         [20]
 *   downsample_layers.1      Conv 3x3/2 C4 -> C4                        [21]
 *   bottom_up_layers.1       C3 of cat(down(p4), r5) -> C5 = p5         [23]
 * Every width follows the input channels (YOLOv5's neck widths equal its
 * backbone's at each level), so a widened backbone widens the neck; C3 depth
 * is round(num_csp_blocks * deepen_factor). */
#ifndef WB_PLUGIN_YOLOV5_PAFPN_H
#define WB_PLUGIN_YOLOV5_PAFPN_H

#include <workbench/workbench.h>
#include "csp_layers.h"

#define PAFPN_LEVELS 3

typedef struct yolov5_pafpn {
    double deepen_factor;
    int num_csp_blocks;
    int n_blocks; /* per C3, after deepen_factor */
    csp_mode mode;
    int channels[PAFPN_LEVELS];
    int strides[PAFPN_LEVELS];
    csp_conv reduce;        /* reduce_layers.2 */
    csp_c3 top_down_c3;     /* top_down_layers.0.0 */
    csp_conv top_down_conv; /* top_down_layers.0.1 */
    csp_c3 out_p3;          /* top_down_layers.1 */
    csp_conv downsample[2]; /* downsample_layers.0, .1 */
    csp_c3 bottom_up[2];    /* bottom_up_layers.0, .1 */
} yolov5_pafpn;

wb_status yolov5_pafpn_init_params(void *inst, wb_ctx *ctx);
wb_status yolov5_pafpn_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out);

#endif
