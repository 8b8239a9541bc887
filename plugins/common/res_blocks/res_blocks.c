/* ResNet blocks (see res_blocks.h): parameters and forward with SDK ops;
 * backward is the replayed tape. */
#include "res_blocks.h"

#include <math.h>
#include <stdio.h>

#define BN_EPS 1e-5f

void rb_conv_bn_params(wb_ctx *ctx, const char *prefix, const rb_norm *norm, conv_bn *cb, const char *conv_name,
                       const char *bn_name, int cin, int cout, int k, int stride, int frozen, float gamma0) {
    char name[WB_NAME_MAX];
    int64_t wshape[4] = {cout, cin, k, k}, cshape[1] = {cout};
    cb->stride = stride;
    cb->pad = k / 2;
    cb->frozen = frozen;
    /* torchvision: kaiming_normal_(mode="fan_out", nonlinearity="relu"). */
    snprintf(name, sizeof name, "%s%s.weight", prefix, conv_name);
    cb->weight = wb_param(ctx, name, 4, wshape, wb_init_kaiming_normal_fan_out(), !frozen);
    int affine_trainable = !frozen && !norm->frozen_bn;
    snprintf(name, sizeof name, "%s%s.weight", prefix, bn_name);
    cb->gamma = wb_param(ctx, name, 1, cshape, wb_init_constant(gamma0), affine_trainable);
    snprintf(name, sizeof name, "%s%s.bias", prefix, bn_name);
    cb->beta = wb_param(ctx, name, 1, cshape, wb_init_constant(0.0f), affine_trainable);
    snprintf(name, sizeof name, "%s%s.running_mean", prefix, bn_name);
    cb->running_mean = wb_buffer(ctx, name, 1, cshape, wb_init_constant(0.0f));
    snprintf(name, sizeof name, "%s%s.running_var", prefix, bn_name);
    cb->running_var = wb_buffer(ctx, name, 1, cshape, wb_init_constant(1.0f));
}

int rb_block_params(wb_ctx *ctx, const char *prefix, const rb_norm *norm, res_block *b, int bottleneck, int cin,
                    int width, int stride, int frozen, int zero_init_residual) {
    int expansion = bottleneck ? 4 : 1, cout = width * expansion;
    int n_conv = bottleneck ? 3 : 2;
    float last_gamma = zero_init_residual ? 0.0f : 1.0f;
    char conv_name[8], bn_name[8];
    for (int i = 0; i < n_conv; i++) {
        snprintf(conv_name, sizeof conv_name, "conv%d", i + 1);
        snprintf(bn_name, sizeof bn_name, "bn%d", i + 1);
        /* v1.5: Bottleneck strides on its 3x3 conv (the second), BasicBlock on its first. */
        int k = bottleneck && i != 1 ? 1 : 3;
        int conv_stride = (bottleneck ? i == 1 : i == 0) ? stride : 1;
        int conv_in = i == 0 ? cin : width;
        int conv_out = i == n_conv - 1 ? cout : width;
        rb_conv_bn_params(ctx, prefix, norm, &b->conv[i], conv_name, bn_name, conv_in, conv_out, k, conv_stride,
                          frozen, i == n_conv - 1 ? last_gamma : 1.0f);
    }
    b->has_downsample = stride != 1 || cin != cout;
    if (b->has_downsample)
        rb_conv_bn_params(ctx, prefix, norm, &b->downsample, "downsample.0", "downsample.1", cin, cout, 1, stride,
                          frozen, 1.0f);
    return cout;
}

/* At inference BN with running statistics is a per-channel affine map
 * y = s x + t (s = gamma / sqrt(var + eps), t = beta - s mean), so it folds
 * into the conv before it, and the backend may apply the ReLU inside the
 * conv too: one pass over the activations instead of three. A block's last
 * conv adds its shortcut (residual, else NULL) there as well. */
static wb_tensor *conv_folded_bn(wb_ctx *ctx, const conv_bn *cb, wb_tensor *x, const wb_conv2d_params *p,
                                 wb_tensor *residual, int act) {
    int64_t cout = wb_info(ctx, cb->weight).shape[0];
    const float *g = wb_map(ctx, cb->gamma), *b = wb_map(ctx, cb->beta);
    const float *mean = wb_map(ctx, cb->running_mean), *var = wb_map(ctx, cb->running_var);
    if (!g || !b || !mean || !var) return NULL;
    float scale[cout], shift[cout];
    for (int64_t o = 0; o < cout; o++) {
        scale[o] = g[o] / sqrtf(var[o] + BN_EPS);
        shift[o] = b[o] - scale[o] * mean[o];
    }
    wb_unmap(ctx, cb->gamma), wb_unmap(ctx, cb->beta), wb_unmap(ctx, cb->running_mean), wb_unmap(ctx, cb->running_var);
    int64_t scale_shape[4] = {cout, 1, 1, 1};
    wb_tensor *s = wb_tensor_from_host(ctx, 4, scale_shape, scale);
    wb_tensor *t = wb_tensor_from_host(ctx, 1, &cout, shift);
    wb_tensor *w = wb_mul(ctx, cb->weight, s);
    wb_tensor *y = residual ? wb_conv2d_add_act(ctx, x, w, t, p, residual, act) : wb_conv2d_act(ctx, x, w, t, p, act);
    wb_release(ctx, s), wb_release(ctx, t), wb_release(ctx, w);
    return y;
}

/* Every intermediate is released right after its last use: at inference its
 * memory is reused at once, in training the tape keeps what backward needs. */
wb_tensor *rb_conv_bn(wb_ctx *ctx, const rb_norm *norm, const conv_bn *cb, wb_tensor *x, int relu) {
    wb_conv2d_params p = wb_conv_p(cb->stride, cb->pad, 1, 1);
    if (!wb_is_training(ctx))
        return conv_folded_bn(ctx, cb, x, &p, NULL, relu ? WB_ACTIVATION_RELU : WB_ACTIVATION_NONE);
    wb_tensor *conv = wb_conv2d(ctx, x, cb->weight, NULL, &p);
    /* Batch statistics only for a trainable BN; frozen BN, norm_eval and
     * frozen stages keep the running statistics (mmdetection). */
    int batch_stats = !norm->frozen_bn && !norm->norm_eval && !cb->frozen;
    wb_tensor *out = wb_batch_norm(ctx, conv, cb->gamma, cb->beta, cb->running_mean, cb->running_var, batch_stats,
                                   0.1f, BN_EPS);
    wb_release(ctx, conv);
    if (!relu) return out;
    wb_tensor *act = wb_relu(ctx, out);
    wb_release(ctx, out);
    return act;
}

/* At inference the last conv's BN, the shortcut's sum and the ReLU run in
 * one call (conv2d_add_act). */
static wb_tensor *block_inference(wb_ctx *ctx, const rb_norm *norm, const res_block *b, int n_conv, wb_tensor *x) {
    wb_tensor *y = x;
    for (int i = 0; i < n_conv - 1; i++) {
        wb_tensor *next = rb_conv_bn(ctx, norm, &b->conv[i], y, 1);
        if (y != x) wb_release(ctx, y);
        y = next;
    }
    wb_tensor *identity = b->has_downsample ? rb_conv_bn(ctx, norm, &b->downsample, x, 0) : x;
    const conv_bn *last = &b->conv[n_conv - 1];
    wb_conv2d_params p = wb_conv_p(last->stride, last->pad, 1, 1);
    wb_tensor *out = conv_folded_bn(ctx, last, y, &p, identity, WB_ACTIVATION_RELU);
    if (y != x) wb_release(ctx, y);
    if (identity != x) wb_release(ctx, identity);
    return out;
}

wb_tensor *rb_block(wb_ctx *ctx, const rb_norm *norm, const res_block *b, int bottleneck, wb_tensor *x) {
    int n_conv = bottleneck ? 3 : 2;
    if (!wb_is_training(ctx)) return block_inference(ctx, norm, b, n_conv, x);
    wb_tensor *y = x;
    for (int i = 0; i < n_conv; i++) {
        wb_tensor *next = rb_conv_bn(ctx, norm, &b->conv[i], y, i < n_conv - 1);
        if (y != x) wb_release(ctx, y);
        y = next;
    }
    wb_tensor *identity = b->has_downsample ? rb_conv_bn(ctx, norm, &b->downsample, x, 0) : x;
    wb_tensor *sum = wb_add(ctx, y, identity);
    wb_release(ctx, y);
    if (identity != x) wb_release(ctx, identity);
    wb_tensor *act = wb_relu(ctx, sum);
    wb_release(ctx, sum);
    return act;
}
