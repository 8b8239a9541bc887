/* batch_norm front-end: training (batch statistics, running stats updated in
 * place), eval (running statistics) and frozen (eval with non-trainable
 * gamma/beta: only x gets a gradient, because only x requires one, and the
 * backward, a fixed per-channel scale, keeps no activation).
 *
 * The backward reads the normalized input xhat. Where gamma and beta allow,
 * it recovers xhat from the output, xhat = (y - beta) / gamma, so the tape
 * keeps y instead of x: the activation after it (SiLU, ReLU) keeps y or its
 * own output anyway, and the convolution output x is freed right after the
 * forward - one activation fewer per conv + BN + activation block
 * (yolov5s training at 640, batch 4: 1261 -> 900 MiB of live tensors). */
#include <math.h>
#include <workbench/ops.h>
#include "ops.h"
#include "../backends/kernels_dense.h"
#include "../dist/sync_bn.h"
#include "../runtime/context.h"
#include "../runtime/host_copy.h"
#include "../runtime/tensor_refs.h"
#include "norm_common.h"

typedef struct bn_saved {
    wb_bn_args args;
    int training;
    wb_tensor *x, *gamma, *beta; /* gamma/beta may be NULL (1 / 0) */
    float *mean, *invstd;        /* [C] the statistics the forward normalized with */
    wb_tensor *y;                /* non-NULL: backward works from the output (x's data is gone) */
    struct wb_tape_node *conv;   /* non-NULL: y was let go (bn_shed); backward recomputes x by this conv */
    wb_tensor *running_var;      /* non-NULL: frozen (eval, gamma and beta fixed): dx = dy * gamma * invstd */
} bn_saved;

/* xhat = (y - beta) / gamma loses precision where |beta / gamma| is large
 * (y's rounding error is relative to |beta|): up to 16, xhat carries at most
 * ~16 float32 ulps more error than from x, well inside test_norm's 1e-4. */
#define FROM_OUTPUT_MAX_SHIFT 16.0f
#define FROM_OUTPUT_MIN_GAMMA 1e-12f

/* Whether y determines xhat in every channel (batch norm's and group norm's
 * choice alike). gamma and beta are read on the host on every backend (a
 * download of 2C floats on a device), so every backend keeps the same tensor
 * and computes the same gradients. */
int wb_norm_tape_inputs(wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, wb_tensor *in[3]) {
    int n = 0;
    in[n++] = x;
    if (gamma) in[n++] = gamma;
    if (beta) in[n++] = beta;
    return n;
}

bool wb_norm_affine_invertible(const wb_context *c, const wb_tensor *gamma, const wb_tensor *beta, int64_t ch) {
    const wb_backend *be = c->s->backend;
    const float *gh = gamma ? wb_host_read(be, gamma->data, ch) : NULL;
    const float *bh = beta ? wb_host_read(be, beta->data, ch) : NULL;
    bool ok = (!gamma || gh) && (!beta || bh);
    for (int64_t i = 0; ok && i < ch; i++) {
        float g = gh ? fabsf(gh[i]) : 1.0f, b = bh ? fabsf(bh[i]) : 0.0f;
        ok = g >= FROM_OUTPUT_MIN_GAMMA && !isinf(g) && b <= FROM_OUTPUT_MAX_SHIFT * g;
    }
    if (gamma) wb_host_read_end(be, gamma->data, gh);
    if (beta) wb_host_read_end(be, beta->data, bh);
    return ok;
}

/* The kernel computes xhat = (x - mean) * invstd and scales dx by gamma *
 * invstd. Given y for x, mean' = beta and invstd' = 1 / gamma give xhat, and
 * gamma' = gamma^2 * invstd keeps gamma' * invstd' = gamma * invstd: the same
 * gradients from the same kernel, on every backend. Computed on the host. */
static bool output_params(wb_context *c, const bn_saved *s, float **g, float **mean, float **invstd) {
    const wb_backend *be = c->s->backend;
    const int64_t ch = s->args.c;
    size_t cbytes = (size_t)ch * sizeof(float);
    *g = wb_ctx_kernel_scratch(c, cbytes), *mean = wb_ctx_kernel_scratch(c, cbytes);
    *invstd = wb_ctx_kernel_scratch(c, cbytes);
    if (!*g || !*mean || !*invstd) return false;
    const float *gh = s->gamma ? wb_host_read(be, s->gamma->data, ch) : NULL;
    const float *bh = s->beta ? wb_host_read(be, s->beta->data, ch) : NULL;
    const float *sh = wb_host_read(be, s->invstd, ch);
    float *go = wb_host_write(be, *g, ch), *mo = wb_host_write(be, *mean, ch), *io = wb_host_write(be, *invstd, ch);
    bool ok = (!s->gamma || gh) && (!s->beta || bh) && sh && go && mo && io;
    for (int64_t i = 0; ok && i < ch; i++) {
        float gamma = gh ? gh[i] : 1.0f;
        mo[i] = bh ? bh[i] : 0.0f;
        io[i] = 1.0f / gamma;
        go[i] = gamma * gamma * sh[i];
    }
    wb_host_write_end(be, *g, go, ch), wb_host_write_end(be, *mean, mo, ch), wb_host_write_end(be, *invstd, io, ch);
    if (s->gamma) wb_host_read_end(be, s->gamma->data, gh);
    if (s->beta) wb_host_read_end(be, s->beta->data, bh);
    wb_host_read_end(be, s->invstd, sh);
    if (!ok) wb_ctx_fail(c, WB_ERR_NOMEM, "batch_norm: out of memory for host copies of %lld channels", (long long)ch);
    return ok;
}

/* A batch norm backward's gradient buffers: dx where x wants one, and both
 * channel sums always (the kernels produce them: dx needs them in training),
 * in scratch where gamma or beta wants none. */
typedef struct bn_grads {
    wb_tensor *x, *gamma, *beta; /* those that want a gradient, else NULL */
    float *dx, *dg, *db;
} bn_grads;

static bool bn_grads_begin(wb_context *c, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, int64_t ch, bn_grads *g) {
    size_t cbytes = (size_t)ch * sizeof(float);
    *g = (bn_grads){x->requires_grad ? x : NULL, gamma && gamma->requires_grad ? gamma : NULL,
                    beta && beta->requires_grad ? beta : NULL, NULL, NULL, NULL};
    g->dx = g->x ? wb_grad_begin(c, x) : NULL;
    g->dg = g->gamma ? wb_grad_begin(c, gamma) : wb_ctx_kernel_scratch(c, cbytes);
    g->db = g->beta ? wb_grad_begin(c, beta) : wb_ctx_kernel_scratch(c, cbytes);
    return (!g->x || g->dx) && g->dg && g->db;
}

static void bn_grads_end(wb_context *c, const bn_grads *g) {
    if (g->x) wb_grad_end(c, g->x, g->dx);
    if (g->gamma) wb_grad_end(c, g->gamma, g->dg);
    if (g->beta) wb_grad_end(c, g->beta, g->db);
}

/* A frozen batch norm is a fixed per-channel affine map, so its backward reads no activation: dx = dy * gamma
 * / sqrt(running_var + eps), the eval forward of dy with zero mean and no shift. */
static wb_status frozen_bn_backward(wb_context *c, const bn_saved *s, const float *dy) {
    size_t cbytes = (size_t)s->args.c * sizeof(float);
    float *zero = wb_ctx_kernel_scratch(c, cbytes), *mean = wb_ctx_kernel_scratch(c, cbytes);
    float *invstd = wb_ctx_kernel_scratch(c, cbytes), *dx = wb_grad_begin(c, s->x);
    if (!zero || !mean || !invstd || !dx) return c->err;
    c->s->backend->zero(zero, cbytes);
    c->s->backend->dense->bn_eval_forward(dy, s->gamma ? s->gamma->data : NULL, NULL, zero, s->running_var->data,
                                          &s->args, dx, mean, invstd);
    wb_grad_end(c, s->x, dx);
    return WB_OK;
}

static wb_status bn_backward(wb_context *c, wb_tape_node *node) {
    bn_saved *s = node->saved;
    wb_tensor *x = s->x, *gamma = s->gamma;
    const float *dy = wb_grad_of(c, node->out[0]);
    if (dy && s->running_var) return frozen_bn_backward(c, s, dy);
    bn_grads gr;
    if (!dy || !bn_grads_begin(c, x, gamma, s->beta, s->args.c, &gr)) return c->err;
    if (s->conv && !wb_conv_recompute_output(c, s->conv, x)) return c->err;
    const float *in = x->data, *g = gamma ? gamma->data : NULL;
    float *mean = s->mean, *invstd = s->invstd;
    if (s->y) {
        float *g_out = NULL;
        if (!output_params(c, s, &g_out, &mean, &invstd)) return c->err;
        in = s->y->data, g = g_out;
    }
    c->s->backend->dense->bn_backward(dy, in, g, mean, invstd, &s->args, s->training, gr.dx, gr.dg, gr.db);
    if (s->conv) wb_tape_unrevive(c, x);
    bn_grads_end(c, &gr);
    return WB_OK;
}

/* A batch norm whose output only its own node still holds once the module's forward is done (ResNet's last
 * one before the residual sum, and the downsample's: nothing after them keeps the sum's operands) and whose
 * input a convolution of this module computed: y is let go, and the backward runs that convolution again
 * on the input its node holds anyway and works from x. The price is one more convolution forward per such
 * block; the gain one activation per block (ResNet-50: the 256- to 2048-channel ones). */
static void bn_shed(wb_context *c, wb_tape_node *node) {
    bn_saved *s = node->saved;
    wb_tensor *y = node->out[0], *x = s->x;
    if (!s->y || !x->made_by_conv || x->maker != c || !wb_tape_data_gone(x) || !y->storage || y->storage->refs != 1)
        return;
    node->keep &= ~WB_KEEP_OUT(0);
    wb_storage_drop(c->s, y);
    s->y = NULL;
    s->conv = x->made_by_conv;
}

/* A per-channel tensor (gamma, beta, running stats) must hold C values. */
static bool check_channel_tensor(wb_context *c, const char *what, const wb_tensor *t, int64_t ch) {
    if (!t || (t->ndim == 1 && t->shape[0] == ch)) return true;
    char ts[96];
    wb_ctx_fail(c, WB_ERR_INVALID, "batch_norm: %s has shape %s but the input has %lld channels (expected [%lld])",
                what, wb_shape_str(t, ts, sizeof ts), (long long)ch, (long long)ch);
    return false;
}

static bool validate(wb_context *c, const wb_tensor *x, const wb_tensor *gamma, const wb_tensor *beta,
                     const wb_tensor *rmean, const wb_tensor *rvar, int training, float eps,
                     wb_bn_args *a) {
    char xs[96];
    if (x->ndim != 2 && x->ndim != 4) {
        wb_ctx_fail(c, WB_ERR_INVALID, "batch_norm: input %s must be [N, C] or [N, C, H, W]",
                    wb_shape_str(x, xs, sizeof xs));
        return false;
    }
    int64_t ch = x->shape[1];
    if (!check_channel_tensor(c, "weight (gamma)", gamma, ch) || !check_channel_tensor(c, "bias (beta)", beta, ch) ||
        !check_channel_tensor(c, "running_mean", rmean, ch) || !check_channel_tensor(c, "running_var", rvar, ch))
        return false;
    if (!rmean != !rvar) {
        wb_ctx_fail(c, WB_ERR_INVALID, "batch_norm: running_mean and running_var must be given together");
        return false;
    }
    if (!training && !rmean) {
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "batch_norm: eval mode normalizes with the running statistics, but running_mean and "
                    "running_var are NULL");
        return false;
    }
    if (!(eps >= 0.0f) || isinf(eps)) {
        wb_ctx_fail(c, WB_ERR_INVALID, "batch_norm: eps must be a finite value >= 0, got %g", (double)eps);
        return false;
    }
    *a = (wb_bn_args){.n = x->shape[0], .c = ch, .hw = x->ndim == 4 ? x->shape[2] * x->shape[3] : 1, .eps = eps};
    if (training && a->n * a->hw < 2) {
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "batch_norm: training needs more than one value per channel, got input %s "
                    "(use a larger batch or eval mode)",
                    wb_shape_str(x, xs, sizeof xs));
        return false;
    }
    return true;
}

wb_tensor *wb_op_batch_norm(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta,
                            wb_tensor *running_mean, wb_tensor *running_var,
                            int training, float momentum, float eps) {
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, "batch_norm", &x, 1)) return NULL;
    wb_bn_args a;
    if (!validate(c, x, gamma, beta, running_mean, running_var, training, eps, &a)) return NULL;
    a.momentum = momentum;
    if (training && wb_sync_bn_enabled()) /* train.sync_bn: statistics over every rank */
        return wb_sync_batch_norm(c, x, gamma, beta, running_mean, running_var, &a);

    wb_tensor *y = wb_ctx_tensor_uninit(c, x->ndim, x->shape);
    size_t cbytes = (size_t)a.c * sizeof(float);
    float *mean = wb_ctx_kernel_scratch(c, cbytes), *invstd = wb_ctx_kernel_scratch(c, cbytes);
    if (!y || !mean || !invstd) return NULL;
    const wb_dense_kernels *k = c->s->backend->dense;
    const float *g = gamma ? gamma->data : NULL, *b = beta ? beta->data : NULL;
    if (training)
        k->bn_train_forward(x->data, g, b, running_mean ? running_mean->data : NULL,
                            running_var ? running_var->data : NULL, &a, y->data, mean, invstd);
    else
        k->bn_eval_forward(x->data, g, b, running_mean->data, running_var->data, &a, y->data, mean, invstd);

    /* Only the inputs that exist go on the tape; bn_saved remembers which is which. */
    wb_tensor *in[3];
    int n_in = wb_norm_tape_inputs(x, gamma, beta, in);
    if (wb_tape_needed(c, in, n_in)) {
        bool frozen = !training && !(gamma && gamma->requires_grad) && !(beta && beta->requires_grad);
        bool from_output = !frozen && wb_norm_affine_invertible(c, gamma, beta, a.c);
        /* gamma and beta (inputs 1 and 2 where present) are parameters: kept anyway */
        unsigned keep = (frozen ? 0 : from_output ? WB_KEEP_OUT(0) : WB_KEEP_IN(0)) | WB_KEEP_IN(1) | WB_KEEP_IN(2);
        wb_tape_node *node = wb_tape_record(c, "batch_norm", bn_backward, in, n_in, &y, 1, sizeof(bn_saved), keep);
        if (!node) return NULL;
        *(bn_saved *)node->saved = (bn_saved){
            a, training != 0, x, gamma, beta, mean, invstd, from_output ? y : NULL, NULL, frozen ? running_var : NULL};
        if (!frozen) node->shed = bn_shed;
    }
    return y;
}

/* ---- batch norm + activation ---- */

typedef struct bn_act_saved {
    wb_bn_args args;
    wb_act_kind act;
    wb_tensor *x, *gamma, *beta;
    float *mean, *invstd;
} bn_act_saved;

static wb_status bn_act_backward(wb_context *c, wb_tape_node *node) {
    bn_act_saved *s = node->saved;
    wb_tensor *x = s->x, *gamma = s->gamma, *beta = s->beta;
    const float *dy = wb_grad_of(c, node->out[0]);
    bn_grads gr;
    if (!dy || !bn_grads_begin(c, x, gamma, beta, s->args.c, &gr)) return c->err;
    c->s->backend->dense->bn_act_backward(dy, x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL, s->mean,
                                          s->invstd, &s->args, s->act, gr.dx, gr.dg, gr.db);
    bn_grads_end(c, &gr);
    return WB_OK;
}

/* act(batch_norm(x)). Training with batch statistics on a backend with the
 * fused pair runs one kernel each way and keeps x alone, where the two ops
 * would keep batch norm's output (x's data is freed instead: the same
 * memory). Everything else is the two ops. */
wb_tensor *wb_op_batch_norm_act(wb_ctx *ctx, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta,
                                wb_tensor *running_mean, wb_tensor *running_var, int training, float momentum,
                                float eps, int act) {
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs(c, "batch_norm_act", &x, 1)) return NULL;
    if (!wb_op_check_activation(ctx, "batch_norm_act", act)) return NULL;
    wb_tensor *in[3];
    int n_in = wb_norm_tape_inputs(x, gamma, beta, in);
    const wb_dense_kernels *k = c->s->backend->dense;
    bool fused = act != WB_ACTIVATION_NONE && training && !wb_sync_bn_enabled() && k->bn_act_train_forward &&
                 k->bn_act_backward && wb_tape_needed(c, in, n_in);
    if (!fused)
        return wb_op_then_activation(
            ctx, wb_op_batch_norm(ctx, x, gamma, beta, running_mean, running_var, training, momentum, eps), act);
    wb_bn_args a;
    if (!validate(c, x, gamma, beta, running_mean, running_var, training, eps, &a)) return NULL;
    a.momentum = momentum;
    wb_act_kind kind = act == WB_ACTIVATION_RELU ? WB_ACT_RELU : WB_ACT_SILU;
    wb_tensor *y = wb_ctx_tensor_uninit(c, x->ndim, x->shape);
    size_t cbytes = (size_t)a.c * sizeof(float);
    float *mean = wb_ctx_kernel_scratch(c, cbytes), *invstd = wb_ctx_kernel_scratch(c, cbytes);
    if (!y || !mean || !invstd) return NULL;
    k->bn_act_train_forward(x->data, gamma ? gamma->data : NULL, beta ? beta->data : NULL,
                            running_mean ? running_mean->data : NULL, running_var ? running_var->data : NULL, &a,
                            kind, y->data, mean, invstd);
    /* gamma and beta (inputs 1 and 2 where present) are parameters: kept anyway */
    wb_tape_node *node = wb_tape_record(c, "batch_norm_act", bn_act_backward, in, n_in, &y, 1, sizeof(bn_act_saved),
                                        WB_KEEP_IN(0) | WB_KEEP_IN(1) | WB_KEEP_IN(2));
    if (!node) return NULL;
    *(bn_act_saved *)node->saved = (bn_act_saved){a, kind, x, gamma, beta, mean, invstd};
    return y;
}
