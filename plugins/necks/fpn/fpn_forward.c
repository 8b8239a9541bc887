/* fpn: forward with SDK ops only; backward is the replayed tape. */
#include "fpn.h"

static wb_tensor *apply_conv(wb_ctx *ctx, const fpn_conv *c, wb_tensor *x, int stride, int pad) {
    wb_conv2d_params p = wb_conv_p(stride, pad, 1, 1);
    return wb_conv2d(ctx, x, c->weight, c->bias, &p);
}

static wb_tensor *extra_level(const fpn *m, wb_ctx *ctx, wb_tensor *const *in, wb_tensor **out, int i) {
    if (m->extra == FPN_EXTRA_NONE) {
        wb_pool2d_params p = wb_pool_p(1, 2, 0);
        return wb_max_pool2d(ctx, out[i - 1], &p);
    }
    wb_tensor *src;
    if (i == m->geo.n_used)
        src = m->extra == FPN_EXTRA_ON_INPUT ? in[m->geo.n_in - 1] : out[i - 1];
    else
        src = m->relu_before_extra ? wb_relu(ctx, out[i - 1]) : out[i - 1];
    wb_tensor *level = apply_conv(ctx, &m->extra_conv[i], src, 2, 1);
    if (src != out[i - 1]) wb_release(ctx, src); /* the relu temporary; inputs are not ours to release */
    return level;
}

wb_status fpn_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    fpn *m = inst;
    if (n_in != m->geo.n_in || n_out != m->geo.num_outs)
        return wb_error(ctx, WB_ERR_INVALID, "fpn: forward got %d inputs and %d outputs, expected %d and %d",
                        n_in, n_out, m->geo.n_in, m->geo.num_outs);
    wb_tensor *lateral[FPN_MAX_LEVELS];
    for (int j = 0; j < m->geo.n_used; j++)
        lateral[j] = apply_conv(ctx, &m->lateral[j], in[m->geo.start_level + j], 1, 0);
    fp_top_down(ctx, lateral, m->geo.n_used);
    if (wb_ok(ctx) != WB_OK) return wb_ok(ctx);
    for (int j = 0; j < m->geo.n_used; j++) {
        out[j] = apply_conv(ctx, &m->output[j], lateral[j], 1, 1);
        wb_release(ctx, lateral[j]);
    }
    for (int i = m->geo.n_used; i < m->geo.num_outs; i++) out[i] = extra_level(m, ctx, in, out, i);
    return wb_ok(ctx);
}
