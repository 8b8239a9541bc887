/* YOLOv5's Conv, C3 and SPPF with SDK ops only; backward is the replayed tape. */
#include "csp_layers.h"

#include <math.h>
#include <stdio.h>

int csp_make_divisible(int channels, double widen) { return (int)ceil(channels * widen / 8.0) * 8; }

int csp_make_round(int n, double deepen) {
    if (n <= 1) return n;
    int r = (int)nearbyint(n * deepen); /* the default rounding mode rounds halves to even, as Python */
    return r > 1 ? r : 1;
}

/* ---- parameters ---- */

static const char *join(char *buf, size_t size, const char *prefix, const char *name) {
    snprintf(buf, size, "%s.%s", prefix, name);
    return buf;
}

void csp_conv_init(wb_ctx *ctx, csp_conv *c, const char *prefix, int cin, int cout, int kernel, int stride,
                   int pad, int frozen) {
    char name[128];
    int64_t wshape[4] = {cout, cin, kernel, kernel}, cshape[1] = {cout};
    c->stride = stride;
    c->pad = pad;
    c->frozen = frozen;
    /* YOLOv5 keeps PyTorch's default conv init: kaiming_uniform_(a = sqrt(5)). */
    c->weight = wb_param(ctx, join(name, sizeof name, prefix, "conv.weight"), 4, wshape,
                         wb_init_kaiming_uniform(sqrtf(5.0f)), !frozen);
    c->gamma = wb_param(ctx, join(name, sizeof name, prefix, "bn.weight"), 1, cshape, wb_init_constant(1.0f), !frozen);
    c->beta = wb_param(ctx, join(name, sizeof name, prefix, "bn.bias"), 1, cshape, wb_init_constant(0.0f), !frozen);
    c->running_mean = wb_buffer(ctx, join(name, sizeof name, prefix, "bn.running_mean"), 1, cshape,
                                wb_init_constant(0.0f));
    c->running_var = wb_buffer(ctx, join(name, sizeof name, prefix, "bn.running_var"), 1, cshape,
                               wb_init_constant(1.0f));
}

void csp_c3_init(wb_ctx *ctx, csp_c3 *c, const char *prefix, int cin, int cout, int n_blocks, int shortcut,
                 int frozen) {
    char name[128];
    int hidden = cout / 2;
    csp_conv_init(ctx, &c->main_conv, join(name, sizeof name, prefix, "main_conv"), cin, hidden, 1, 1, 0, frozen);
    csp_conv_init(ctx, &c->short_conv, join(name, sizeof name, prefix, "short_conv"), cin, hidden, 1, 1, 0, frozen);
    csp_conv_init(ctx, &c->final_conv, join(name, sizeof name, prefix, "final_conv"), 2 * hidden, cout, 1, 1, 0,
                  frozen);
    c->n_blocks = n_blocks;
    c->shortcut = shortcut;
    for (int j = 0; j < n_blocks; j++) {
        snprintf(name, sizeof name, "%s.blocks.%d.conv1", prefix, j);
        csp_conv_init(ctx, &c->blocks[j].conv1, name, hidden, hidden, 1, 1, 0, frozen);
        snprintf(name, sizeof name, "%s.blocks.%d.conv2", prefix, j);
        csp_conv_init(ctx, &c->blocks[j].conv2, name, hidden, hidden, 3, 1, 1, frozen);
    }
}

void csp_sppf_init(wb_ctx *ctx, csp_sppf *s, const char *prefix, int cin, int cout, int kernel, int frozen) {
    char name[128];
    int hidden = cin / 2;
    s->kernel = kernel;
    csp_conv_init(ctx, &s->conv1, join(name, sizeof name, prefix, "conv1"), cin, hidden, 1, 1, 0, frozen);
    csp_conv_init(ctx, &s->conv2, join(name, sizeof name, prefix, "conv2"), 4 * hidden, cout, 1, 1, 0, frozen);
}

/* ---- forward ---- */

/* At inference BN with running statistics is a per-channel affine map
 * y = s x + t (s = gamma / sqrt(var + eps), t = beta - s mean), so it folds
 * into the conv before it, and the backend may apply the SiLU inside the
 * conv too: one pass over the activations instead of three. */
static wb_tensor *conv_folded_bn_silu(wb_ctx *ctx, const csp_conv *c, wb_tensor *x, const wb_conv2d_params *p) {
    int64_t cout = wb_info(ctx, c->weight).shape[0];
    const float *g = wb_map(ctx, c->gamma), *b = wb_map(ctx, c->beta);
    const float *mean = wb_map(ctx, c->running_mean), *var = wb_map(ctx, c->running_var);
    if (!g || !b || !mean || !var) return NULL;
    float scale[cout], shift[cout];
    for (int64_t o = 0; o < cout; o++) {
        scale[o] = g[o] / sqrtf(var[o] + CSP_BN_EPS);
        shift[o] = b[o] - scale[o] * mean[o];
    }
    wb_unmap(ctx, c->gamma), wb_unmap(ctx, c->beta), wb_unmap(ctx, c->running_mean), wb_unmap(ctx, c->running_var);
    int64_t scale_shape[4] = {cout, 1, 1, 1};
    wb_tensor *s = wb_tensor_from_host(ctx, 4, scale_shape, scale);
    wb_tensor *t = wb_tensor_from_host(ctx, 1, &cout, shift);
    wb_tensor *w = wb_mul(ctx, c->weight, s);
    wb_tensor *y = wb_conv2d_act(ctx, x, w, t, p, WB_ACTIVATION_SILU);
    wb_release(ctx, s), wb_release(ctx, t), wb_release(ctx, w);
    return y;
}

/* Every intermediate is released right after its last use: at inference its
 * memory is reused at once, in training the tape keeps what backward needs. */
wb_tensor *csp_conv_forward(wb_ctx *ctx, const csp_mode *mode, const csp_conv *c, wb_tensor *x) {
    wb_conv2d_params p = wb_conv_p(c->stride, c->pad, 1, 1);
    if (!wb_is_training(ctx)) return conv_folded_bn_silu(ctx, c, x, &p);
    wb_tensor *conv = wb_conv2d(ctx, x, c->weight, NULL, &p);
    int batch_stats = !mode->norm_eval && !c->frozen;
    wb_tensor *act = wb_batch_norm_act(ctx, conv, c->gamma, c->beta, c->running_mean, c->running_var, batch_stats,
                                       CSP_BN_MOMENTUM, CSP_BN_EPS, WB_ACTIVATION_SILU);
    wb_release(ctx, conv);
    return act;
}

static wb_tensor *bottleneck_forward(wb_ctx *ctx, const csp_mode *mode, const csp_bottleneck *b, wb_tensor *x,
                                     int shortcut) {
    wb_tensor *h = csp_conv_forward(ctx, mode, &b->conv1, x);
    wb_tensor *y = csp_conv_forward(ctx, mode, &b->conv2, h);
    wb_release(ctx, h);
    if (!shortcut) return y;
    wb_tensor *sum = wb_add(ctx, x, y);
    wb_release(ctx, y);
    return sum;
}

wb_tensor *csp_c3_forward(wb_ctx *ctx, const csp_mode *mode, const csp_c3 *c, wb_tensor *x) {
    wb_tensor *main = csp_conv_forward(ctx, mode, &c->main_conv, x);
    for (int j = 0; j < c->n_blocks; j++) {
        wb_tensor *next = bottleneck_forward(ctx, mode, &c->blocks[j], main, c->shortcut);
        wb_release(ctx, main);
        main = next;
    }
    wb_tensor *parts[2] = {main, csp_conv_forward(ctx, mode, &c->short_conv, x)};
    wb_tensor *cat = wb_concat(ctx, parts, 2, 1);
    wb_release(ctx, parts[0]), wb_release(ctx, parts[1]);
    wb_tensor *y = csp_conv_forward(ctx, mode, &c->final_conv, cat);
    wb_release(ctx, cat);
    return y;
}

wb_tensor *csp_sppf_forward(wb_ctx *ctx, const csp_mode *mode, const csp_sppf *s, wb_tensor *x) {
    wb_pool2d_params pool = wb_pool_p(s->kernel, 1, s->kernel / 2);
    wb_tensor *parts[4];
    parts[0] = csp_conv_forward(ctx, mode, &s->conv1, x);
    for (int i = 1; i < 4; i++) parts[i] = wb_max_pool2d(ctx, parts[i - 1], &pool);
    wb_tensor *cat = wb_concat(ctx, parts, 4, 1);
    for (int i = 0; i < 4; i++) wb_release(ctx, parts[i]);
    wb_tensor *y = csp_conv_forward(ctx, mode, &s->conv2, cat);
    wb_release(ctx, cat);
    return y;
}
