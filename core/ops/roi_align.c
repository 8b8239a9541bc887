/* roi_align front-end: torchvision.ops.roi_align. The gradient goes to the
 * features only; the tape holds rois so the backward can retrace the
 * samples. */
#include <stdlib.h>
#include "ops.h"
#include "roi_common.h"
#include "../backends/kernels_layout.h"

typedef struct roi_align_saved {
    wb_roi_args args;
    wb_tensor *rois;
} roi_align_saved;

static wb_status roi_align_backward(wb_context *c, wb_tape_node *node) {
    const roi_align_saved *s = node->saved;
    wb_tensor *feat = node->in[0];
    const float *dy = wb_grad_of(c, node->out[0]);
    float *dfeat = dy ? wb_grad_begin(c, feat) : NULL;
    if (!dfeat) return c->err;
    c->s->backend->gather->roi_align_backward(dy, s->rois->data, &s->args, dfeat);
    wb_grad_end(c, feat, dfeat);
    return WB_OK;
}

wb_tensor *wb_op_roi_align(wb_ctx *ctx, wb_tensor *feat, wb_tensor *rois, int out_h, int out_w,
                           float spatial_scale, int sampling_ratio, int aligned) {
    static const char op[] = "roi_align";
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[2] = {feat, rois};
    wb_roi_args a;
    if (!wb_ctx_check_inputs_any_layout(c, op, in, 2) || !wb_ctx_make_plain(c, rois) ||
        !wb_roi_check_args(c, op, feat, rois, out_h, out_w, spatial_scale, &a))
        return NULL;
    /* Blocked features (an FPN output at inference) are read as they are. */
    bool blocked = feat->blocked && !wb_tape_needed(c, &feat, 1);
    if (!blocked && !wb_ctx_make_plain(c, feat)) return NULL;
    if (sampling_ratio < 0) {
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: sampling_ratio %d must be >= 0 (0 = adaptive, as torchvision)", op,
                    sampling_ratio);
        return NULL;
    }
    a.sampling_ratio = sampling_ratio;
    a.aligned = aligned != 0;
    float *rows = wb_roi_read_rows(c, op, rois, a.n);
    if (!rows) return NULL;
    free(rows);

    int64_t shape[4] = {a.k, a.c, out_h, out_w};
    wb_tensor *y = wb_ctx_tensor_uninit(c, 4, shape);
    if (!y) return NULL;
    if (blocked)
        c->s->backend->layout->roi_align_forward(feat->data, rois->data, &a, NULL, y->data);
    else
        c->s->backend->gather->roi_align_forward(feat->data, rois->data, &a, y->data);
    if (wb_tape_needed(c, &feat, 1)) {
        wb_tape_node *node = wb_tape_record(c, op, roi_align_backward, &feat, 1, &y, 1, sizeof(roi_align_saved),
                                            WB_KEEP_NONE);
        if (!node || !wb_tape_hold(c, node, &rois, 1)) return NULL;
        *(roi_align_saved *)node->saved = (roi_align_saved){a, rois};
    }
    return y;
}
