/* Per-row work of the CUDA loss kernels that is more than one formula of
 * loss_math.h: one thread per row of softmax cross-entropy and of the IoU
 * losses, with the reference kernels' expressions (ref/loss_ref.c). Plain C
 * with WB_HD, replayed on the CPU by tests/unit/test_cuda_math_loss.c. */
#ifndef WB_CORE_CUDA_LOSS_ROWS_H
#define WB_CORE_CUDA_LOSS_ROWS_H

#include "../loss_math.h"

/* What a row of softmax_ce is: counted, ignored (label -1) or refused. */
typedef enum wb_ce_row { WB_CE_COUNTED, WB_CE_IGNORED, WB_CE_BAD_LABEL } wb_ce_row;

/* Writes loss[i] (0 unless counted). */
static inline WB_HD wb_ce_row wb_softmax_ce_at(const float *x, const float *labels, const float *w, int64_t i,
                                               int64_t c, float *loss) {
    loss[i] = 0.0f;
    if (!wb_label_valid(labels[i], c)) return WB_CE_BAD_LABEL;
    if (labels[i] < 0) return WB_CE_IGNORED;
    loss[i] = wb_softmax_ce_row(x + i * c, c, (int64_t)labels[i]) * wb_loss_weight(w, i);
    return WB_CE_COUNTED;
}

/* Writes row i of gx (zeros for an ignored row). */
static inline WB_HD void wb_softmax_ce_grad_at(const float *x, const float *labels, const float *w, int64_t i,
                                               int64_t c, wb_loss_grad gy, float *gx) {
    if (labels[i] < 0) {
        for (int64_t j = 0; j < c; j++) gx[i * c + j] = 0.0f;
        return;
    }
    float g = wb_loss_weight(w, i) * wb_loss_upstream(gy, i);
    wb_softmax_ce_row_grad(x + i * c, c, (int64_t)labels[i], g, gx + i * c);
}

static inline WB_HD float wb_iou_at(const float *p, const float *t, const float *w, int64_t i, wb_iou_mode mode,
                                    float eps) {
    return (float)wb_iou_loss_row(p + 4 * i, t + 4 * i, mode, eps, 0, NULL, NULL) * wb_loss_weight(w, i);
}

/* Writes row i of gp and gt, either of which may be NULL. */
static inline WB_HD void wb_iou_grad_at(const float *p, const float *t, const float *w, int64_t i,
                                        wb_iou_mode mode, float eps, wb_loss_grad gy, float *gp, float *gt) {
    double dp[4] = {0, 0, 0, 0}, dt[4] = {0, 0, 0, 0};
    double g = (double)wb_loss_weight(w, i) * wb_loss_upstream(gy, i);
    wb_iou_loss_row(p + 4 * i, t + 4 * i, mode, eps, g, dp, dt);
    for (int k = 0; k < 4; k++) {
        if (gp) gp[4 * i + k] = (float)dp[k];
        if (gt) gt[4 * i + k] = (float)dt[k];
    }
}

#endif
