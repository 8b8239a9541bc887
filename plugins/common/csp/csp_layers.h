/* YOLOv5's building blocks (models/common.py of YOLOv5 v6.x / 7.0) under
 * MMYOLO's parameter names, so that MMYOLO checkpoints and YOLOv5 weights
 * converted by tools/export_yolov5.py load by name:
 *   Conv  -> <p>.conv.weight, <p>.bn.{weight,bias,running_mean,running_var}
 *   C3    -> <p>.main_conv (cv1), <p>.short_conv (cv2), <p>.final_conv (cv3),
 *            <p>.blocks.<j>.conv1 / conv2 (m.<j>.cv1 / cv2)
 *   SPPF  -> <p>.conv1 (cv1), <p>.conv2 (cv2)
 * Compiled into each plugin that uses it (plugins link no core symbol and no
 * other plugin), with SDK ops only. */
#ifndef WB_PLUGIN_CSP_LAYERS_H
#define WB_PLUGIN_CSP_LAYERS_H

#include <workbench/workbench.h>

/* YOLOv5's BatchNorm settings (models/yolo.py initialize_weights). */
#define CSP_BN_EPS 1e-3f
#define CSP_BN_MOMENTUM 0.03f
/* Enough bottlenecks for round(9 * deepen_factor) with deepen_factor <= 3.5. */
#define CSP_MAX_BLOCKS 32

/* Conv: bias-free conv, BatchNorm, SiLU. */
typedef struct csp_conv {
    wb_tensor *weight;
    wb_tensor *gamma, *beta, *running_mean, *running_var;
    int stride, pad;
    int frozen; /* fixed parameters, BN on running statistics */
} csp_conv;

/* Bottleneck with expansion 1.0, as inside C3: conv1 1x1, conv2 3x3. */
typedef struct csp_bottleneck {
    csp_conv conv1, conv2;
} csp_bottleneck;

/* C3 (MMYOLO's CSPLayer): final(cat(blocks(main(x)), short(x))). */
typedef struct csp_c3 {
    csp_conv main_conv, short_conv, final_conv;
    csp_bottleneck blocks[CSP_MAX_BLOCKS];
    int n_blocks;
    int shortcut; /* residual around each bottleneck */
} csp_c3;

/* SPPF: conv2(cat(x, m(x), m(m(x)), m(m(m(x))))) with x = conv1(input),
 * m a k x k max-pool of stride 1. */
typedef struct csp_sppf {
    csp_conv conv1, conv2;
    int kernel;
} csp_sppf;

/* How BatchNorm runs in a training forward: norm_eval keeps the running
 * statistics for every layer (a frozen layer always keeps them). */
typedef struct csp_mode {
    int norm_eval;
} csp_mode;

/* YOLOv5's channel rounding (make_divisible): ceil(channels * widen / 8) * 8. */
int csp_make_divisible(int channels, double widen);
/* YOLOv5's depth rounding: max(round(n * deepen), 1) for n > 1, n otherwise,
 * with Python's round (halves to even). */
int csp_make_round(int n, double deepen);

/* Creating the parameters: `prefix` names the block ("stage1.1"). */
void csp_conv_init(wb_ctx *ctx, csp_conv *c, const char *prefix, int cin, int cout, int kernel, int stride,
                   int pad, int frozen);
/* C3 from cin to cout channels with hidden width cout / 2 (YOLOv5's e = 0.5). */
void csp_c3_init(wb_ctx *ctx, csp_c3 *c, const char *prefix, int cin, int cout, int n_blocks, int shortcut,
                 int frozen);
void csp_sppf_init(wb_ctx *ctx, csp_sppf *s, const char *prefix, int cin, int cout, int kernel, int frozen);

/* Forwards. They never release x (the caller's), only what they made. */
wb_tensor *csp_conv_forward(wb_ctx *ctx, const csp_mode *mode, const csp_conv *c, wb_tensor *x);
wb_tensor *csp_c3_forward(wb_ctx *ctx, const csp_mode *mode, const csp_c3 *c, wb_tensor *x);
wb_tensor *csp_sppf_forward(wb_ctx *ctx, const csp_mode *mode, const csp_sppf *s, wb_tensor *x);

#endif
