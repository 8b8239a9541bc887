/* resnet: forward with SDK ops only; backward is the replayed tape. */
#include <math.h>
#include "resnet.h"

#define BN_EPS 1e-5f

/* At inference BN with running statistics is a per-channel affine map
 * y = s x + t (s = gamma / sqrt(var + eps), t = beta - s mean), so it folds
 * into the conv before it: one pass over the activations instead of two. */
static wb_tensor *conv_folded_bn(wb_ctx *ctx, const conv_bn *cb, wb_tensor *x, const wb_conv2d_params *p) {
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
    wb_tensor *y = wb_conv2d(ctx, x, w, t, p);
    wb_release(ctx, s), wb_release(ctx, t), wb_release(ctx, w);
    return y;
}

/* Every intermediate is released right after its last use: at inference its
 * memory is reused at once, in training the tape keeps what backward needs. */
static wb_tensor *apply_conv_bn(const resnet *m, wb_ctx *ctx, const conv_bn *cb, wb_tensor *x, int relu) {
    wb_conv2d_params p = wb_conv_p(cb->stride, cb->pad, 1, 1);
    wb_tensor *norm;
    if (!wb_is_training(ctx)) {
        norm = conv_folded_bn(ctx, cb, x, &p);
    } else {
        wb_tensor *conv = wb_conv2d(ctx, x, cb->weight, NULL, &p);
        /* Batch statistics only for a trainable BN; frozen BN, norm_eval and
         * frozen stages keep the running statistics (mmdetection). */
        int batch_stats = !m->frozen_bn && !m->norm_eval && !cb->frozen;
        norm = wb_batch_norm(ctx, conv, cb->gamma, cb->beta, cb->running_mean, cb->running_var, batch_stats, 0.1f,
                             BN_EPS);
        wb_release(ctx, conv);
    }
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
