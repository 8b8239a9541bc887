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
    if (i == m->n_used)
        src = m->extra == FPN_EXTRA_ON_INPUT ? in[m->n_in - 1] : out[i - 1];
    else
        src = m->relu_before_extra ? wb_relu(ctx, out[i - 1]) : out[i - 1];
    wb_tensor *level = apply_conv(ctx, &m->extra_conv[i], src, 2, 1);
    if (src != out[i - 1]) wb_release(ctx, src); /* the relu temporary; inputs are not ours to release */
    return level;
}

wb_status fpn_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    fpn *m = inst;
    if (n_in != m->n_in || n_out != m->num_outs)
        return wb_error(ctx, WB_ERR_INVALID, "fpn: forward got %d inputs and %d outputs, expected %d and %d",
                        n_in, n_out, m->n_in, m->num_outs);
    wb_tensor *lateral[FPN_MAX_LEVELS];
    for (int j = 0; j < m->n_used; j++) lateral[j] = apply_conv(ctx, &m->lateral[j], in[m->start_level + j], 1, 0);
    /* Top-down: each coarser sum is upsampled to the finer lateral's own size,
     * so odd input sizes work (torch 'nearest' with an explicit size). */
    for (int j = m->n_used - 1; j > 0; j--) {
        if (wb_ok(ctx) != WB_OK) return wb_ok(ctx); /* a NULL lateral has no size to read */
        wb_tensor_info fine = wb_info(ctx, lateral[j - 1]);
        wb_tensor *up = wb_upsample_nearest(ctx, lateral[j], 0, (int)fine.shape[2], (int)fine.shape[3]);
        wb_tensor *sum = wb_add(ctx, lateral[j - 1], up);
        wb_release(ctx, up);
        wb_release(ctx, lateral[j - 1]);
        lateral[j - 1] = sum;
    }
    for (int j = 0; j < m->n_used; j++) {
        out[j] = apply_conv(ctx, &m->output[j], lateral[j], 1, 1);
        wb_release(ctx, lateral[j]);
    }
    for (int i = m->n_used; i < m->num_outs; i++) out[i] = extra_level(m, ctx, in, out, i);
    return wb_ok(ctx);
}
