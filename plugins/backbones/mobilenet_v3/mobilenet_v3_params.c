/* mobilenet_v3: the layer tables of torchvision's mobilenet_v3_large/_small
 * (_mobilenet_v3_conf, dilation off, no reduced tail), the channel rounding,
 * and the parameters under torchvision's names ("features.4.block.2.fc1.weight"). */
#include <stdio.h>
#include "mobilenet_v3.h"

/* One InvertedResidualConfig row: input, kernel, expanded, output, SE, hard-swish, stride. */
typedef struct mnv3_row {
    int in, kernel, expanded, out, se, hs, stride;
} mnv3_row;

static const mnv3_row k_large[] = {
    {16, 3, 16, 16, 0, 0, 1},    {16, 3, 64, 24, 0, 0, 2},    {24, 3, 72, 24, 0, 0, 1},
    {24, 5, 72, 40, 1, 0, 2},    {40, 5, 120, 40, 1, 0, 1},   {40, 5, 120, 40, 1, 0, 1},
    {40, 3, 240, 80, 0, 1, 2},   {80, 3, 200, 80, 0, 1, 1},   {80, 3, 184, 80, 0, 1, 1},
    {80, 3, 184, 80, 0, 1, 1},   {80, 3, 480, 112, 1, 1, 1},  {112, 3, 672, 112, 1, 1, 1},
    {112, 5, 672, 160, 1, 1, 2}, {160, 5, 960, 160, 1, 1, 1}, {160, 5, 960, 160, 1, 1, 1},
};
static const mnv3_row k_small[] = {
    {16, 3, 16, 16, 1, 0, 2},  {16, 3, 72, 24, 0, 0, 2},  {24, 3, 88, 24, 0, 0, 1},  {24, 5, 96, 40, 1, 1, 2},
    {40, 5, 240, 40, 1, 1, 1}, {40, 5, 240, 40, 1, 1, 1}, {40, 5, 120, 48, 1, 1, 1}, {48, 5, 144, 48, 1, 1, 1},
    {48, 5, 288, 96, 1, 1, 2}, {96, 5, 576, 96, 1, 1, 1}, {96, 5, 576, 96, 1, 1, 1},
};

/* torchvision's _make_divisible(v, 8): nearest multiple of 8, never 10% below v. */
static int make_divisible(double v) {
    int r = (int)(v + 4) / 8 * 8;
    if (r < 8) r = 8;
    if (r < 0.9 * v) r += 8;
    return r;
}

void mnv3_build_layout(mobilenet_v3 *m) {
    const mnv3_row *rows = m->large ? k_large : k_small;
    m->n_blocks = m->large ? 15 : 11;
    int stride = 2, in_ch = make_divisible(16 * m->width_mult);
    m->stem.act = MNV3_ACT_HARDSWISH;
    m->stride_of[0] = stride;
    for (int i = 0; i < m->n_blocks; i++) {
        const mnv3_row *r = &rows[i];
        mnv3_block *b = &m->blocks[i + 1];
        b->in_ch = in_ch;
        b->out_ch = make_divisible(r->out * m->width_mult);
        /* TF-Slim multiplies the (already scaled) input width by the row's
         * expansion ratio; torchvision scales the row's expanded width. */
        b->exp_ch = m->slim_expansion ? make_divisible((double)in_ch * r->expanded / r->in)
                                      : make_divisible(r->expanded * m->width_mult);
        b->has_expand = b->exp_ch != b->in_ch;
        b->has_se = r->se;
        b->squeeze_ch = make_divisible(b->exp_ch / 4);
        b->use_res = r->stride == 1 && b->in_ch == b->out_ch;
        mnv3_act act = r->hs ? MNV3_ACT_HARDSWISH : MNV3_ACT_RELU;
        b->expand = (conv_bn){.kernel = 1, .stride = 1, .groups = 1, .act = act};
        b->depthwise = (conv_bn){.kernel = r->kernel, .stride = r->stride, .groups = b->exp_ch, .act = act};
        b->project = (conv_bn){.kernel = 1, .stride = 1, .groups = 1, .act = MNV3_ACT_NONE};
        stride *= r->stride;
        m->stride_of[i + 1] = stride;
        in_ch = b->out_ch;
    }
    if (m->last_channels == 0) m->last_channels = 6 * in_ch;
    m->last = (conv_bn){.kernel = 1, .stride = 1, .groups = 1, .act = MNV3_ACT_HARDSWISH};
    m->stride_of[m->n_blocks + 1] = stride;
    m->stem.kernel = 3, m->stem.stride = 2, m->stem.groups = 1;
}

int mnv3_feature_channels(const mobilenet_v3 *m, int index, int expansion) {
    if (index == 0) return m->blocks[1].in_ch;
    if (index > m->n_blocks) return m->last_channels;
    return expansion ? m->blocks[index].exp_ch : m->blocks[index].out_ch;
}

/* Conv "<prefix>0.weight", BN "<prefix>1.*" as torchvision's Conv2dNormActivation. */
static void make_conv_bn(wb_ctx *ctx, conv_bn *cb, const char *prefix, int cin, int cout, int frozen) {
    char name[96];
    int64_t wshape[4] = {cout, cin / cb->groups, cb->kernel, cb->kernel}, cshape[1] = {cout};
    cb->frozen = frozen;
    snprintf(name, sizeof name, "%s0.weight", prefix);
    cb->weight = wb_param(ctx, name, 4, wshape, wb_init_kaiming_normal_fan_out(), !frozen);
    snprintf(name, sizeof name, "%s1.weight", prefix);
    cb->gamma = wb_param(ctx, name, 1, cshape, wb_init_constant(1.0f), !frozen);
    snprintf(name, sizeof name, "%s1.bias", prefix);
    cb->beta = wb_param(ctx, name, 1, cshape, wb_init_constant(0.0f), !frozen);
    snprintf(name, sizeof name, "%s1.running_mean", prefix);
    cb->running_mean = wb_buffer(ctx, name, 1, cshape, wb_init_constant(0.0f));
    snprintf(name, sizeof name, "%s1.running_var", prefix);
    cb->running_var = wb_buffer(ctx, name, 1, cshape, wb_init_constant(1.0f));
}

/* torchvision's SqueezeExcitation: fc1 / fc2 are 1x1 convs with bias. */
static void make_se(wb_ctx *ctx, mnv3_block *b, const char *prefix, int frozen) {
    char name[96];
    int64_t w1[4] = {b->squeeze_ch, b->exp_ch, 1, 1}, w2[4] = {b->exp_ch, b->squeeze_ch, 1, 1};
    int64_t n1 = b->squeeze_ch, n2 = b->exp_ch;
    snprintf(name, sizeof name, "%sfc1.weight", prefix);
    b->fc1_w = wb_param(ctx, name, 4, w1, wb_init_kaiming_normal_fan_out(), !frozen);
    snprintf(name, sizeof name, "%sfc1.bias", prefix);
    b->fc1_b = wb_param(ctx, name, 1, &n1, wb_init_constant(0.0f), !frozen);
    snprintf(name, sizeof name, "%sfc2.weight", prefix);
    b->fc2_w = wb_param(ctx, name, 4, w2, wb_init_kaiming_normal_fan_out(), !frozen);
    snprintf(name, sizeof name, "%sfc2.bias", prefix);
    b->fc2_b = wb_param(ctx, name, 1, &n2, wb_init_constant(0.0f), !frozen);
}

/* Inside features.i.block: expand (if any), depthwise, SE (if any), project, numbered in order. */
static void make_block(wb_ctx *ctx, mobilenet_v3 *m, int i) {
    mnv3_block *b = &m->blocks[i];
    int frozen = m->frozen_stages >= i, sub = 0;
    char prefix[64];
    if (b->has_expand) {
        snprintf(prefix, sizeof prefix, "features.%d.block.%d.", i, sub++);
        make_conv_bn(ctx, &b->expand, prefix, b->in_ch, b->exp_ch, frozen);
    }
    snprintf(prefix, sizeof prefix, "features.%d.block.%d.", i, sub++);
    make_conv_bn(ctx, &b->depthwise, prefix, b->exp_ch, b->exp_ch, frozen);
    if (b->has_se) {
        snprintf(prefix, sizeof prefix, "features.%d.block.%d.", i, sub++);
        make_se(ctx, b, prefix, frozen);
    }
    snprintf(prefix, sizeof prefix, "features.%d.block.%d.", i, sub++);
    make_conv_bn(ctx, &b->project, prefix, b->exp_ch, b->out_ch, frozen);
}

wb_status mnv3_init_params(void *inst, wb_ctx *ctx) {
    mobilenet_v3 *m = inst;
    make_conv_bn(ctx, &m->stem, "features.0.", m->in_channels, m->blocks[1].in_ch, m->frozen_stages >= 0);
    for (int i = 1; i <= m->n_blocks; i++) make_block(ctx, m, i);
    char prefix[32];
    snprintf(prefix, sizeof prefix, "features.%d.", m->n_blocks + 1);
    make_conv_bn(ctx, &m->last, prefix, m->blocks[m->n_blocks].out_ch, m->last_channels,
                 m->frozen_stages > m->n_blocks);
    return wb_ok(ctx);
}
