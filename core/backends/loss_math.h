/* Per-element loss math shared by the reference, CPU and CUDA loss kernels,
 * so they differ only in how they loop (the CPU ones thread and vectorize;
 * WB_HD makes each function device code too).
 * Classification terms are float (they run over every anchor and class);
 * box terms are double (one row per positive, and IoU subtracts areas). */
#ifndef WB_CORE_LOSS_MATH_H
#define WB_CORE_LOSS_MATH_H

#include <math.h>
#include <stdint.h>
#include "hd.h"
#include "kernels_loss.h"

static inline WB_HD float wb_loss_upstream(wb_loss_grad gy, int64_t i) {
    return gy.g[i * gy.stride] * gy.scale;
}

/* The optional per-element weight. */
static inline WB_HD float wb_loss_weight(const float *w, int64_t i) { return w ? w[i] : 1.0f; }

/* sigmoid(x) and sigmoid(-x), each without cancellation for large |x|. */
static inline WB_HD void wb_sigmoid_pair(float x, float *p, float *pm) {
    float e = expf(-fabsf(x));
    float big = 1.0f / (1.0f + e);
    float small = e * big;
    *p = x >= 0 ? big : small;
    *pm = x >= 0 ? small : big;
}

/* log(1 + e^x) - x t, stable for any x. */
static inline WB_HD float wb_bce_elem(float x, float t) {
    return fmaxf(x, 0.0f) - x * t + log1pf(expf(-fabsf(x)));
}

static inline WB_HD float wb_bce_grad(float x, float t) {
    float p, pm;
    wb_sigmoid_pair(x, &p, &pm);
    return p - t;
}

static inline WB_HD float wb_focal_alpha_t(float t, float alpha) {
    return alpha >= 0.0f ? alpha * t + (1.0f - alpha) * (1.0f - t) : 1.0f;
}

/* torchvision: bce * (1 - p_t)^gamma * alpha_t with p_t = p t + (1-p)(1-t).
 * 1 - p_t is formed from sigmoid(x) and sigmoid(-x) so it stays exact for
 * confident predictions, where the loss actually lives. */
static inline WB_HD float wb_focal_elem(float x, float t, float gamma, float alpha) {
    float p, pm;
    wb_sigmoid_pair(x, &p, &pm);
    float q = p * (1.0f - t) + pm * t;
    return wb_bce_elem(x, t) * powf(q, gamma) * wb_focal_alpha_t(t, alpha);
}

/* d/dx [bce q^gamma] = (p - t) q^gamma + bce gamma q^(gamma-1) dq/dx,
 * dq/dx = p (1 - p) (1 - 2t). The second term is 0 at q = 0 (gamma > 0). */
static inline WB_HD float wb_focal_grad(float x, float t, float gamma, float alpha) {
    float p, pm;
    wb_sigmoid_pair(x, &p, &pm);
    float q = p * (1.0f - t) + pm * t;
    float g = (p - t) * powf(q, gamma);
    if (gamma != 0.0f && q > 0.0f)
        g += wb_bce_elem(x, t) * gamma * powf(q, gamma - 1.0f) * p * pm * (1.0f - 2.0f * t);
    return g * wb_focal_alpha_t(t, alpha);
}

/* torch.nn.functional.smooth_l1_loss; beta == 0 is exactly the L1 loss. */
static inline WB_HD float wb_smooth_l1_elem(float d, float beta) {
    float ad = fabsf(d);
    return (beta > 0.0f && ad < beta) ? 0.5f * d * d / beta : ad - 0.5f * beta;
}

/* torch's gradient: d / beta inside the quadratic zone, sign(d) outside (0 at 0). */
static inline WB_HD float wb_smooth_l1_grad(float d, float beta) {
    if (beta > 0.0f && fabsf(d) < beta) return d / beta;
    return (float)((d > 0.0f) - (d < 0.0f));
}

/* A class label stored as float: -1 (ignored) or an integer in [0, c). */
static inline WB_HD int wb_label_valid(float label, int64_t c) {
    return label == -1.0f || (label >= 0.0f && label < (float)c && label == floorf(label));
}

/* logsumexp(row) - row[label] over one row of c logits. */
static inline WB_HD float wb_softmax_ce_row(const float *row, int64_t c, int64_t label) {
    float m = row[0];
    for (int64_t j = 1; j < c; j++) m = fmaxf(m, row[j]);
    double s = 0.0;
    for (int64_t j = 0; j < c; j++) s += exp((double)(row[j] - m));
    return (float)((double)m + log(s) - (double)row[label]);
}

/* g * (softmax(row) - onehot(label)) into grow. */
static inline WB_HD void wb_softmax_ce_row_grad(const float *row, int64_t c, int64_t label, float g,
                                                float *grow) {
    float m = row[0];
    for (int64_t j = 1; j < c; j++) m = fmaxf(m, row[j]);
    double s = 0.0;
    for (int64_t j = 0; j < c; j++) s += exp((double)(row[j] - m));
    for (int64_t j = 0; j < c; j++)
        grow[j] = g * (float)(exp((double)(row[j] - m)) / s - (j == label ? 1.0 : 0.0));
}

/* Gradient of max(a, b) as torch routes it: to the larger input, half each on a tie. */
static inline WB_HD void wb_route_max(double g, double a, double b, double *ga, double *gb) {
    if (a > b) *ga += g;
    else if (b > a) *gb += g;
    else {
        *ga += 0.5 * g;
        *gb += 0.5 * g;
    }
}

static inline WB_HD void wb_route_min(double g, double a, double b, double *ga, double *gb) {
    wb_route_max(g, -a, -b, ga, gb);
}

/* One row of the IoU family of losses, torchvision definitions (boxes x1y1x2y2):
 *   IoU  1 - inter / (union + eps)
 *   GIoU + (C - union) / (C + eps), C the enclosing box area
 *   DIoU + center distance^2 / (enclosing diagonal^2 + eps)
 *   CIoU DIoU + alpha v, v = 4/pi^2 (atan(wg/hg) - atan(wp/hp))^2 and
 *        alpha = v / (1 - iou + v + eps) held constant in the gradient, as torchvision does.
 * With gp and gt non-NULL, adds g * d loss / d box into them (reverse mode). */
static inline WB_HD double wb_iou_loss_row(const float *p, const float *t, wb_iou_mode mode,
                                           double eps, double g, double gp[4], double gt[4]) {
    double x1 = p[0], y1 = p[1], x2 = p[2], y2 = p[3];
    double a1 = t[0], b1 = t[1], a2 = t[2], b2 = t[3];
    double iw = fmin(x2, a2) - fmax(x1, a1), ih = fmin(y2, b2) - fmax(y1, b1);
    int overlap = iw > 0 && ih > 0;
    double inter = overlap ? iw * ih : 0.0;
    double wp = x2 - x1, hp = y2 - y1, wg = a2 - a1, hg = b2 - b1;
    double uni = wp * hp + wg * hg - inter;
    double iou = inter / (uni + eps);
    double loss = 1.0 - iou;
    double cw = fmax(x2, a2) - fmin(x1, a1), ch = fmax(y2, b2) - fmin(y1, b1);
    double area_c = cw * ch, diag = cw * cw + ch * ch + eps;
    double dx = 0.5 * (x1 + x2 - a1 - a2), dy = 0.5 * (y1 + y2 - b1 - b2);
    double cd = dx * dx + dy * dy;
    const double k = 4.0 / (M_PI * M_PI);
    double d_atan = atan(wg / hg) - atan(wp / hp);
    double v = k * d_atan * d_atan, alpha = v / (1.0 - iou + v + eps);
    if (mode == WB_GIOU) loss += (area_c - uni) / (area_c + eps);
    if (mode == WB_DIOU || mode == WB_CIOU) loss += cd / diag;
    if (mode == WB_CIOU) loss += alpha * v;
    if (!gp || !gt) return loss;

    double g_inter = 0, g_uni = 0, g_cw = 0, g_ch = 0;
    double g_wp = 0, g_hp = 0, g_wg = 0, g_hg = 0;
    if (mode == WB_GIOU) {
        g_uni -= g / (area_c + eps);
        double g_area_c = g * (uni + eps) / ((area_c + eps) * (area_c + eps));
        g_cw += g_area_c * ch;
        g_ch += g_area_c * cw;
    }
    if (mode == WB_DIOU || mode == WB_CIOU) {
        double g_cd = g / diag, g_diag = -g * cd / (diag * diag);
        g_cw += g_diag * 2.0 * cw;
        g_ch += g_diag * 2.0 * ch;
        double g_dx = g_cd * dx, g_dy = g_cd * dy; /* d(dx^2)/dx = 2dx, d dx/d x1 = 1/2 */
        gp[0] += g_dx, gp[2] += g_dx, gt[0] -= g_dx, gt[2] -= g_dx;
        gp[1] += g_dy, gp[3] += g_dy, gt[1] -= g_dy, gt[3] -= g_dy;
    }
    if (mode == WB_CIOU) {
        double g_d = g * alpha * 2.0 * k * d_atan;
        double rg = wg * wg + hg * hg, rp = wp * wp + hp * hp;
        g_wg += g_d * hg / rg;
        g_hg -= g_d * wg / rg;
        g_wp -= g_d * hp / rp;
        g_hp += g_d * wp / rp;
    }
    if (mode != WB_IOU) {
        wb_route_max(g_cw, x2, a2, &gp[2], &gt[2]);
        wb_route_min(-g_cw, x1, a1, &gp[0], &gt[0]);
        wb_route_max(g_ch, y2, b2, &gp[3], &gt[3]);
        wb_route_min(-g_ch, y1, b1, &gp[1], &gt[1]);
    }
    double g_iou = -g;
    g_inter += g_iou / (uni + eps);
    g_uni -= g_iou * inter / ((uni + eps) * (uni + eps));
    g_wp += g_uni * hp, g_hp += g_uni * wp, g_wg += g_uni * hg, g_hg += g_uni * wg;
    g_inter -= g_uni;
    if (overlap) {
        double g_iw = g_inter * ih, g_ih = g_inter * iw;
        wb_route_min(g_iw, x2, a2, &gp[2], &gt[2]);
        wb_route_max(-g_iw, x1, a1, &gp[0], &gt[0]);
        wb_route_min(g_ih, y2, b2, &gp[3], &gt[3]);
        wb_route_max(-g_ih, y1, b1, &gp[1], &gt[1]);
    }
    gp[2] += g_wp, gp[0] -= g_wp, gp[3] += g_hp, gp[1] -= g_hp;
    gt[2] += g_wg, gt[0] -= g_wg, gt[3] += g_hg, gt[1] -= g_hg;
    return loss;
}

#endif
