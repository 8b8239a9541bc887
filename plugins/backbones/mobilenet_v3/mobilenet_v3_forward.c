/* mobilenet_v3: forward with SDK ops only; backward is the replayed tape. */
#include <math.h>
#include "mobilenet_v3.h"

/* torchvision: norm_layer = partial(nn.BatchNorm2d, eps=0.001, momentum=0.01). */
#define BN_EPS 1e-3f
#define BN_MOMENTUM 0.01f

/* At inference BN with running statistics folds into the conv before it
 * (y = s conv(x) + t): one pass over the activations instead of two. */
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

/* TensorFlow's SAME padding of one axis: before = total / 2, after = the rest. */
static void tf_same_pad(int64_t size, int k, int s, int *before, int *after) {
    int64_t out = (size + s - 1) / s, total = (out - 1) * s + k - size;
    if (total < 0) total = 0;
    *before = (int)(total / 2), *after = (int)(total - total / 2);
}

/* A strided conv with TensorFlow's padding, which puts the extra pixel after
 * the image: pad `before + stride` on both sides (windows then start where
 * TensorFlow's do, one output later) and drop the first output row/column. */
static wb_tensor *conv_any_pad(const mobilenet_v3 *m, wb_ctx *ctx, const conv_bn *cb, wb_tensor *x,
                               wb_tensor *(*conv)(wb_ctx *, const conv_bn *, wb_tensor *, const wb_conv2d_params *)) {
    wb_conv2d_params p = wb_conv_p(cb->stride, cb->kernel / 2, 1, cb->groups);
    if (!m->tf_same || cb->stride == 1) return conv(ctx, cb, x, &p);
    wb_tensor_info xi = wb_info(ctx, x);
    int bh, ah, bw, aw;
    tf_same_pad(xi.shape[2], cb->kernel, cb->stride, &bh, &ah);
    tf_same_pad(xi.shape[3], cb->kernel, cb->stride, &bw, &aw);
    int shift_h = ah > bh, shift_w = aw > bw;
    p.pad_h = bh + shift_h * cb->stride, p.pad_w = bw + shift_w * cb->stride;
    wb_tensor *y = conv(ctx, cb, x, &p);
    int64_t oh = (xi.shape[2] + cb->stride - 1) / cb->stride, ow = (xi.shape[3] + cb->stride - 1) / cb->stride;
    if (!shift_h && !shift_w) return y;
    wb_tensor *rows = wb_slice(ctx, y, 2, shift_h, shift_h + oh);
    wb_release(ctx, y);
    wb_tensor *cols = wb_slice(ctx, rows, 3, shift_w, shift_w + ow);
    wb_release(ctx, rows);
    return cols;
}

static wb_tensor *plain_conv(wb_ctx *ctx, const conv_bn *cb, wb_tensor *x, const wb_conv2d_params *p) {
    return wb_conv2d(ctx, x, cb->weight, NULL, p);
}

/* relu6(x + 3) * scale: torch's hardsigmoid when scale is 1/6. */
static wb_tensor *hard_sigmoid(const mobilenet_v3 *m, wb_ctx *ctx, wb_tensor *x) {
    wb_tensor *y = wb_hardsigmoid(ctx, x);
    if (m->hard_scale == 1.0f / 6.0f) return y;
    wb_tensor *s = wb_scale(ctx, y, m->hard_scale * 6.0f);
    wb_release(ctx, y);
    return s;
}

static wb_tensor *activate(const mobilenet_v3 *m, wb_ctx *ctx, mnv3_act act, wb_tensor *x) {
    if (act == MNV3_ACT_NONE) return x;
    wb_tensor *y = act == MNV3_ACT_RELU ? wb_relu(ctx, x) : wb_hardswish(ctx, x);
    wb_release(ctx, x);
    if (act == MNV3_ACT_RELU || m->hard_scale == 1.0f / 6.0f) return y;
    /* x * relu6(x + 3) * scale, for models whose 1/6 was stored rounded. */
    wb_tensor *s = wb_scale(ctx, y, m->hard_scale * 6.0f);
    wb_release(ctx, y);
    return s;
}

/* Every intermediate is released right after its last use. */
static wb_tensor *apply_conv_bn(const mobilenet_v3 *m, wb_ctx *ctx, const conv_bn *cb, wb_tensor *x) {
    wb_tensor *norm;
    if (!wb_is_training(ctx)) {
        norm = conv_any_pad(m, ctx, cb, x, conv_folded_bn);
    } else {
        wb_tensor *conv = conv_any_pad(m, ctx, cb, x, plain_conv);
        /* Batch statistics only for a trainable BN (mmdetection's norm_eval, frozen stages). */
        int batch_stats = !m->norm_eval && !cb->frozen;
        norm = wb_batch_norm(ctx, conv, cb->gamma, cb->beta, cb->running_mean, cb->running_var, batch_stats,
                             BN_MOMENTUM, BN_EPS);
        wb_release(ctx, conv);
    }
    return activate(m, ctx, cb->act, norm);
}

/* torchvision's SqueezeExcitation: x * hardsigmoid(fc2(relu(fc1(avgpool(x))))). */
static wb_tensor *squeeze_excite(const mobilenet_v3 *m, wb_ctx *ctx, const mnv3_block *b, wb_tensor *x) {
    wb_conv2d_params p = wb_conv_p(1, 0, 1, 1);
    wb_tensor *pooled = wb_global_avg_pool(ctx, x);
    wb_tensor *fc1 = wb_conv2d(ctx, pooled, b->fc1_w, b->fc1_b, &p);
    wb_release(ctx, pooled);
    wb_tensor *hidden = wb_relu(ctx, fc1);
    wb_release(ctx, fc1);
    wb_tensor *fc2 = wb_conv2d(ctx, hidden, b->fc2_w, b->fc2_b, &p);
    wb_release(ctx, hidden);
    wb_tensor *gate = hard_sigmoid(m, ctx, fc2);
    wb_release(ctx, fc2);
    wb_tensor *y = wb_mul(ctx, x, gate);
    wb_release(ctx, gate);
    return y;
}

/* One inverted residual; *expansion receives the expansion output when asked
 * for (kept alive: it is a backbone output), and then the block stops there
 * if `stop_after_expansion`. */
static wb_tensor *apply_block(const mobilenet_v3 *m, wb_ctx *ctx, const mnv3_block *b, wb_tensor *x,
                              wb_tensor **expansion, int stop_after_expansion) {
    wb_tensor *y = b->has_expand ? apply_conv_bn(m, ctx, &b->expand, x) : x;
    if (expansion) {
        *expansion = y;
        if (stop_after_expansion) return NULL;
    }
    wb_tensor *dw = apply_conv_bn(m, ctx, &b->depthwise, y);
    if (y != x && !expansion) wb_release(ctx, y);
    if (b->has_se) {
        wb_tensor *se = squeeze_excite(m, ctx, b, dw);
        wb_release(ctx, dw);
        dw = se;
    }
    wb_tensor *proj = apply_conv_bn(m, ctx, &b->project, dw);
    wb_release(ctx, dw);
    if (!b->use_res) return proj;
    wb_tensor *sum = wb_add(ctx, proj, x);
    wb_release(ctx, proj);
    return sum;
}

static int is_output(const wb_tensor *t, wb_tensor *const *out, int n) {
    for (int i = 0; i < n; i++)
        if (out[i] == t) return 1;
    return 0;
}

wb_status mnv3_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    mobilenet_v3 *m = inst;
    if (n_in != 1 || n_out != m->n_out)
        return wb_error(ctx, WB_ERR_INVALID, "mobilenet_v3: forward got %d inputs and %d outputs, expected 1 and %d",
                        n_in, n_out, m->n_out);
    wb_tensor *x = apply_conv_bn(m, ctx, &m->stem, in[0]);
    int k = 0;
    if (m->out_indices[0] == 0) out[k++] = x;
    int last = m->out_indices[m->n_out - 1];
    /* Features after the last requested output are not computed. */
    for (int i = 1; i <= last && i <= m->n_blocks; i++) {
        int want_exp = k < m->n_out && m->out_indices[k] == i && m->out_expansion[k];
        wb_tensor *exp = NULL;
        wb_tensor *next = apply_block(m, ctx, &m->blocks[i], x, want_exp ? &exp : NULL, want_exp && i == last);
        if (want_exp) out[k++] = exp;
        if (!is_output(x, out, k)) wb_release(ctx, x);
        x = next;
        if (k < m->n_out && m->out_indices[k] == i) out[k++] = x;
    }
    if (last > m->n_blocks) {
        wb_tensor *next = apply_conv_bn(m, ctx, &m->last, x);
        if (!is_output(x, out, k)) wb_release(ctx, x);
        out[k++] = next;
    }
    return wb_ok(ctx);
}
