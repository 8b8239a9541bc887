/* resnet: the parameters and buffers, under torchvision's names
 * ("conv1.weight", "bn1.running_var", "layer2.0.downsample.1.weight", ...).
 * torchvision's num_batches_tracked buffers have no counterpart: BN here
 * always uses momentum 0.1, so loading a torchvision state_dict reports
 * them as unexpected names and nothing else. */
#include <stdio.h>
#include "resnet.h"

typedef struct namer {
    wb_ctx *ctx;
    char prefix[32]; /* "layer1.0." or "" for the stem */
} namer;

/* "<prefix><module>.<field>", e.g. "layer1.0.downsample.1.running_var". */
static const char *full_name(char *buf, size_t size, const namer *n, const char *module, const char *field) {
    snprintf(buf, size, "%s%s.%s", n->prefix, module, field);
    return buf;
}

/* conv_name "conv1" / bn_name "bn1", or "downsample.0" / "downsample.1". */
static void make_conv_bn(namer *n, const resnet *m, conv_bn *cb, const char *conv_name, const char *bn_name,
                         int cin, int cout, int k, int stride, int frozen, float gamma0) {
    char name[96];
    int64_t wshape[4] = {cout, cin, k, k}, cshape[1] = {cout};
    cb->stride = stride;
    cb->pad = k / 2;
    cb->frozen = frozen;
    /* torchvision: kaiming_normal_(mode="fan_out", nonlinearity="relu"). */
    cb->weight = wb_param(n->ctx, full_name(name, sizeof name, n, conv_name, "weight"), 4, wshape,
                          wb_init_kaiming_normal_fan_out(), !frozen);
    int affine_trainable = !frozen && !m->frozen_bn;
    cb->gamma = wb_param(n->ctx, full_name(name, sizeof name, n, bn_name, "weight"), 1, cshape,
                         wb_init_constant(gamma0), affine_trainable);
    cb->beta = wb_param(n->ctx, full_name(name, sizeof name, n, bn_name, "bias"), 1, cshape,
                        wb_init_constant(0.0f), affine_trainable);
    cb->running_mean = wb_buffer(n->ctx, full_name(name, sizeof name, n, bn_name, "running_mean"), 1, cshape,
                                 wb_init_constant(0.0f));
    cb->running_var = wb_buffer(n->ctx, full_name(name, sizeof name, n, bn_name, "running_var"), 1, cshape,
                                wb_init_constant(1.0f));
}

/* One block of stage s; returns its output channels. */
static int make_block(namer *n, const resnet *m, res_block *b, int cin, int width, int stride, int frozen) {
    int expansion = m->bottleneck ? 4 : 1, cout = width * expansion;
    int n_conv = m->bottleneck ? 3 : 2;
    float last_gamma = m->zero_init_residual ? 0.0f : 1.0f;
    char conv_name[8], bn_name[8];
    for (int i = 0; i < n_conv; i++) {
        snprintf(conv_name, sizeof conv_name, "conv%d", i + 1);
        snprintf(bn_name, sizeof bn_name, "bn%d", i + 1);
        /* v1.5: Bottleneck strides on its 3x3 conv (the second), BasicBlock on its first. */
        int k = m->bottleneck && i != 1 ? 1 : 3;
        int conv_stride = (m->bottleneck ? i == 1 : i == 0) ? stride : 1;
        int conv_in = i == 0 ? cin : width;
        int conv_out = i == n_conv - 1 ? cout : width;
        make_conv_bn(n, m, &b->conv[i], conv_name, bn_name, conv_in, conv_out, k, conv_stride, frozen,
                     i == n_conv - 1 ? last_gamma : 1.0f);
    }
    b->has_downsample = stride != 1 || cin != cout;
    if (b->has_downsample)
        make_conv_bn(n, m, &b->downsample, "downsample.0", "downsample.1", cin, cout, 1, stride, frozen, 1.0f);
    return cout;
}

wb_status resnet_init_params(void *inst, wb_ctx *ctx) {
    resnet *m = inst;
    namer n = {ctx, ""};
    make_conv_bn(&n, m, &m->stem, "conv1", "bn1", m->in_channels, 64, 7, 2, m->frozen_stages >= 0, 1.0f);
    int cin = 64;
    for (int s = 0; s < RESNET_STAGES; s++) {
        int frozen = m->frozen_stages >= s + 1;
        for (int b = 0; b < m->n_blocks[s]; b++) {
            snprintf(n.prefix, sizeof n.prefix, "layer%d.%d.", s + 1, b);
            int stride = b == 0 && s > 0 ? 2 : 1;
            cin = make_block(&n, m, &m->layer[s][b], cin, 64 << s, stride, frozen);
        }
    }
    return wb_ok(ctx);
}
