/* The box utilities on tensors (ABI 1.4): the same math as the host-array
 * utilities (boxes_math.h) run by the session backend's box kernels, so on
 * a device backend a head's candidates are decoded, suppressed and picked
 * (index_select of the kept rows) without leaving the device. No gradient:
 * outputs are plain tensors whatever the inputs require. */
#include "ops.h"
#include "../backends/boxes_math.h"
#include "../backends/kernels_boxes.h"
#include "../runtime/context.h"
#include "../runtime/host_tensors.h"

/* Indices travel as floats (what index_select takes), exact below 2^24. */
#define MAX_NMS_BOXES ((int64_t)1 << 24)

/* A CUDA module built before the box family opens without it. */
static bool has_box_kernels(wb_context *c, const char *op) {
    if (c->s->backend->boxes) return true;
    wb_ctx_fail(c, WB_ERR_UNSUPPORTED, "%s: the %s backend has no box kernels (a CUDA module older than this "
                "workbench): rebuild the module with it, or use the host-array box utilities", op,
                c->s->backend->name);
    return false;
}

static bool is_boxes(wb_context *c, const char *op, const char *what, const wb_tensor *t) {
    if (t->ndim == 2 && t->shape[1] == 4) return true;
    char ts[96];
    wb_ctx_fail(c, WB_ERR_INVALID, "%s: %s %s must be [N, 4] boxes (x1, y1, x2, y2)", op, what,
                wb_shape_str(t, ts, sizeof ts));
    return false;
}

static bool same_rows(wb_context *c, const char *op, const wb_tensor *a, const char *what, const wb_tensor *b) {
    if (b->shape[0] == a->shape[0]) return true;
    char as[96], bs[96];
    wb_ctx_fail(c, WB_ERR_INVALID, "%s: %s %s must have one row per box of %s", op, what,
                wb_shape_str(b, bs, sizeof bs), wb_shape_str(a, as, sizeof as));
    return false;
}

static wb_box_coder coder_of(const float means[4], const float stds[4], float max_ratio, int clip_h, int clip_w) {
    wb_box_coder k = {.bound = wb_box_decode_bound(max_ratio), .clip_h = clip_h, .clip_w = clip_w};
    for (int i = 0; i < 4; i++) k.means[i] = means[i], k.stds[i] = stds[i];
    return k;
}

wb_tensor *wb_op_box_iou_tensor(wb_ctx *ctx, wb_tensor *a, wb_tensor *b) {
    static const char op[] = "box_iou_tensor";
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[2] = {a, b};
    if (!wb_ctx_check_inputs(c, op, in, 2) || !has_box_kernels(c, op) || !is_boxes(c, op, "a", a) ||
        !is_boxes(c, op, "b", b))
        return NULL;
    int64_t shape[2] = {a->shape[0], b->shape[0]};
    wb_tensor *y = wb_ctx_tensor_uninit(c, 2, shape);
    if (y) c->s->backend->boxes->iou(a->data, a->shape[0], b->data, b->shape[0], y->data);
    return y;
}

wb_tensor *wb_op_box_encode_tensor(wb_ctx *ctx, wb_tensor *anchors, wb_tensor *gt, const float means[4],
                                   const float stds[4]) {
    static const char op[] = "box_encode_tensor";
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[2] = {anchors, gt};
    if (!wb_ctx_check_inputs(c, op, in, 2) || !has_box_kernels(c, op) || !is_boxes(c, op, "anchors", anchors) ||
        !is_boxes(c, op, "gt", gt) || !same_rows(c, op, anchors, "gt", gt))
        return NULL;
    wb_box_coder k = coder_of(means, stds, 0.0f, 0, 0);
    wb_tensor *y = wb_ctx_tensor_uninit(c, 2, anchors->shape);
    if (y) c->s->backend->boxes->encode(anchors->data, gt->data, anchors->shape[0], &k, y->data);
    return y;
}

wb_tensor *wb_op_box_decode_tensor(wb_ctx *ctx, wb_tensor *anchors, wb_tensor *deltas, const float means[4],
                                   const float stds[4], float max_ratio, int clip_h, int clip_w) {
    static const char op[] = "box_decode_tensor";
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[2] = {anchors, deltas};
    if (!wb_ctx_check_inputs(c, op, in, 2) || !has_box_kernels(c, op) || !is_boxes(c, op, "anchors", anchors) ||
        !is_boxes(c, op, "deltas", deltas) || !same_rows(c, op, anchors, "deltas", deltas))
        return NULL;
    wb_box_coder k = coder_of(means, stds, max_ratio, clip_h, clip_w);
    wb_tensor *y = wb_ctx_tensor_uninit(c, 2, anchors->shape);
    if (y) c->s->backend->boxes->decode(anchors->data, deltas->data, anchors->shape[0], &k, y->data);
    return y;
}

wb_tensor *wb_op_grid_anchors_tensor(wb_ctx *ctx, const float *base, int n_base, int feat_h, int feat_w,
                                     int stride) {
    static const char op[] = "grid_anchors_tensor";
    wb_context *c = wb_ctx_impl(ctx);
    if (c->err != WB_OK || !has_box_kernels(c, op)) return NULL;
    if (!base || n_base < 1 || feat_h < 0 || feat_w < 0) {
        wb_ctx_fail(c, WB_ERR_INVALID,
                    "%s: needs base anchors (%d given, base %s) and a feature size >= 0 (%dx%d given)", op, n_base,
                    base ? "set" : "NULL", feat_h, feat_w);
        return NULL;
    }
    size_t base_bytes = 4 * (size_t)n_base * sizeof *base;
    float *dev_base = wb_ctx_kernel_scratch(c, base_bytes);
    int64_t shape[2] = {(int64_t)feat_h * feat_w * n_base, 4};
    wb_tensor *y = dev_base ? wb_ctx_tensor_uninit(c, 2, shape) : NULL;
    if (!y) return NULL;
    c->s->backend->upload(dev_base, base, base_bytes);
    c->s->backend->boxes->grid_anchors(dev_base, n_base, feat_h, feat_w, stride, y->data);
    return y;
}

wb_tensor *wb_op_nms_tensor(wb_ctx *ctx, wb_tensor *boxes, wb_tensor *scores, wb_tensor *labels,
                            float iou_threshold) {
    static const char op[] = "nms_tensor";
    wb_context *c = wb_ctx_impl(ctx);
    wb_tensor *in[3] = {boxes, scores, labels};
    if (!wb_ctx_check_inputs(c, op, in, labels ? 3 : 2) || !has_box_kernels(c, op) ||
        !is_boxes(c, op, "boxes", boxes))
        return NULL;
    char ss[96];
    for (int i = 1; i < (labels ? 3 : 2); i++) {
        if (in[i]->ndim == 1 && in[i]->shape[0] == boxes->shape[0]) continue;
        wb_ctx_fail(c, WB_ERR_INVALID, "%s: %s %s must be 1-D with one value per box (%lld boxes)", op,
                    i == 1 ? "scores" : "labels", wb_shape_str(in[i], ss, sizeof ss), (long long)boxes->shape[0]);
        return NULL;
    }
    int64_t n = boxes->shape[0];
    if (n >= MAX_NMS_BOXES) {
        wb_ctx_fail(c, WB_ERR_UNSUPPORTED, "%s: %lld boxes; at most 2^24 - 1 (indices are exact floats below 2^24): "
                    "keep the best candidates first", op, (long long)n);
        return NULL;
    }
    wb_tensor *all = wb_ctx_tensor_uninit(c, 1, &n);
    if (!all) return NULL;
    int64_t kept = c->s->backend->boxes->nms(boxes->data, scores->data, labels ? labels->data : NULL, n,
                                             iou_threshold, all->data);
    wb_tensor *keep = wb_ctx_tensor_uninit(c, 1, &kept);
    if (keep) c->s->backend->copy(keep->data, all->data, (size_t)kept * sizeof(float));
    wb_host_tensor_release(ctx, all);
    return keep;
}
