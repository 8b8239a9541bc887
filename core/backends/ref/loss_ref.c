/* Reference loss kernels: one plain loop per op over the shared element math. */
#include "../families.h"
#include "../loss_math.h"

static void focal(const float *x, const float *t, const float *w, int64_t n, float gamma,
                  float alpha, float *loss) {
    for (int64_t i = 0; i < n; i++) loss[i] = wb_focal_elem(x[i], t[i], gamma, alpha) * wb_loss_weight(w, i);
}

static void focal_backward(const float *x, const float *t, const float *w, int64_t n, float gamma,
                           float alpha, wb_loss_grad gy, float *gx) {
    for (int64_t i = 0; i < n; i++)
        gx[i] = wb_focal_grad(x[i], t[i], gamma, alpha) * wb_loss_weight(w, i) * wb_loss_upstream(gy, i);
}

static void bce(const float *x, const float *t, const float *w, int64_t n, float *loss) {
    for (int64_t i = 0; i < n; i++) loss[i] = wb_bce_elem(x[i], t[i]) * wb_loss_weight(w, i);
}

static void bce_backward(const float *x, const float *t, const float *w, int64_t n, wb_loss_grad gy,
                         float *gx) {
    for (int64_t i = 0; i < n; i++)
        gx[i] = wb_bce_grad(x[i], t[i]) * wb_loss_weight(w, i) * wb_loss_upstream(gy, i);
}

static int64_t softmax_ce(const float *x, const float *labels, const float *w, int64_t n, int64_t c,
                          float *loss, int64_t *bad_row) {
    int64_t counted = 0;
    *bad_row = -1;
    for (int64_t i = 0; i < n; i++) {
        loss[i] = 0.0f;
        if (!wb_label_valid(labels[i], c)) {
            if (*bad_row < 0) *bad_row = i;
            continue;
        }
        if (labels[i] < 0) continue;
        loss[i] = wb_softmax_ce_row(x + i * c, c, (int64_t)labels[i]) * wb_loss_weight(w, i);
        counted++;
    }
    return counted;
}

static void softmax_ce_backward(const float *x, const float *labels, const float *w, int64_t n,
                                int64_t c, wb_loss_grad gy, float *gx) {
    for (int64_t i = 0; i < n; i++) {
        if (labels[i] < 0) {
            for (int64_t j = 0; j < c; j++) gx[i * c + j] = 0.0f;
            continue;
        }
        float g = wb_loss_weight(w, i) * wb_loss_upstream(gy, i);
        wb_softmax_ce_row_grad(x + i * c, c, (int64_t)labels[i], g, gx + i * c);
    }
}

static void smooth_l1(const float *p, const float *t, const float *w, int64_t n, float beta,
                      float *loss) {
    for (int64_t i = 0; i < n; i++) loss[i] = wb_smooth_l1_elem(p[i] - t[i], beta) * wb_loss_weight(w, i);
}

static void smooth_l1_backward(const float *p, const float *t, const float *w, int64_t n, float beta,
                               wb_loss_grad gy, float *gp, float *gt) {
    for (int64_t i = 0; i < n; i++) {
        float g = wb_smooth_l1_grad(p[i] - t[i], beta) * wb_loss_weight(w, i) * wb_loss_upstream(gy, i);
        if (gp) gp[i] = g;
        if (gt) gt[i] = -g;
    }
}

static void iou(const float *p, const float *t, const float *w, int64_t n, wb_iou_mode mode,
                float eps, float *loss) {
    for (int64_t i = 0; i < n; i++)
        loss[i] = (float)wb_iou_loss_row(p + 4 * i, t + 4 * i, mode, eps, 0, NULL, NULL) * wb_loss_weight(w, i);
}

static void iou_backward(const float *p, const float *t, const float *w, int64_t n, wb_iou_mode mode,
                         float eps, wb_loss_grad gy, float *gp, float *gt) {
    for (int64_t i = 0; i < n; i++) {
        double dp[4] = {0}, dt[4] = {0};
        double g = (double)wb_loss_weight(w, i) * wb_loss_upstream(gy, i);
        wb_iou_loss_row(p + 4 * i, t + 4 * i, mode, eps, g, dp, dt);
        for (int k = 0; k < 4; k++) {
            if (gp) gp[4 * i + k] = (float)dp[k];
            if (gt) gt[4 * i + k] = (float)dt[k];
        }
    }
}

static void sum(const float *x, int64_t n, float scale, float *out) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    out[0] = (float)(s * scale);
}

static const wb_loss_kernels g_ref_loss = {
    .sigmoid_focal = focal,
    .sigmoid_focal_backward = focal_backward,
    .bce_with_logits = bce,
    .bce_with_logits_backward = bce_backward,
    .softmax_ce = softmax_ce,
    .softmax_ce_backward = softmax_ce_backward,
    .smooth_l1 = smooth_l1,
    .smooth_l1_backward = smooth_l1_backward,
    .iou = iou,
    .iou_backward = iou_backward,
    .sum = sum,
};

const wb_loss_kernels *wb_ref_loss_kernels(void) { return &g_ref_loss; }
