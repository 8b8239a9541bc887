/* fpn: parameters under torchvision's FeaturePyramidNetwork names (see fpn.h).
 * Initialised as torchvision does: kaiming_uniform_(a=1), zero bias. */
#include <stdio.h>
#include "fpn.h"

static void make_conv(wb_ctx *ctx, fpn_conv *c, const char *prefix, int cin, int cout, int k) {
    char name[64];
    int64_t wshape[4] = {cout, cin, k, k}, bshape[1] = {cout};
    snprintf(name, sizeof name, "%s.weight", prefix);
    c->weight = wb_param(ctx, name, 4, wshape, wb_init_kaiming_uniform(1.0f), 1);
    snprintf(name, sizeof name, "%s.bias", prefix);
    c->bias = wb_param(ctx, name, 1, bshape, wb_init_constant(0.0f), 1);
}

wb_status fpn_init_params(void *inst, wb_ctx *ctx) {
    fpn *m = inst;
    char prefix[48];
    for (int j = 0; j < m->geo.n_used; j++) {
        snprintf(prefix, sizeof prefix, "inner_blocks.%d.0", j);
        make_conv(ctx, &m->lateral[j], prefix, m->geo.in_channels[m->geo.start_level + j], m->geo.out_channels, 1);
        snprintf(prefix, sizeof prefix, "layer_blocks.%d.0", j);
        make_conv(ctx, &m->output[j], prefix, m->geo.out_channels, m->geo.out_channels, 3);
    }
    if (m->extra == FPN_EXTRA_NONE) return wb_ok(ctx);
    for (int i = m->geo.n_used; i < m->geo.num_outs; i++) {
        int first = i == m->geo.n_used;
        int cin = first && m->extra == FPN_EXTRA_ON_INPUT ? m->geo.in_channels[m->geo.n_in - 1] : m->geo.out_channels;
        snprintf(prefix, sizeof prefix, "extra_blocks.p%d", fp_out_level(&m->geo, i));
        make_conv(ctx, &m->extra_conv[i], prefix, cin, m->geo.out_channels, 3);
    }
    return wb_ok(ctx);
}
