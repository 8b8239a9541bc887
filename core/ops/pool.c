/* Pooling front-ends: max_pool2d, avg_pool2d (torch's ceil_mode and
 * count_include_pad rules) and global_avg_pool, which is an average pool
 * whose one window covers the whole plane. */
#include <stdint.h>
#include <workbench/ops.h>
#include "ops.h"
#include "../backends/kernels_dense.h"
#include "../backends/kernels_layout.h"
#include "../runtime/context.h"

typedef struct pool_saved {
    wb_pool_args args;
    int32_t *argmax; /* max pool only: the input element each output took */
} pool_saved;

static wb_status max_pool_backward(wb_context *c, wb_tape_node *node) {
    pool_saved *s = node->saved;
    wb_tensor *x = node->in[0];
    const float *dy = wb_grad_of(c, node->out[0]);
    float *dx = dy ? wb_grad_begin(c, x) : NULL;
    if (!dx) return c->err;
    c->s->backend->dense->max_pool_backward(dy, s->argmax, &s->args, dx);
    wb_grad_end(c, x, dx);
    return WB_OK;
}

static wb_status avg_pool_backward(wb_context *c, wb_tape_node *node) {
    pool_saved *s = node->saved;
    wb_tensor *x = node->in[0];
    const float *dy = wb_grad_of(c, node->out[0]);
    float *dx = dy ? wb_grad_begin(c, x) : NULL;
    if (!dx) return c->err;
    c->s->backend->dense->avg_pool_backward(dy, &s->args, dx);
    wb_grad_end(c, x, dx);
    return WB_OK;
}

/* torch's pooling output size; ceil_mode drops a last window that would
 * start in the right padding. */
static int64_t out_size(int64_t in, int k, int stride, int pad, int ceil_mode) {
    int64_t span = in + 2 * (int64_t)pad - k + (ceil_mode ? stride - 1 : 0);
    if (span < 0) return 0;
    int64_t out = span / stride + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad) out--;
    return out;
}

static bool validate(wb_context *c, const char *op, const wb_tensor *x, const wb_pool2d_params *p,
                     wb_pool_args *a) {
    char xs[96];
    if (!p) return wb_ctx_fail(c, WB_ERR_INVALID, "%s: params is NULL (use wb_pool_p)", op), false;
    if (x->ndim != 4) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: input %s must be 4-D [N, C, H, W]", op, wb_shape_str(x, xs, sizeof xs));
        return false;
    }
    if (p->kernel_h < 1 || p->kernel_w < 1 || p->stride_h < 1 || p->stride_w < 1 || p->pad_h < 0 || p->pad_w < 0) {
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "%s: invalid params kernel %dx%d, stride %dx%d, pad %dx%d (kernel and stride must be "
                    ">= 1, pad >= 0)",
                    op, p->kernel_h, p->kernel_w, p->stride_h, p->stride_w, p->pad_h, p->pad_w);
        return false;
    }
    /* As torch: more padding would allow windows that see no input at all. */
    if (p->pad_h > p->kernel_h / 2 || p->pad_w > p->kernel_w / 2) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: pad %dx%d must be at most half the kernel %dx%d", op, p->pad_h,
                    p->pad_w, p->kernel_h, p->kernel_w);
        return false;
    }
    if (x->shape[2] * x->shape[3] > INT32_MAX) {
        wb_ctx_fail(c, WB_ERR_UNSUPPORTED, "%s: input plane %s has more than 2^31 elements", op,
                    wb_shape_str(x, xs, sizeof xs));
        return false;
    }
    *a = (wb_pool_args){
        .planes = x->shape[0] * x->shape[1], .ih = x->shape[2], .iw = x->shape[3],
        .kh = p->kernel_h, .kw = p->kernel_w, .sh = p->stride_h, .sw = p->stride_w,
        .ph = p->pad_h, .pw = p->pad_w, .count_include_pad = p->count_include_pad != 0,
    };
    a->oh = out_size(a->ih, a->kh, a->sh, a->ph, p->ceil_mode);
    a->ow = out_size(a->iw, a->kw, a->sw, a->pw, p->ceil_mode);
    if (a->oh < 1 || a->ow < 1) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: input %s is smaller than the kernel %dx%d after padding %dx%d: "
                    "the output would be empty", op, wb_shape_str(x, xs, sizeof xs), p->kernel_h, p->kernel_w,
                    p->pad_h, p->pad_w);
        return false;
    }
    return true;
}

/* Output tensor [N, C, oh, ow] and, when gradients are needed, the tape node. */
static wb_tensor *pool_output(wb_context *c, const char *op, wb_tensor *x, const wb_pool_args *a,
                              wb_tape_backward_fn backward, pool_saved **saved) {
    int64_t shape[4] = {x->shape[0], x->shape[1], a->oh, a->ow};
    wb_tensor *y = wb_ctx_tensor_uninit(c, 4, shape);
    if (!y) return NULL;
    *saved = NULL;
    if (wb_tape_needed(c, &x, 1)) {
        wb_tape_node *node = wb_tape_record(c, op, backward, &x, 1, &y, 1, sizeof(pool_saved), WB_KEEP_NONE);
        if (!node) return NULL;
        *saved = node->saved;
        (*saved)->args = *a;
    }
    return y;
}

/* Over blocked x, where no backward follows: values only, planes of 16-float pixels. */
static wb_tensor *max_pool_blocked(wb_context *c, wb_tensor *x, const wb_pool_args *a) {
    int64_t shape[4] = {x->shape[0], x->shape[1], a->oh, a->ow};
    wb_tensor *y = wb_ctx_tensor_uninit(c, 4, shape);
    if (!y) return NULL;
    wb_pool_args blocks = *a;
    blocks.planes = x->shape[0] * x->shape[1] / WB_LAYOUT_BLOCK;
    c->s->backend->layout->max_pool_forward(x->data, &blocks, y->data);
    y->blocked = true;
    return y;
}

wb_tensor *wb_op_max_pool2d(wb_ctx *ctx, wb_tensor *x, const wb_pool2d_params *p) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_pool_args a;
    if (!wb_ctx_check_inputs_any_layout(c, "max_pool2d", &x, 1) || !validate(c, "max_pool2d", x, p, &a)) return NULL;
    if (x->blocked && !wb_tape_needed(c, &x, 1)) return max_pool_blocked(c, x, &a);
    if (!wb_ctx_make_plain(c, x)) return NULL;
    pool_saved *saved;
    wb_tensor *y = pool_output(c, "max_pool2d", x, &a, max_pool_backward, &saved);
    int32_t *argmax = y ? wb_ctx_kernel_scratch(c, (size_t)y->numel * sizeof(int32_t)) : NULL;
    if (!argmax) return NULL;
    c->s->backend->dense->max_pool_forward(x->data, &a, y->data, argmax);
    if (saved) saved->argmax = argmax;
    return y;
}

static wb_tensor *avg_pool(wb_context *c, const char *op, wb_tensor *x, const wb_pool_args *a) {
    pool_saved *saved;
    wb_tensor *y = pool_output(c, op, x, a, avg_pool_backward, &saved);
    if (y) c->s->backend->dense->avg_pool_forward(x->data, a, y->data);
    return y;
}

wb_tensor *wb_op_avg_pool2d(wb_ctx *ctx, wb_tensor *x, const wb_pool2d_params *p) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_pool_args a;
    if (!wb_ctx_check_inputs(c, "avg_pool2d", &x, 1) || !validate(c, "avg_pool2d", x, p, &a)) return NULL;
    return avg_pool(c, "avg_pool2d", x, &a);
}

wb_tensor *wb_op_global_avg_pool(wb_ctx *ctx, wb_tensor *x) {
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, "global_avg_pool", &x, 1)) return NULL;
    char xs[96];
    if (x->ndim != 4 || x->shape[2] * x->shape[3] < 1 || x->shape[2] > INT32_MAX || x->shape[3] > INT32_MAX) {
        wb_ctx_fail(c, WB_ERR_INVALID, "global_avg_pool: input %s must be 4-D [N, C, H, W] with H, W >= 1",
                    wb_shape_str(x, xs, sizeof xs));
        return NULL;
    }
    wb_pool_args a = {
        .planes = x->shape[0] * x->shape[1], .ih = x->shape[2], .iw = x->shape[3], .oh = 1, .ow = 1,
        .kh = (int)x->shape[2], .kw = (int)x->shape[3], .sh = 1, .sw = 1,
    };
    return avg_pool(c, "global_avg_pool", x, &a);
}
