#include "loss_common.h"

bool wb_loss_check_reduction(wb_context *c, const char *op, wb_reduction r) {
    if (r == WB_REDUCE_NONE || r == WB_REDUCE_SUM || r == WB_REDUCE_MEAN) return true;
    wb_ctx_fail(c, WB_ERR_INVALID, "%s: reduction %d is not one of none (0), sum (1), mean (2)", op, (int)r);
    return false;
}

bool wb_loss_check_same_shape(wb_context *c, const char *op, const char *what, const wb_tensor *t,
                              const char *ref_name, const wb_tensor *ref) {
    if (wb_shape_equal(t, ref)) return true;
    char ts[96], rs[96];
    wb_ctx_fail(c, WB_ERR_INVALID, "%s: %s has shape %s but %s has %s (they must match)", op, what,
                wb_shape_str(t, ts, sizeof ts), ref_name, wb_shape_str(ref, rs, sizeof rs));
    return false;
}

bool wb_loss_check_weight(wb_context *c, const char *op, const wb_tensor *w, int ndim,
                          const int64_t *shape) {
    if (!w) return true;
    bool same = w->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = w->shape[i] == shape[i];
    if (same) return true;
    wb_tensor expect = {.ndim = ndim};
    for (int i = 0; i < ndim; i++) expect.shape[i] = shape[i];
    char ws[96], es[96];
    wb_ctx_fail(c, WB_ERR_INVALID,
                "%s: weight has shape %s but the elementwise loss has %s (pass NULL for no weight)", op,
                wb_shape_str(w, ws, sizeof ws), wb_shape_str(&expect, es, sizeof es));
    return false;
}

wb_tensor *wb_loss_reduce(wb_context *c, wb_tensor *elem, wb_reduction r, int64_t count,
                          float *grad_scale) {
    *grad_scale = 1.0f;
    if (r == WB_REDUCE_NONE) return elem;
    wb_tensor *out = wb_ctx_tensor_uninit(c, 0, NULL);
    if (!out) return NULL;
    if (r == WB_REDUCE_MEAN) *grad_scale = count > 0 ? (float)(1.0 / (double)count) : 0.0f;
    wb_loss_kernels_of(c)->sum(elem->data, elem->numel, *grad_scale, out->data);
    return out;
}

bool wb_loss_record(wb_context *c, const char *op, wb_tape_backward_fn fn, wb_tensor *a, wb_tensor *b,
                    wb_tensor *weight, wb_tensor *out, wb_loss_saved saved) {
    wb_tensor *in[3] = {a, b, weight};
    if (!wb_tape_needed(c, in, 2)) return true;
    wb_tape_node *node = wb_tape_record(c, op, fn, in, 3, &out, 1, sizeof saved, WB_KEEP_IN(0) | WB_KEEP_IN(1) | WB_KEEP_IN(2));
    if (!node) return false;
    *(wb_loss_saved *)node->saved = saved;
    return true;
}

wb_loss_grad wb_loss_upstream_of(wb_context *c, wb_tape_node *node) {
    const wb_loss_saved *s = node->saved;
    wb_loss_grad gy = {wb_grad_of(c, node->out[0]), s->r == WB_REDUCE_NONE ? 1 : 0, s->grad_scale};
    return gy;
}
