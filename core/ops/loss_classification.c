/* Classification loss front-ends: sigmoid focal loss, BCE with logits and
 * softmax cross entropy. Gradients flow to the logits only: targets, labels
 * and weights are data here (a target that requires a gradient gets none). */
#include "loss_common.h"
#include "ops.h"

static wb_status focal_backward(wb_context *c, wb_tape_node *node) {
    const wb_loss_saved *s = node->saved;
    wb_tensor *x = node->in[0], *t = node->in[1], *w = node->in[2];
    if (!x->requires_grad) return WB_OK;
    wb_loss_grad gy = wb_loss_upstream_of(c, node);
    float *gx = gy.g ? wb_grad_begin(c, x) : NULL;
    if (!gx) return c->err;
    wb_loss_kernels_of(c)->sigmoid_focal_backward(x->data, t->data, w ? w->data : NULL, x->numel, s->p0,
                                                  s->p1, gy, gx);
    wb_grad_end(c, x, gx);
    return WB_OK;
}

static wb_status bce_backward(wb_context *c, wb_tape_node *node) {
    wb_tensor *x = node->in[0], *t = node->in[1], *w = node->in[2];
    if (!x->requires_grad) return WB_OK;
    wb_loss_grad gy = wb_loss_upstream_of(c, node);
    float *gx = gy.g ? wb_grad_begin(c, x) : NULL;
    if (!gx) return c->err;
    wb_loss_kernels_of(c)->bce_with_logits_backward(x->data, t->data, w ? w->data : NULL, x->numel, gy, gx);
    wb_grad_end(c, x, gx);
    return WB_OK;
}

static wb_status softmax_ce_backward(wb_context *c, wb_tape_node *node) {
    wb_tensor *x = node->in[0], *labels = node->in[1], *w = node->in[2];
    if (!x->requires_grad) return WB_OK;
    wb_loss_grad gy = wb_loss_upstream_of(c, node);
    float *gx = gy.g ? wb_grad_begin(c, x) : NULL;
    if (!gx) return c->err;
    wb_loss_kernels_of(c)->softmax_ce_backward(x->data, labels->data, w ? w->data : NULL, x->shape[0],
                                               x->shape[1], gy, gx);
    wb_grad_end(c, x, gx);
    return WB_OK;
}

/* Checks shared by the two elementwise logit losses. */
static bool check_logits_target(wb_context *c, const char *op, wb_tensor *x, wb_tensor *t, wb_tensor *w,
                                wb_reduction r) {
    wb_tensor *in[2] = {x, t};
    return wb_ctx_check_inputs(c, op, in, 2) && wb_loss_check_reduction(c, op, r) &&
           wb_loss_check_same_shape(c, op, "target", t, "logits", x) &&
           wb_loss_check_weight(c, op, w, x->ndim, x->shape);
}

wb_tensor *wb_op_sigmoid_focal_loss(wb_ctx *ctx, wb_tensor *logits, wb_tensor *target,
                                    wb_tensor *weight, float gamma, float alpha, wb_reduction r) {
    static const char op[] = "sigmoid_focal_loss";
    wb_context *c = wb_ctx_impl(ctx);
    if (!check_logits_target(c, op, logits, target, weight, r)) return NULL;
    if (!(gamma >= 0.0f)) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: gamma is %g but must be >= 0", op, (double)gamma);
        return NULL;
    }
    wb_tensor *elem = wb_ctx_tensor_uninit(c, logits->ndim, logits->shape);
    if (!elem) return NULL;
    wb_loss_kernels_of(c)->sigmoid_focal(logits->data, target->data, weight ? weight->data : NULL,
                                         logits->numel, gamma, alpha, elem->data);
    wb_loss_saved s = {.r = r, .p0 = gamma, .p1 = alpha};
    wb_tensor *out = wb_loss_reduce(c, elem, r, logits->numel, &s.grad_scale);
    if (!out || !wb_loss_record(c, op, focal_backward, logits, target, weight, out, s)) return NULL;
    return out;
}

wb_tensor *wb_op_bce_with_logits(wb_ctx *ctx, wb_tensor *logits, wb_tensor *target, wb_tensor *weight,
                                 wb_reduction r) {
    static const char op[] = "bce_with_logits";
    wb_context *c = wb_ctx_impl(ctx);
    if (!check_logits_target(c, op, logits, target, weight, r)) return NULL;
    wb_tensor *elem = wb_ctx_tensor_uninit(c, logits->ndim, logits->shape);
    if (!elem) return NULL;
    wb_loss_kernels_of(c)->bce_with_logits(logits->data, target->data, weight ? weight->data : NULL,
                                           logits->numel, elem->data);
    wb_loss_saved s = {.r = r};
    wb_tensor *out = wb_loss_reduce(c, elem, r, logits->numel, &s.grad_scale);
    if (!out || !wb_loss_record(c, op, bce_backward, logits, target, weight, out, s)) return NULL;
    return out;
}

/* Labels are class indices stored as floats; -1 rows add nothing and are
 * left out of the mean's denominator (torch's ignore_index). */
wb_tensor *wb_op_softmax_cross_entropy(wb_ctx *ctx, wb_tensor *logits, wb_tensor *labels,
                                       wb_tensor *weight, wb_reduction r) {
    static const char op[] = "softmax_cross_entropy";
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[2] = {logits, labels};
    if (!wb_ctx_check_inputs(c, op, in, 2) || !wb_loss_check_reduction(c, op, r)) return NULL;
    char xs[96], ls[96];
    if (logits->ndim != 2 || logits->shape[1] < 1) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: logits %s must be [N, C] with C >= 1", op,
                    wb_shape_str(logits, xs, sizeof xs));
        return NULL;
    }
    int64_t n = logits->shape[0], classes = logits->shape[1];
    if (labels->ndim != 1 || labels->shape[0] != n) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: labels %s must be [%lld], one class index per row of logits %s",
                    op, wb_shape_str(labels, ls, sizeof ls), (long long)n,
                    wb_shape_str(logits, xs, sizeof xs));
        return NULL;
    }
    if (!wb_loss_check_weight(c, op, weight, 1, &n)) return NULL;
    wb_tensor *elem = wb_ctx_tensor_uninit(c, 1, &n);
    if (!elem) return NULL;
    int64_t bad_row = -1;
    int64_t counted = wb_loss_kernels_of(c)->softmax_ce(logits->data, labels->data,
                                                        weight ? weight->data : NULL, n, classes,
                                                        elem->data, &bad_row);
    if (bad_row >= 0) {
        float bad = 0.0f;
        c->s->backend->download(&bad, labels->data + bad_row, sizeof bad);
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "%s: label %g of row %lld is not a class index in [0, %lld) nor -1 (ignored)", op,
                    (double)bad, (long long)bad_row, (long long)classes);
        return NULL;
    }
    wb_loss_saved s = {.r = r};
    wb_tensor *out = wb_loss_reduce(c, elem, r, counted, &s.grad_scale);
    if (!out || !wb_loss_record(c, op, softmax_ce_backward, logits, labels, weight, out, s)) return NULL;
    return out;
}
