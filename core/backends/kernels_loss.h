/* Loss kernels. Forward kernels write the ELEMENTWISE loss (times weight[i]
 * when weight is non-NULL); the op front-end reduces it with `sum`. Backward
 * kernels write d loss / d input for an upstream gradient that is either
 * elementwise (reduction none) or one scalar (sum / mean), see wb_loss_grad.
 * Weights and labels never get a gradient. Semantics follow torch /
 * torchvision (see core/ops/loss_*.c for the exact definitions). */
#ifndef WB_CORE_KERNELS_LOSS_H
#define WB_CORE_KERNELS_LOSS_H

#include <stdint.h>
#include <workbench/host.h>

/* Upstream gradient of element i: g[i * stride] * scale. stride 0 reads one
 * device scalar (the gradient of a reduced loss), so no host round trip. */
typedef struct wb_loss_grad {
    const float *g;
    int64_t stride;
    float scale;
} wb_loss_grad;

struct wb_loss_kernels {
    /* torchvision.ops.sigmoid_focal_loss; alpha < 0 disables alpha weighting. */
    void (*sigmoid_focal)(const float *x, const float *t, const float *w, int64_t n,
                          float gamma, float alpha, float *loss);
    void (*sigmoid_focal_backward)(const float *x, const float *t, const float *w, int64_t n,
                                   float gamma, float alpha, wb_loss_grad gy, float *gx);
    void (*bce_with_logits)(const float *x, const float *t, const float *w, int64_t n, float *loss);
    void (*bce_with_logits_backward)(const float *x, const float *t, const float *w, int64_t n,
                                     wb_loss_grad gy, float *gx);
    /* x [n, c], labels [n] as floats, -1 = ignored (loss 0). Returns how many
     * rows are not ignored; *bad_row gets the first row whose label is neither
     * -1 nor an integer in [0, c), or -1 when all are valid. */
    int64_t (*softmax_ce)(const float *x, const float *labels, const float *w, int64_t n, int64_t c,
                          float *loss, int64_t *bad_row);
    void (*softmax_ce_backward)(const float *x, const float *labels, const float *w, int64_t n,
                                int64_t c, wb_loss_grad gy, float *gx);
    /* beta == 0 is the L1 loss. gp / gt may be NULL when not wanted. */
    void (*smooth_l1)(const float *p, const float *t, const float *w, int64_t n, float beta,
                      float *loss);
    void (*smooth_l1_backward)(const float *p, const float *t, const float *w, int64_t n, float beta,
                               wb_loss_grad gy, float *gp, float *gt);
    /* p, t [n, 4] x1y1x2y2 -> loss [n]. gp / gt may be NULL when not wanted. */
    void (*iou)(const float *p, const float *t, const float *w, int64_t n, wb_iou_mode mode,
                float eps, float *loss);
    void (*iou_backward)(const float *p, const float *t, const float *w, int64_t n, wb_iou_mode mode,
                         float eps, wb_loss_grad gy, float *gp, float *gt);
    /* out[0] = scale * sum of x[0..n), accumulated in double. */
    void (*sum)(const float *x, int64_t n, float scale, float *out);
};

#endif
