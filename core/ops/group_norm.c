/* group_norm front-end: torch.nn.functional.group_norm on [N, C, *] with
 * optional per-channel gamma/beta. Statistics are always those of the
 * batch (there are no running statistics), in training and eval alike.
 * group_norm_act: the same followed by an activation, ReLU in one kernel
 * each way where the backend has them. */
#include <math.h>
#include "ops.h"
#include "../backends/kernels_norm.h"
#include "norm_common.h"
#include "../runtime/context.h"
#include "../runtime/host_tensors.h"

typedef struct gn_saved {
    wb_gn_args args;
    wb_tensor *x, *gamma, *beta; /* gamma/beta may be NULL */
    float *mean, *rstd;          /* [N * groups] */
    wb_tensor *y;                /* non-NULL: backward works from the output (x's data is gone) */
    bool relu;                   /* group_norm_act's node: its output is relu(y), dy that of relu(y) */
} gn_saved;

/* Whether the backend can work from y and y determines xhat in every channel (the bound is batch norm's:
 * norm.c). */
static bool from_output(const wb_context *c, const wb_tensor *gamma, const wb_tensor *beta, int64_t ch) {
    return c->s->backend->norm->group_norm_backward_from_output && wb_norm_affine_invertible(c, gamma, beta, ch);
}

static wb_status gn_backward(wb_context *c, wb_tape_node *node) {
    const gn_saved *s = node->saved;
    wb_tensor *x = s->x, *gamma = s->gamma, *beta = s->beta;
    const float *dy = wb_grad_of(c, node->out[0]);
    if (!dy) return c->err;
    bool want_x = x->requires_grad, want_g = gamma && gamma->requires_grad, want_b = beta && beta->requires_grad;
    float *dx = want_x ? wb_grad_begin(c, x) : NULL;
    float *dg = want_g ? wb_grad_begin(c, gamma) : NULL;
    float *db = want_b ? wb_grad_begin(c, beta) : NULL;
    if ((want_x && !dx) || (want_g && !dg) || (want_b && !db)) return c->err;
    const wb_norm_kernels *k = c->s->backend->norm;
    if (s->relu)
        k->group_norm_relu_backward_from_output(dy, s->y->data, gamma ? gamma->data : NULL,
                                                beta ? beta->data : NULL, s->rstd, &s->args, dx, dg, db);
    else if (s->y)
        k->group_norm_backward_from_output(dy, s->y->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL,
                                           s->rstd, &s->args, dx, dg, db);
    else
        k->group_norm_backward(dy, x->data, gamma ? gamma->data : NULL, s->mean, s->rstd, &s->args, dx, dg, db);
    if (want_x) wb_grad_end(c, x, dx);
    if (want_g) wb_grad_end(c, gamma, dg);
    if (want_b) wb_grad_end(c, beta, db);
    return WB_OK;
}

static bool check_channel_tensor(wb_context *c, const char *what, const wb_tensor *t, int64_t ch) {
    if (!t || (t->ndim == 1 && t->shape[0] == ch)) return true;
    char ts[96];
    wb_ctx_fail(c, WB_ERR_INVALID, "group_norm: %s has shape %s but the input has %lld channels (expected [%lld])",
                what, wb_shape_str(t, ts, sizeof ts), (long long)ch, (long long)ch);
    return false;
}

static bool validate(wb_context *c, const wb_tensor *x, const wb_tensor *gamma, const wb_tensor *beta, int groups,
                     float eps, wb_gn_args *a) {
    char xs[96];
    if (x->ndim < 2) {
        wb_ctx_fail(c, WB_ERR_INVALID, "group_norm: input %s must be [N, C, ...]", wb_shape_str(x, xs, sizeof xs));
        return false;
    }
    int64_t ch = x->shape[1];
    if (groups < 1 || ch % groups != 0) {
        wb_ctx_fail(c, WB_ERR_INVALID, "group_norm: %lld channels of input %s do not split into %d groups "
                    "(groups must be >= 1 and divide the channels)", (long long)ch,
                    wb_shape_str(x, xs, sizeof xs), groups);
        return false;
    }
    if (!check_channel_tensor(c, "weight (gamma)", gamma, ch) || !check_channel_tensor(c, "bias (beta)", beta, ch))
        return false;
    if (!(eps >= 0.0f) || isinf(eps)) {
        wb_ctx_fail(c, WB_ERR_INVALID, "group_norm: eps must be a finite value >= 0, got %g", (double)eps);
        return false;
    }
    *a = (wb_gn_args){.n = x->shape[0], .c = ch, .hw = wb_shape_numel(x->ndim - 2, x->shape + 2),
                      .groups = groups, .eps = eps};
    return true;
}

wb_tensor *wb_op_group_norm(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, int groups, float eps) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_gn_args a;
    if (!wb_ctx_check_inputs(c, "group_norm", &x, 1) || !validate(c, x, gamma, beta, groups, eps, &a)) return NULL;
    wb_tensor *y = wb_ctx_tensor_uninit(c, x->ndim, x->shape);
    size_t stat_bytes = (size_t)(a.n * a.groups) * sizeof(float) + 1;
    float *mean = y ? wb_ctx_kernel_scratch(c, stat_bytes) : NULL, *rstd = mean ? wb_ctx_kernel_scratch(c, stat_bytes) : NULL;
    if (!rstd) return NULL;
    c->s->backend->norm->group_norm_forward(x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL, &a,
                                            y->data, mean, rstd);
    /* Only the inputs that exist go on the tape; gn_saved remembers which is which. */
    wb_tensor *in[3];
    int n_in = wb_norm_tape_inputs(x, gamma, beta, in);
    if (wb_tape_needed(c, in, n_in)) {
        /* From the output, the tape keeps y (which the ReLU after it keeps anyway) and frees the convolution
         * output x: one activation fewer per conv + GroupNorm + ReLU (FCOS's towers). gamma and beta: in[1..]. */
        bool use_y = from_output(c, gamma, beta, a.c);
        unsigned keep = (use_y ? WB_KEEP_OUT(0) | WB_KEEP_IN(1) | WB_KEEP_IN(2) : WB_KEEP_IN(0) | WB_KEEP_IN(1));
        wb_tape_node *node = wb_tape_record(c, "group_norm", gn_backward, in, n_in, &y, 1, sizeof(gn_saved), keep);
        if (!node) return NULL;
        *(gn_saved *)node->saved = (gn_saved){a, x, gamma, beta, mean, rstd, use_y ? y : NULL, false};
    }
    return y;
}

/* relu(group_norm(x)) in one pass each way: the output z, and with a tape also y = group_norm(x), which the
 * node holds for the backward (from the output) and z is recorded as relu of (wb_tensor.relu_of): so the next
 * conv's node holds y too and z dies after the forward, one activation per conv + GroupNorm + ReLU as with the
 * two ops. Without a tape there is no y. */
static wb_tensor *gn_relu(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, const wb_gn_args *a,
                          wb_tensor *const *in, int n_in, bool tape) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *y = tape ? wb_ctx_tensor_uninit(c, x->ndim, x->shape) : NULL;
    wb_tensor *z = !tape || y ? wb_ctx_tensor_uninit(c, x->ndim, x->shape) : NULL;
    size_t stat_bytes = (size_t)(a->n * a->groups) * sizeof(float) + 1;
    float *mean = z ? wb_ctx_kernel_scratch(c, stat_bytes) : NULL;
    float *rstd = mean ? wb_ctx_kernel_scratch(c, stat_bytes) : NULL;
    if (!rstd) return NULL;
    c->s->backend->norm->group_norm_relu_forward(x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL, a,
                                                 y ? y->data : NULL, z->data, mean, rstd);
    if (!tape) return z;
    wb_tape_node *node = wb_tape_record(c, "group_norm_act", gn_backward, in, n_in, &z, 1, sizeof(gn_saved),
                                        WB_KEEP_IN(1) | WB_KEEP_IN(2));
    if (!node || !wb_tape_hold(c, node, &y, 1)) return NULL;
    *(gn_saved *)node->saved = (gn_saved){*a, x, gamma, beta, mean, rstd, y, true};
    z->relu_of = y;
    wb_host_tensor_release(ctx, y); /* the node's hold keeps its data */
    return z;
}

wb_tensor *wb_op_group_norm_act(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, int groups, float eps,
                                int act) {
    wb_context *c = wb_ctx_impl(ctx);
    wb_gn_args a;
    if (!wb_ctx_check_inputs(c, "group_norm_act", &x, 1) || !wb_op_check_activation(ctx, "group_norm_act", act))
        return NULL;
    if (act != WB_ACTIVATION_RELU)
        return wb_op_then_activation(ctx, wb_op_group_norm(ctx, x, gamma, beta, groups, eps), act);
    if (!validate(c, x, gamma, beta, groups, eps, &a)) return NULL;
    wb_tensor *in[3];
    int n_in = wb_norm_tape_inputs(x, gamma, beta, in);
    const wb_norm_kernels *k = c->s->backend->norm;
    bool tape = wb_tape_needed(c, in, n_in);
    if (k->group_norm_relu_forward &&
        (!tape || (k->group_norm_relu_backward_from_output && wb_norm_affine_invertible(c, gamma, beta, a.c))))
        return gn_relu(ctx, x, gamma, beta, &a, in, n_in, tape);
    return wb_op_then_activation(ctx, wb_op_group_norm(ctx, x, gamma, beta, groups, eps), act);
}
