/* roi_pool front-end: torchvision.ops.roi_pool (max per bin). The backward
 * routes each output's gradient to the cell its maximum came from. */
#include <stdlib.h>
#include "ops.h"
#include "roi_common.h"

typedef struct roi_pool_saved {
    wb_roi_args args;
    wb_tensor *rois;
    int32_t *argmax;
} roi_pool_saved;

static wb_status roi_pool_backward(wb_context *c, wb_tape_node *node) {
    const roi_pool_saved *s = node->saved;
    wb_tensor *feat = node->in[0];
    const float *dy = wb_grad_of(c, node->out[0]);
    float *dfeat = dy ? wb_grad_begin(c, feat) : NULL;
    if (!dfeat) return c->err;
    c->s->backend->gather->roi_pool_backward(dy, s->rois->data, s->argmax, &s->args, dfeat);
    wb_grad_end(c, feat, dfeat);
    return WB_OK;
}

wb_tensor *wb_op_roi_pool(wb_ctx *ctx, wb_tensor *feat, wb_tensor *rois, int out_h, int out_w,
                          float spatial_scale) {
    static const char op[] = "roi_pool";
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[2] = {feat, rois};
    wb_roi_args a;
    if (!wb_ctx_check_inputs(c, op, in, 2) || !wb_roi_check_args(c, op, feat, rois, out_h, out_w, spatial_scale, &a))
        return NULL;
    float *rows = wb_roi_read_rows(c, op, rois, a.n);
    if (!rows) return NULL;
    free(rows);

    int64_t shape[4] = {a.k, a.c, out_h, out_w};
    wb_tensor *y = wb_ctx_tensor_uninit(c, 4, shape);
    int32_t *argmax = y ? wb_ctx_kernel_scratch(c, (size_t)y->numel * sizeof(int32_t) + 1) : NULL;
    if (!argmax) return NULL;
    c->s->backend->gather->roi_pool_forward(feat->data, rois->data, &a, y->data, argmax);
    if (wb_tape_needed(c, &feat, 1)) {
        wb_tape_node *node = wb_tape_record(c, op, roi_pool_backward, &feat, 1, &y, 1, sizeof(roi_pool_saved),
                                            WB_KEEP_NONE);
        if (!node || !wb_tape_hold(c, node, &rois, 1)) return NULL;
        *(roi_pool_saved *)node->saved = (roi_pool_saved){a, rois, argmax};
    }
    return y;
}
