/* conv2d front-end: validation, output allocation, kernel dispatch and the
 * tape node whose backward produces dx, dw and db. */
#include "ops.h"
#include "../backends/kernels_conv.h"
#include "../backends/kernels_pointwise.h"
#include "../runtime/context.h"
#include "../runtime/host_tensors.h"

typedef struct conv_saved {
    wb_conv_shape shape;
} conv_saved;

static wb_status kernel_failed(wb_context *c, wb_status st, const char *pass, const wb_conv_shape *s) {
    return wb_ctx_fail(c, st,
                       "conv2d: the %s backend's %s kernel failed (%s) for input [%lld, %lld, %lld, %lld], "
                       "weight [%lld, %lld, %lld, %lld], groups %lld; run with backend \"ref\" to compare",
                       c->s->backend->name, pass,
                       st == WB_ERR_NOMEM         ? "out of memory"
                       : st == WB_ERR_UNSUPPORTED ? "unsupported configuration"
                                                  : "internal error",
                       (long long)s->n, (long long)s->c_in, (long long)s->h_in, (long long)s->w_in,
                       (long long)s->c_out, (long long)(s->c_in / s->groups), (long long)s->k_h,
                       (long long)s->k_w, (long long)s->groups);
}

/* Multiply-adds x 2 of one direct-convolution pass (what GFLOP/s figures count). */
static uint64_t conv_flops(const wb_conv_shape *s) {
    return 2ull * (uint64_t)(s->n * s->c_out * s->h_out * s->w_out) * (uint64_t)(s->c_in / s->groups * s->k_h * s->k_w);
}

static wb_status conv_backward(wb_context *c, wb_tape_node *node) {
    const wb_conv_shape *s = &((conv_saved *)node->saved)->shape;
    const wb_conv_kernels *k = c->s->backend->conv;
    wb_tensor *x = node->in[0], *w = node->in[1], *b = node->n_in > 2 ? node->in[2] : NULL;
    const float *dy = wb_grad_of(c, node->out[0]);
    if (!dy) return c->err;

    if (x->requires_grad) {
        /* A second gradient of x is added in place where the backend can. */
        wb_status st = x->grad_valid && k->backward_data_add ? k->backward_data_add(s, dy, w->data, x->grad)
                                                             : WB_ERR_UNSUPPORTED;
        if (st == WB_ERR_UNSUPPORTED) {
            float *dx = wb_grad_begin(c, x);
            if (!dx) return c->err;
            st = k->backward_data(s, dy, w->data, dx);
            if (st == WB_OK) wb_grad_end(c, x, dx);
        }
        if (st != WB_OK) return kernel_failed(c, st, "backward-data", s);
        c->s->flops += conv_flops(s);
    }
    bool want_w = w->requires_grad, want_b = b && b->requires_grad;
    if (want_w || want_b) {
        /* The weights kernel computes both; a frozen weight still needs a buffer to write to. */
        float *dw = want_w ? wb_grad_begin(c, w) : wb_ctx_kernel_scratch(c, (size_t)w->numel * sizeof(float));
        float *db = want_b ? wb_grad_begin(c, b) : NULL;
        if (!dw || (want_b && !db)) return c->err;
        wb_status st = k->backward_weights(s, x->data, dy, dw, db);
        if (st != WB_OK) return kernel_failed(c, st, "backward-weights", s);
        c->s->flops += conv_flops(s);
        if (want_w) wb_grad_end(c, w, dw);
        if (want_b) wb_grad_end(c, b, db);
    }
    return WB_OK;
}

/* torch's output size: floor((in + 2*pad - dil*(k-1) - 1) / stride) + 1. */
static int64_t out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
    int64_t span = in + 2 * pad - dil * (k - 1) - 1;
    return span < 0 ? 0 : span / stride + 1;
}

static bool validate(wb_context *c, const wb_tensor *x, const wb_tensor *w, const wb_tensor *b,
                     const wb_conv2d_params *p, wb_conv_shape *s) {
    char xs[96], ws[96];
    if (!p) return wb_ctx_fail(c, WB_ERR_INVALID, "conv2d: params is NULL (use wb_conv_p)"), false;
    if (x->ndim != 4 || w->ndim != 4) {
        wb_ctx_fail(c, WB_ERR_INVALID, "conv2d: input %s and weight %s must both be 4-D (NCHW, OIHW)",
                    wb_shape_str(x, xs, sizeof xs), wb_shape_str(w, ws, sizeof ws));
        return false;
    }
    if (p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1 || p->pad_h < 0 ||
        p->pad_w < 0 || p->groups < 1) {
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "conv2d: invalid params stride %dx%d, pad %dx%d, dilation %dx%d, groups %d "
                    "(stride, dilation and groups must be >= 1, pad >= 0)",
                    p->stride_h, p->stride_w, p->pad_h, p->pad_w, p->dilation_h, p->dilation_w, p->groups);
        return false;
    }
    int64_t g = p->groups;
    if (x->shape[1] % g != 0 || w->shape[0] % g != 0 || x->shape[1] != w->shape[1] * g) {
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "conv2d: input has %lld channels but weight %s expects %lld (groups %lld; channels "
                    "in and out must be divisible by groups)",
                    (long long)x->shape[1], wb_shape_str(w, ws, sizeof ws), (long long)(w->shape[1] * g),
                    (long long)g);
        return false;
    }
    if (b && (b->ndim != 1 || b->shape[0] != w->shape[0])) {
        wb_ctx_fail(c, WB_ERR_INVALID, "conv2d: bias %s must be [%lld] (one value per output channel)",
                    wb_shape_str(b, ws, sizeof ws), (long long)w->shape[0]);
        return false;
    }
    *s = (wb_conv_shape){
        .n = x->shape[0], .c_in = x->shape[1], .h_in = x->shape[2], .w_in = x->shape[3],
        .c_out = w->shape[0], .k_h = w->shape[2], .k_w = w->shape[3],
        .stride_h = p->stride_h, .stride_w = p->stride_w, .pad_h = p->pad_h, .pad_w = p->pad_w,
        .dil_h = p->dilation_h, .dil_w = p->dilation_w, .groups = g,
    };
    s->h_out = out_size(s->h_in, s->k_h, s->stride_h, s->pad_h, s->dil_h);
    s->w_out = out_size(s->w_in, s->k_w, s->stride_w, s->pad_w, s->dil_w);
    if (s->h_out < 1 || s->w_out < 1) {
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "conv2d: input %s is smaller than the dilated kernel %lldx%lld (dilation %lldx%lld) "
                    "after padding %lldx%lld: the output would be empty",
                    wb_shape_str(x, xs, sizeof xs), (long long)s->k_h, (long long)s->k_w,
                    (long long)s->dil_h, (long long)s->dil_w, (long long)s->pad_h, (long long)s->pad_w);
        return false;
    }
    return true;
}

static bool residual_fits(wb_context *c, const wb_tensor *r, const int64_t out_shape[4]) {
    bool fits = r->ndim == 4;
    for (int d = 0; fits && d < 4; d++) fits = r->shape[d] == out_shape[d];
    if (!fits) {
        char rs[96];
        wb_ctx_fail(c, WB_ERR_INVALID, "conv2d_add_act: residual %s must have the conv output's shape [%lld, %lld, "
                    "%lld, %lld]", wb_shape_str(r, rs, sizeof rs), (long long)out_shape[0], (long long)out_shape[1],
                    (long long)out_shape[2], (long long)out_shape[3]);
    }
    return fits;
}

/* act: the activation applied to the output, or -1 for none; only where no
 * backward follows (the backward would need the conv output). residual
 * (NULL: none) is added before act where the backend can do both inside
 * the convolution; *added says whether it did (else y is the conv alone,
 * without act, and the caller runs the add and the activation). */
static wb_tensor *conv2d(wb_context *c, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p,
                         int act, wb_tensor *residual, bool *added) {
    wb_tensor *in[3] = {x, w, b};
    wb_conv_shape s;
    if (!validate(c, x, w, b, p, &s)) return NULL;
    int n_in = b ? 3 : 2;
    bool record = wb_tape_needed(c, in, n_in) || (residual && wb_tape_needed(c, &residual, 1));
    s.inference = !record;

    int64_t out_shape[4] = {s.n, s.c_out, s.h_out, s.w_out};
    if (residual && !residual_fits(c, residual, out_shape)) return NULL;
    wb_tensor *y = wb_ctx_tensor_uninit(c, 4, out_shape);
    if (!y) return NULL;
    const wb_conv_kernels *k = c->s->backend->conv;
    const float *bias = b ? b->data : NULL;
    wb_status st = WB_ERR_UNSUPPORTED;
    bool blocked_path = !record && c->s->backend->layout && k->forward_blocked;
    if (blocked_path && residual)
        st = k->forward_blocked(&s, x->data, x->blocked, w->data, bias, residual->data, residual->blocked, act,
                                y->data, &y->blocked);
    if (residual) *added = st == WB_OK;
    if (residual && st == WB_ERR_UNSUPPORTED) act = -1;
    if (blocked_path && st == WB_ERR_UNSUPPORTED)
        st = k->forward_blocked(&s, x->data, x->blocked, w->data, bias, NULL, false, act, y->data, &y->blocked);
    if (st == WB_ERR_UNSUPPORTED && !wb_ctx_make_plain(c, x)) return NULL;
    if (st == WB_ERR_UNSUPPORTED && act >= 0 && k->forward_act)
        st = k->forward_act(&s, x->data, w->data, bias, (wb_act_kind)act, y->data);
    if (st == WB_ERR_UNSUPPORTED) { /* not asked for, or not fused for this shape: the two passes */
        st = k->forward(&s, x->data, w->data, bias, y->data);
        if (st == WB_OK && act >= 0) c->s->backend->pointwise->act_forward((wb_act_kind)act, 0.0f, y->data, y->data, y->numel);
    }
    if (st != WB_OK) {
        kernel_failed(c, st, "forward", &s);
        return NULL;
    }
    c->s->flops += conv_flops(&s);

    if (record) {
        wb_tape_node *node = wb_tape_record(c, "conv2d", conv_backward, in, n_in, &y, 1, sizeof(conv_saved),
                                            WB_KEEP_IN(0) | WB_KEEP_IN(1));
        if (!node) return NULL;
        ((conv_saved *)node->saved)->shape = s;
        y->made_by_conv = node;
    }
    return y;
}

bool wb_conv_recompute_output(wb_context *c, wb_tape_node *conv, wb_tensor *y) {
    const wb_conv_shape *s = &((conv_saved *)conv->saved)->shape;
    wb_tensor *x = conv->in[0], *w = conv->in[1], *b = conv->n_in > 2 ? conv->in[2] : NULL;
    float *data = wb_tape_revive(c, "conv2d", x) ? wb_pool_alloc(&c->s->tensors, y->storage->bytes) : NULL;
    wb_status st = data ? c->s->backend->conv->forward(s, x->data, w->data, b ? b->data : NULL, data) : WB_ERR_NOMEM;
    wb_tape_unrevive(c, x);
    if (st == WB_OK) {
        y->storage->data = y->data = data;
        c->s->flops += conv_flops(s);
        return true;
    }
    if (data) wb_pool_free(&c->s->tensors, data, y->storage->bytes);
    if (c->err == WB_OK) kernel_failed(c, st, "forward (recomputed for backward)", s);
    return false;
}

wb_tensor *wb_op_conv2d(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[3] = {x, w, b};
    if (!wb_ctx_check_inputs_any_layout(c, "conv2d", in, 2)) return NULL;
    return conv2d(c, x, w, b, p, -1, NULL, NULL);
}

wb_tensor *wb_op_conv2d_act(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p,
                            int act) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[3] = {x, w, b};
    if (!wb_ctx_check_inputs_any_layout(c, "conv2d_act", in, 2)) return NULL;
    if (!wb_op_check_activation(ctx, "conv2d_act", act)) return NULL;
    if (act == WB_ACTIVATION_NONE) return conv2d(c, x, w, b, p, -1, NULL, NULL);
    wb_act_kind kind = act == WB_ACTIVATION_RELU ? WB_ACT_RELU : WB_ACT_SILU;
    /* The fused kernel writes only the activation: a backward would need the conv output too. */
    const wb_conv_kernels *k = c->s->backend->conv;
    if ((k->forward_act || k->forward_blocked) && !wb_tape_needed(c, in, b ? 3 : 2))
        return conv2d(c, x, w, b, p, kind, NULL, NULL);
    return wb_op_then_activation(ctx, conv2d(c, x, w, b, p, -1, NULL, NULL), act);
}

wb_tensor *wb_op_conv2d_add_act(wb_ctx *ctx, wb_tensor *x, wb_tensor *w, wb_tensor *b, const wb_conv2d_params *p,
                                wb_tensor *residual, int act) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[4] = {x, w, residual, b};
    if (!wb_ctx_check_inputs_any_layout(c, "conv2d_add_act", in, 3)) return NULL;
    if (!wb_op_check_activation(ctx, "conv2d_add_act", act)) return NULL;
    int kind = act == WB_ACTIVATION_NONE ? -1 : act == WB_ACTIVATION_RELU ? WB_ACT_RELU : WB_ACT_SILU;
    bool added = false;
    wb_tensor *y = conv2d(c, x, w, b, p, kind, residual, &added);
    if (!y || added) return y;
    wb_tensor *sum = wb_op_add(ctx, y, residual);
    wb_host_tensor_release(ctx, y);
    return wb_op_then_activation(ctx, sum, act);
}
