/* Activation ops: relu, leaky relu, silu, sigmoid, hardswish, hardsigmoid.
 * One front-end serves all six; the tape node keeps the kind and slope. */
#include "ops.h"

#include "../backends/kernels_pointwise.h"
#include "../runtime/context.h"
#include "../runtime/host_tensors.h"

typedef struct act_saved {
    wb_act_kind kind;
    float alpha;
} act_saved;

static wb_status act_backward(wb_context *c, wb_tape_node *node) {
    const act_saved *sv = node->saved;
    wb_tensor *x = node->in[0], *y = node->out[0];
    if (!x->requires_grad) return WB_OK;
    const float *dy = wb_grad_of(c, y);
    float *dx = dy ? wb_grad_begin(c, x) : NULL;
    if (!dx) return c->err;
    /* relu keeps x (see activation()): its mask y > 0 is x > 0, so x stands in for y */
    const float *yd = sv->kind == WB_ACT_RELU ? x->data : y->data;
    c->s->backend->pointwise->act_backward(sv->kind, sv->alpha, x->data, yd, dy, dx, x->numel);
    wb_grad_end(c, x, dx);
    return WB_OK;
}

/* Like torch: sigmoid differentiates from its output, the others from their input. relu too, unlike torch:
 * its input is what a norm before it keeps anyway, and its output is then recomputable from it
 * (wb_tensor.relu_of), so nodes that read the output need not keep a second activation alive. */
static bool act_reads_output(wb_act_kind kind) { return kind == WB_ACT_SIGMOID; }

static wb_tensor *activation(wb_ctx *ctx, const char *op, wb_act_kind kind, float alpha, wb_tensor *x) {
    wb_context *c = wb_ctx_impl(ctx);
    if (!wb_ctx_check_inputs_any_layout(c, op, &x, 1)) return NULL;
    bool record = wb_tape_needed(c, &x, 1);
    if (record && !wb_ctx_make_plain(c, x)) return NULL;
    wb_tensor *y = wb_ctx_tensor_uninit(c, x->ndim, x->shape);
    if (!y) return NULL;
    c->s->backend->pointwise->act_forward(kind, alpha, x->data, y->data, x->numel);
    y->blocked = x->blocked; /* element by element: any layout */
    if (record) {
        wb_tape_node *node = wb_tape_record(c, op, act_backward, &x, 1, &y, 1, sizeof(act_saved),
                                            act_reads_output(kind) ? WB_KEEP_OUT(0) : WB_KEEP_IN(0));
        if (!node) return NULL;
        *(act_saved *)node->saved = (act_saved){kind, alpha};
        if (kind == WB_ACT_RELU) y->relu_of = x->relu_of ? x->relu_of : x; /* relu(relu(v)) = relu(v) */
    }
    return y;
}

wb_tensor *wb_op_relu(wb_ctx *ctx, wb_tensor *x) { return activation(ctx, "relu", WB_ACT_RELU, 0.0f, x); }

wb_tensor *wb_op_leaky_relu(wb_ctx *ctx, wb_tensor *x, float negative_slope) {
    return activation(ctx, "leaky_relu", WB_ACT_LEAKY_RELU, negative_slope, x);
}

wb_tensor *wb_op_silu(wb_ctx *ctx, wb_tensor *x) { return activation(ctx, "silu", WB_ACT_SILU, 0.0f, x); }

wb_tensor *wb_op_sigmoid(wb_ctx *ctx, wb_tensor *x) {
    return activation(ctx, "sigmoid", WB_ACT_SIGMOID, 0.0f, x);
}

wb_tensor *wb_op_hardswish(wb_ctx *ctx, wb_tensor *x) {
    return activation(ctx, "hardswish", WB_ACT_HARDSWISH, 0.0f, x);
}

wb_tensor *wb_op_hardsigmoid(wb_ctx *ctx, wb_tensor *x) {
    return activation(ctx, "hardsigmoid", WB_ACT_HARDSIGMOID, 0.0f, x);
}

bool wb_op_check_activation(wb_ctx *ctx, const char *op, int act) {
    if (act == WB_ACTIVATION_NONE || act == WB_ACTIVATION_RELU || act == WB_ACTIVATION_SILU) return true;
    wb_ctx_fail(wb_ctx_impl(ctx), WB_ERR_INVALID,
                "%s: unknown activation %d (WB_ACTIVATION_NONE, _RELU or _SILU from workbench/host.h)", op, act);
    return false;
}

wb_tensor *wb_op_then_activation(wb_ctx *ctx, wb_tensor *y, int act) {
    if (!y || act == WB_ACTIVATION_NONE) return y;
    wb_tensor *a = act == WB_ACTIVATION_RELU ? wb_op_relu(ctx, y) : wb_op_silu(ctx, y);
    wb_host_tensor_release(ctx, y);
    return a;
}
