/* pafpn: parameters under mmdetection's names (see pafpn.h), initialised as
 * mmdetection's FPN init_cfg does: Xavier-uniform weights, zero bias. */
#include <stdio.h>
#include "pafpn.h"

static void make_conv(wb_ctx *ctx, pafpn_conv *c, const char *group, int index, int cin, int cout, int k) {
    char name[64];
    int64_t wshape[4] = {cout, cin, k, k}, bshape[1] = {cout};
    wb_init xavier = {WB_INIT_XAVIER_UNIFORM, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0};
    snprintf(name, sizeof name, "%s.%d.conv.weight", group, index);
    c->weight = wb_param(ctx, name, 4, wshape, xavier, 1);
    snprintf(name, sizeof name, "%s.%d.conv.bias", group, index);
    c->bias = wb_param(ctx, name, 1, bshape, wb_init_constant(0.0f), 1);
}

wb_status pafpn_init_params(void *inst, wb_ctx *ctx) {
    pafpn *m = inst;
    const int c = m->geo.out_channels;
    for (int j = 0; j < m->geo.n_used; j++) {
        make_conv(ctx, &m->lateral[j], "lateral_convs", j, m->geo.in_channels[m->geo.start_level + j], c, 1);
        make_conv(ctx, &m->fpn[j], "fpn_convs", j, c, c, 3);
    }
    for (int j = 0; j + 1 < m->geo.n_used; j++) {
        make_conv(ctx, &m->down[j], "downsample_convs", j, c, c, 3);
        make_conv(ctx, &m->pafpn[j], "pafpn_convs", j, c, c, 3);
    }
    if (m->extra == PAFPN_EXTRA_NONE) return wb_ok(ctx);
    for (int i = m->geo.n_used; i < m->geo.num_outs; i++) {
        int cin = i == m->geo.n_used && m->extra == PAFPN_EXTRA_ON_INPUT ? m->geo.in_channels[m->geo.n_in - 1] : c;
        make_conv(ctx, &m->fpn[i], "fpn_convs", i, cin, c, 3);
    }
    return wb_ok(ctx);
}
