/* pafpn: forward with SDK ops only; backward is the replayed tape. */
#include "pafpn.h"

static wb_tensor *apply_conv(wb_ctx *ctx, const pafpn_conv *c, wb_tensor *x, int stride, int pad) {
    wb_conv2d_params p = wb_conv_p(stride, pad, 1, 1);
    return wb_conv2d(ctx, x, c->weight, c->bias, &p);
}

/* Bottom-up: level j + 1 adds the stride-2 conv of level j as augmented so far. */
static void bottom_up(const pafpn *m, wb_ctx *ctx, wb_tensor **inter) {
    for (int j = 0; j + 1 < m->geo.n_used; j++) {
        wb_tensor *down = apply_conv(ctx, &m->down[j], inter[j], 2, 1);
        wb_tensor *sum = wb_add(ctx, inter[j + 1], down);
        wb_release(ctx, down);
        wb_release(ctx, inter[j + 1]);
        inter[j + 1] = sum;
    }
}

static wb_tensor *extra_level(const pafpn *m, wb_ctx *ctx, wb_tensor *const *in, wb_tensor *last_lateral,
                              wb_tensor **out, int i) {
    if (m->extra == PAFPN_EXTRA_NONE) {
        wb_pool2d_params p = wb_pool_p(1, 2, 0);
        return wb_max_pool2d(ctx, out[i - 1], &p);
    }
    wb_tensor *src = out[i - 1];
    if (i == m->geo.n_used && m->extra == PAFPN_EXTRA_ON_INPUT) src = in[m->geo.n_in - 1];
    else if (i == m->geo.n_used && m->extra == PAFPN_EXTRA_ON_LATERAL) src = last_lateral;
    else if (i > m->geo.n_used && m->relu_before_extra) src = wb_relu(ctx, out[i - 1]);
    wb_tensor *level = apply_conv(ctx, &m->fpn[i], src, 2, 1);
    if (i > m->geo.n_used && m->relu_before_extra) wb_release(ctx, src);
    return level;
}

wb_status pafpn_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    pafpn *m = inst;
    if (n_in != m->geo.n_in || n_out != m->geo.num_outs)
        return wb_error(ctx, WB_ERR_INVALID, "pafpn: forward got %d inputs and %d outputs, expected %d and %d",
                        n_in, n_out, m->geo.n_in, m->geo.num_outs);
    const int n = m->geo.n_used;
    wb_tensor *lateral[PAFPN_MAX_LEVELS] = {0}, *inter[PAFPN_MAX_LEVELS] = {0};
    for (int j = 0; j < n; j++) lateral[j] = apply_conv(ctx, &m->lateral[j], in[m->geo.start_level + j], 1, 0);
    fp_top_down(ctx, lateral, n);
    for (int j = 0; j < n; j++) inter[j] = apply_conv(ctx, &m->fpn[j], lateral[j], 1, 1);
    /* on_lateral reads the coarsest lateral after the top-down sums (it has none). */
    for (int j = 0; j < n - (m->extra == PAFPN_EXTRA_ON_LATERAL); j++) wb_release(ctx, lateral[j]);
    bottom_up(m, ctx, inter);
    out[0] = inter[0];
    for (int j = 1; j < n; j++) {
        out[j] = apply_conv(ctx, &m->pafpn[j - 1], inter[j], 1, 1);
        wb_release(ctx, inter[j]);
    }
    for (int i = n; i < m->geo.num_outs; i++) out[i] = extra_level(m, ctx, in, lateral[n - 1], out, i);
    return wb_ok(ctx);
}
