/* fcos_head: parameters and forward (SDK ops only; backward is the tape). */
#include <math.h>
#include <stdio.h>
#include "fcos_head.h"

#define GN_EPS 1e-5f /* torch.nn.GroupNorm's default */

static fcos_conv conv_param(wb_ctx *ctx, const char *prefix, int cout, int cin, int bias, float bias_value) {
    char name[WB_NAME_MAX * 2];
    int64_t ws[4] = {cout, cin, 3, 3}, bs[1] = {cout};
    fcos_conv c = {NULL, NULL};
    snprintf(name, sizeof name, "%s.weight", prefix);
    c.w = wb_param(ctx, name, 4, ws, wb_init_normal(0.0f, 0.01f), 1);
    if (!bias) return c;
    snprintf(name, sizeof name, "%s.bias", prefix);
    c.b = wb_param(ctx, name, 1, bs, wb_init_constant(bias_value), 1);
    return c;
}

static fcos_norm norm_param(wb_ctx *ctx, const char *prefix, int channels) {
    char name[WB_NAME_MAX * 2];
    int64_t shape[1] = {channels};
    fcos_norm n;
    snprintf(name, sizeof name, "%s.weight", prefix);
    n.gamma = wb_param(ctx, name, 1, shape, wb_init_constant(1.0f), 1);
    snprintf(name, sizeof name, "%s.bias", prefix);
    n.beta = wb_param(ctx, name, 1, shape, wb_init_constant(0.0f), 1);
    return n;
}

/* torchvision's FCOSHead init: N(0, 0.01) weights, zero biases, class logits
 * biased to prior_prob; mmdetection's Scale starts at 1. */
wb_status fcos_init_params(void *inst, wb_ctx *ctx) {
    fcos_head *h = inst;
    static const char *const towers[2] = {"classification_head", "regression_head"};
    char name[WB_NAME_MAX];
    for (int t = 0; t < 2; t++) {
        fcos_conv *convs = t ? h->reg_convs : h->cls_convs;
        fcos_norm *norms = t ? h->reg_norms : h->cls_norms;
        for (int i = 0; i < h->stacked_convs; i++) {
            int cin = i == 0 ? h->in_channels : h->feat_channels;
            snprintf(name, sizeof name, "%s.conv.%d", towers[t], 3 * i);
            convs[i] = conv_param(ctx, name, h->feat_channels, cin, h->conv_bias, 0.0f);
            if (h->num_groups == 0) continue;
            snprintf(name, sizeof name, "%s.conv.%d", towers[t], 3 * i + 1);
            norms[i] = norm_param(ctx, name, h->feat_channels);
        }
    }
    int cin = h->stacked_convs > 0 ? h->feat_channels : h->in_channels;
    float prior_bias = -logf((1.0f - h->prior_prob) / h->prior_prob);
    h->cls_out = conv_param(ctx, "classification_head.cls_logits", h->num_classes, cin, 1, prior_bias);
    h->reg_out = conv_param(ctx, "regression_head.bbox_reg", 4, cin, 1, 0.0f);
    h->ctr_out = conv_param(ctx, "regression_head.bbox_ctrness", 1, cin, 1, 0.0f);
    if (h->scale_per_level) {
        int64_t one[1] = {1};
        for (int l = 0; l < h->n_levels; l++) {
            snprintf(name, sizeof name, "scales.%d.scale", l);
            h->scales[l] = wb_param(ctx, name, 1, one, wb_init_constant(1.0f), 1);
        }
    }
    return wb_ok(ctx);
}

/* conv -> GroupNorm -> ReLU (GroupNorm + ReLU as one op: one pass each way
 * on the CPU), stacked; intermediates are released after their last use (the
 * tape keeps what backward needs); the input is the neck's. */
static wb_tensor *tower(const fcos_head *h, wb_ctx *ctx, wb_tensor *in, const fcos_conv *convs,
                        const fcos_norm *norms) {
    wb_conv2d_params same = wb_conv_p(1, 1, 1, 1);
    wb_tensor *x = in;
    for (int i = 0; i < h->stacked_convs; i++) {
        wb_tensor *y = wb_conv2d(ctx, x, convs[i].w, convs[i].b, &same);
        if (x != in) wb_release(ctx, x);
        x = h->num_groups > 0 ? wb_group_norm_act(ctx, y, norms[i].gamma, norms[i].beta, h->num_groups, GN_EPS,
                                                  WB_ACTIVATION_RELU)
                              : wb_relu(ctx, y);
        wb_release(ctx, y);
    }
    return x;
}

static wb_tensor *head_conv(wb_ctx *ctx, wb_tensor *x, const fcos_conv *c) {
    wb_conv2d_params same = wb_conv_p(1, 1, 1, 1);
    return wb_conv2d(ctx, x, c->w, c->b, &same);
}

/* Box distances: Scale, then ReLU (norm_on_bbox) or exp. */
static wb_tensor *box_distances(const fcos_head *h, wb_ctx *ctx, wb_tensor *feat, int l) {
    wb_tensor *raw = head_conv(ctx, feat, &h->reg_out);
    if (h->scale_per_level) {
        wb_tensor *scaled = wb_mul(ctx, raw, h->scales[l]);
        wb_release(ctx, raw);
        raw = scaled;
    }
    wb_tensor *out = h->norm_on_bbox ? wb_relu(ctx, raw) : wb_exp(ctx, raw);
    wb_release(ctx, raw);
    return out;
}

wb_status fcos_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    fcos_head *h = inst;
    const int L = h->n_levels;
    if (n_in != L || n_out != 3 * L)
        return wb_error(ctx, WB_ERR_INVALID, "fcos_head: forward got %d inputs and %d outputs, expected %d and %d",
                        n_in, n_out, L, 3 * L);
    for (int l = 0; l < L; l++) {
        wb_tensor *cls_feat = tower(h, ctx, in[l], h->cls_convs, h->cls_norms);
        wb_tensor *reg_feat = tower(h, ctx, in[l], h->reg_convs, h->reg_norms);
        out[l] = head_conv(ctx, cls_feat, &h->cls_out);
        out[L + l] = box_distances(h, ctx, reg_feat, l);
        out[2 * L + l] = head_conv(ctx, h->centerness_on_reg ? reg_feat : cls_feat, &h->ctr_out);
        if (cls_feat != in[l]) wb_release(ctx, cls_feat);
        if (reg_feat != in[l]) wb_release(ctx, reg_feat);
    }
    return wb_ok(ctx);
}
