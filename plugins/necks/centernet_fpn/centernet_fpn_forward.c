/* centernet_fpn: forward with SDK ops only; backward is the replayed tape. */
#include <math.h>
#include "centernet_fpn.h"

/* TensorFlow's BatchNorm default (the model's BN is folded into its convs). */
#define BN_EPS 1e-3f
#define BN_MOMENTUM 0.01f

static wb_tensor *conv_bn(const centernet_fpn *m, wb_ctx *ctx, const cfpn_conv_bn *cb, wb_tensor *x) {
    wb_conv2d_params p = wb_conv_p(1, cb->kernel / 2, 1, cb->groups);
    wb_tensor *y;
    if (wb_is_training(ctx)) {
        wb_tensor *conv = wb_conv2d(ctx, x, cb->weight, NULL, &p);
        y = wb_batch_norm(ctx, conv, cb->gamma, cb->beta, cb->running_mean, cb->running_var, !m->norm_eval,
                          BN_MOMENTUM, BN_EPS);
        wb_release(ctx, conv);
    } else {
        /* Running statistics: BN is a per-channel affine map, folded into the conv. */
        int64_t cout = wb_info(ctx, cb->weight).shape[0];
        const float *g = wb_map(ctx, cb->gamma), *b = wb_map(ctx, cb->beta);
        const float *mean = wb_map(ctx, cb->running_mean), *var = wb_map(ctx, cb->running_var);
        if (!g || !b || !mean || !var) return NULL;
        float scale[cout], shift[cout];
        for (int64_t o = 0; o < cout; o++) {
            scale[o] = g[o] / sqrtf(var[o] + BN_EPS);
            shift[o] = b[o] - scale[o] * mean[o];
        }
        wb_unmap(ctx, cb->gamma), wb_unmap(ctx, cb->beta), wb_unmap(ctx, cb->running_mean),
            wb_unmap(ctx, cb->running_var);
        int64_t sshape[4] = {cout, 1, 1, 1};
        wb_tensor *s = wb_tensor_from_host(ctx, 4, sshape, scale), *t = wb_tensor_from_host(ctx, 1, &cout, shift);
        wb_tensor *w = wb_mul(ctx, cb->weight, s);
        y = wb_conv2d(ctx, x, w, t, &p);
        wb_release(ctx, s), wb_release(ctx, t), wb_release(ctx, w);
    }
    if (!cb->relu) return y;
    wb_tensor *r = wb_relu(ctx, y);
    wb_release(ctx, y);
    return r;
}

static wb_tensor *separable(const centernet_fpn *m, wb_ctx *ctx, const cfpn_separable *s, wb_tensor *x) {
    int64_t c = wb_info(ctx, x).shape[1];
    wb_conv2d_params p = wb_conv_p(1, s->kernel / 2, 1, (int)c);
    wb_tensor *dw = wb_conv2d(ctx, x, s->depthwise, NULL, &p);
    wb_tensor *y = conv_bn(m, ctx, &s->pointwise, dw);
    wb_release(ctx, dw);
    return y;
}

/* TensorFlow 1's resize_bilinear to twice the size along `axis` (2: rows,
 * 3: columns): output 2i is input i, output 2i+1 the mean of inputs i and
 * i+1 (the last input repeated past the end). The two phases are stacked on
 * a new axis and reshaped, so the tape differentiates it. */
static wb_tensor *tf_upsample2_axis(wb_ctx *ctx, wb_tensor *x, int axis) {
    wb_tensor_info xi = wb_info(ctx, x);
    int64_t n = xi.shape[axis];
    wb_tensor *next = x;
    if (n > 1) {
        wb_tensor *parts[2] = {wb_slice(ctx, x, axis, 1, n), wb_slice(ctx, x, axis, n - 1, n)};
        next = wb_concat(ctx, parts, 2, axis);
        wb_release(ctx, parts[0]), wb_release(ctx, parts[1]);
    }
    wb_tensor *sum = wb_add(ctx, x, next);
    if (next != x) wb_release(ctx, next);
    wb_tensor *odd = wb_scale(ctx, sum, 0.5f);
    wb_release(ctx, sum);
    int64_t split[5] = {xi.shape[0], xi.shape[1], xi.shape[2], xi.shape[3], 1};
    if (axis == 2) split[2] = xi.shape[2], split[3] = 1, split[4] = xi.shape[3];
    wb_tensor *phases[2] = {wb_reshape(ctx, x, 5, split), wb_reshape(ctx, odd, 5, split)};
    wb_release(ctx, odd);
    wb_tensor *stacked = wb_concat(ctx, phases, 2, axis + 1);
    wb_release(ctx, phases[0]), wb_release(ctx, phases[1]);
    int64_t shape[4] = {xi.shape[0], xi.shape[1], xi.shape[2], xi.shape[3]};
    shape[axis] *= 2;
    wb_tensor *y = wb_reshape(ctx, stacked, 4, shape);
    wb_release(ctx, stacked);
    return y;
}

static wb_tensor *upsample_to(const centernet_fpn *m, wb_ctx *ctx, wb_tensor *x, int64_t oh, int64_t ow) {
    wb_tensor_info xi = wb_info(ctx, x);
    if (!m->tf_resize) return wb_resize_bilinear(ctx, x, (int)oh, (int)ow, 0);
    if (oh != 2 * xi.shape[2] || ow != 2 * xi.shape[3]) {
        wb_error(ctx, WB_ERR_INVALID,
                 "centernet_fpn: resize tf_legacy needs each level exactly twice the one above, got %lldx%lld "
                 "under %lldx%lld; pad the input to a multiple of the top stride (size_divisor) or use "
                 "resize = \"bilinear\"", (long long)oh, (long long)ow, (long long)xi.shape[2],
                 (long long)xi.shape[3]);
        return NULL;
    }
    wb_tensor *rows = tf_upsample2_axis(ctx, x, 2);
    wb_tensor *y = tf_upsample2_axis(ctx, rows, 3);
    wb_release(ctx, rows);
    return y;
}

/* relu(concat(lateral(c_i), up(branch_x(above) + branch_y(above)))). */
static wb_tensor *merge_level(const centernet_fpn *m, wb_ctx *ctx, const cfpn_level *l, wb_tensor *lower,
                              wb_tensor *above) {
    wb_tensor *bx = separable(m, ctx, &l->branch_x, above), *by = separable(m, ctx, &l->branch_y, above);
    wb_tensor *sum = wb_add(ctx, bx, by);
    wb_release(ctx, bx), wb_release(ctx, by);
    wb_tensor_info li = wb_info(ctx, lower);
    wb_tensor *up = upsample_to(m, ctx, sum, li.shape[2], li.shape[3]);
    wb_release(ctx, sum);
    wb_tensor *reduced = conv_bn(m, ctx, &l->reduce, lower);
    wb_tensor *lateral = separable(m, ctx, &l->lateral, reduced);
    wb_release(ctx, reduced);
    wb_tensor *parts[2] = {lateral, up};
    wb_tensor *cat = wb_concat(ctx, parts, 2, 1);
    wb_release(ctx, lateral), wb_release(ctx, up);
    wb_tensor *y = wb_relu(ctx, cat);
    wb_release(ctx, cat);
    return y;
}

/* x * sigmoid(fc2(relu(bn(fc1(mean(x)))))). */
static wb_tensor *se_gate(const centernet_fpn *m, wb_ctx *ctx, wb_tensor *x) {
    wb_conv2d_params p = wb_conv_p(1, 0, 1, 1);
    wb_tensor *pooled = wb_global_avg_pool(ctx, x);
    wb_tensor *hidden = conv_bn(m, ctx, &m->se_fc1, pooled);
    wb_release(ctx, pooled);
    wb_tensor *logits = wb_conv2d(ctx, hidden, m->se_fc2, NULL, &p);
    wb_release(ctx, hidden);
    wb_tensor *gate = wb_sigmoid(ctx, logits);
    wb_release(ctx, logits);
    wb_tensor *y = wb_mul(ctx, x, gate);
    wb_release(ctx, gate);
    return y;
}

wb_status cfpn_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    centernet_fpn *m = inst;
    if (n_in != m->n_levels || n_out != 1)
        return wb_error(ctx, WB_ERR_INVALID, "centernet_fpn: forward got %d inputs and %d outputs, expected %d and 1",
                        n_in, n_out, m->n_levels);
    wb_tensor *x = in[n_in - 1];
    for (int i = n_in - 2; i >= 0; i--) {
        wb_tensor *merged = merge_level(m, ctx, &m->level[i], in[i], x);
        if (x != in[n_in - 1]) wb_release(ctx, x);
        x = merged;
    }
    if (m->se_channels > 0) {
        wb_tensor *gated = se_gate(m, ctx, x);
        wb_release(ctx, x);
        x = gated;
    }
    out[0] = x;
    return wb_ok(ctx);
}
