/* Regression loss front-ends: smooth L1, L1 and the IoU family. Gradients
 * flow to both pred and target (as in torch); weights get none. */
#include "loss_common.h"
#include "ops.h"

/* Begins the gradient of t when it wants one; *g stays NULL otherwise. */
static bool grad_begin_if(wb_context *c, wb_tensor *t, float **g) {
    *g = NULL;
    if (!t->requires_grad) return true;
    *g = wb_grad_begin(c, t);
    return *g != NULL;
}

static void grad_end_if(wb_context *c, wb_tensor *t, float *g) {
    if (g) wb_grad_end(c, t, g);
}

static wb_status smooth_l1_backward(wb_context *c, wb_tape_node *node) {
    const wb_loss_saved *s = node->saved;
    wb_tensor *p = node->in[0], *t = node->in[1], *w = node->in[2];
    wb_loss_grad gy = wb_loss_upstream_of(c, node);
    float *gp, *gt;
    if (!gy.g || !grad_begin_if(c, p, &gp) || !grad_begin_if(c, t, &gt)) return c->err;
    wb_loss_kernels_of(c)->smooth_l1_backward(p->data, t->data, w ? w->data : NULL, p->numel, s->p0, gy,
                                              gp, gt);
    grad_end_if(c, p, gp);
    grad_end_if(c, t, gt);
    return WB_OK;
}

static wb_status iou_backward(wb_context *c, wb_tape_node *node) {
    const wb_loss_saved *s = node->saved;
    wb_tensor *p = node->in[0], *t = node->in[1], *w = node->in[2];
    wb_loss_grad gy = wb_loss_upstream_of(c, node);
    float *gp, *gt;
    if (!gy.g || !grad_begin_if(c, p, &gp) || !grad_begin_if(c, t, &gt)) return c->err;
    wb_loss_kernels_of(c)->iou_backward(p->data, t->data, w ? w->data : NULL, p->shape[0], s->mode, s->p0,
                                        gy, gp, gt);
    grad_end_if(c, p, gp);
    grad_end_if(c, t, gt);
    return WB_OK;
}

/* torch.nn.functional.smooth_l1_loss: 0.5 d^2 / beta for |d| < beta, else
 * |d| - 0.5 beta; beta == 0 is the L1 loss. */
static wb_tensor *smooth_l1(wb_context *c, const char *op, wb_tensor *pred, wb_tensor *target,
                            wb_tensor *weight, float beta, wb_reduction r) {
    wb_tensor *in[2] = {pred, target};
    if (!wb_ctx_check_inputs(c, op, in, 2) || !wb_loss_check_reduction(c, op, r) ||
        !wb_loss_check_same_shape(c, op, "target", target, "pred", pred) ||
        !wb_loss_check_weight(c, op, weight, pred->ndim, pred->shape))
        return NULL;
    if (!(beta >= 0.0f)) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: beta is %g but must be >= 0 (0 is the L1 loss)", op, (double)beta);
        return NULL;
    }
    wb_tensor *elem = wb_ctx_tensor_uninit(c, pred->ndim, pred->shape);
    if (!elem) return NULL;
    wb_loss_kernels_of(c)->smooth_l1(pred->data, target->data, weight ? weight->data : NULL, pred->numel,
                                     beta, elem->data);
    wb_loss_saved s = {.r = r, .p0 = beta};
    wb_tensor *out = wb_loss_reduce(c, elem, r, pred->numel, &s.grad_scale);
    if (!out || !wb_loss_record(c, op, smooth_l1_backward, pred, target, weight, out, s)) return NULL;
    return out;
}

wb_tensor *wb_op_smooth_l1_loss(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target, wb_tensor *weight,
                                float beta, wb_reduction r) {
    return smooth_l1(wb_ctx_impl(ctx), "smooth_l1_loss", pred, target, weight, beta, r);
}

wb_tensor *wb_op_l1_loss(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target, wb_tensor *weight,
                         wb_reduction r) {
    return smooth_l1(wb_ctx_impl(ctx), "l1_loss", pred, target, weight, 0.0f, r);
}

/* torchvision's IoU family on [N, 4] x1y1x2y2 boxes; see wb_iou_loss_row
 * for the definitions. CIoU's alpha is a constant in the gradient (as in
 * torchvision and mmdetection). */
wb_tensor *wb_op_iou_loss(wb_ctx *ctx, wb_tensor *pred, wb_tensor *target, wb_tensor *weight,
                          wb_iou_mode mode, float eps, wb_reduction r) {
    static const char op[] = "iou_loss";
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[2] = {pred, target};
    if (!wb_ctx_check_inputs(c, op, in, 2) || !wb_loss_check_reduction(c, op, r)) return NULL;
    char ps[96];
    if (pred->ndim != 2 || pred->shape[1] != 4) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: pred %s must be [N, 4] boxes x1, y1, x2, y2", op,
                    wb_shape_str(pred, ps, sizeof ps));
        return NULL;
    }
    if (!wb_loss_check_same_shape(c, op, "target", target, "pred", pred)) return NULL;
    if (mode < WB_IOU || mode > WB_CIOU) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: mode %d is not one of IoU (0), GIoU (1), DIoU (2), CIoU (3)", op,
                    (int)mode);
        return NULL;
    }
    if (!(eps >= 0.0f)) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: eps is %g but must be >= 0 (torchvision uses 1e-7)", op,
                    (double)eps);
        return NULL;
    }
    int64_t n = pred->shape[0];
    if (!wb_loss_check_weight(c, op, weight, 1, &n)) return NULL;
    wb_tensor *elem = wb_ctx_tensor_uninit(c, 1, &n);
    if (!elem) return NULL;
    wb_loss_kernels_of(c)->iou(pred->data, target->data, weight ? weight->data : NULL, n, mode, eps,
                               elem->data);
    wb_loss_saved s = {.r = r, .p0 = eps, .mode = mode};
    wb_tensor *out = wb_loss_reduce(c, elem, r, n, &s.grad_scale);
    if (!out || !wb_loss_record(c, op, iou_backward, pred, target, weight, out, s)) return NULL;
    return out;
}
