/* resnet: forward with SDK ops only; backward is the replayed tape. */
#include "resnet.h"

/* Every intermediate is released right after its last use: at inference its
 * memory is reused at once, in training the tape keeps what backward needs. */
static wb_tensor *apply_conv_bn(const resnet *m, wb_ctx *ctx, const conv_bn *cb, wb_tensor *x, int relu) {
    wb_conv2d_params p = wb_conv_p(cb->stride, cb->pad, 1, 1);
    wb_tensor *conv = wb_conv2d(ctx, x, cb->weight, NULL, &p);
    /* Batch statistics only for a trainable BN while training; frozen BN,
     * norm_eval and frozen stages keep the running statistics (mmdetection). */
    int batch_stats = wb_is_training(ctx) && !m->frozen_bn && !m->norm_eval && !cb->frozen;
    wb_tensor *norm =
        wb_batch_norm(ctx, conv, cb->gamma, cb->beta, cb->running_mean, cb->running_var, batch_stats, 0.1f, 1e-5f);
    wb_release(ctx, conv);
    if (!relu) return norm;
    wb_tensor *act = wb_relu(ctx, norm);
    wb_release(ctx, norm);
    return act;
}

static wb_tensor *apply_block(const resnet *m, wb_ctx *ctx, const res_block *b, wb_tensor *x) {
    int n_conv = m->bottleneck ? 3 : 2;
    wb_tensor *y = x;
    for (int i = 0; i < n_conv; i++) {
        wb_tensor *next = apply_conv_bn(m, ctx, &b->conv[i], y, i < n_conv - 1);
        if (y != x) wb_release(ctx, y);
        y = next;
    }
    wb_tensor *identity = b->has_downsample ? apply_conv_bn(m, ctx, &b->downsample, x, 0) : x;
    wb_tensor *sum = wb_add(ctx, y, identity);
    wb_release(ctx, y);
    if (identity != x) wb_release(ctx, identity);
    wb_tensor *act = wb_relu(ctx, sum);
    wb_release(ctx, sum);
    return act;
}

wb_status resnet_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    resnet *m = inst;
    if (n_in != 1 || n_out != m->n_out)
        return wb_error(ctx, WB_ERR_INVALID, "resnet: forward got %d inputs and %d outputs, expected 1 and %d",
                        n_in, n_out, m->n_out);
    wb_tensor *stem = apply_conv_bn(m, ctx, &m->stem, in[0], 1);
    wb_pool2d_params pool = wb_pool_p(3, 2, 1);
    wb_tensor *x = wb_max_pool2d(ctx, stem, &pool);
    wb_release(ctx, stem);
    /* Stages after the last requested output are not computed. */
    int last_stage = m->out_indices[m->n_out - 1];
    for (int s = 0, k = 0; s <= last_stage; s++) {
        for (int b = 0; b < m->n_blocks[s]; b++) {
            wb_tensor *next = apply_block(m, ctx, &m->layer[s][b], x);
            if (k == 0 || x != out[k - 1]) wb_release(ctx, x); /* outputs stay */
            x = next;
        }
        if (s == m->out_indices[k]) out[k++] = x;
    }
    return wb_ok(ctx);
}
