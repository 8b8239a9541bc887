/* The delta decode of training with reg_decoded_bbox, as a custom op: the
 * host's box_decode forward and its analytic backward. With the anchor
 * p (center px, py, size pw, ph) and d = delta * std + mean:
 *   x1, x2 = px + pw d0 -/+ pw exp(c(d2)) / 2   (y likewise with d1, d3, ph)
 * where c clamps to +-log(1000/16), so
 *   dL/d delta0 = std0 pw (g_x1 + g_x2),
 *   dL/d delta2 = std2 pw exp(c(d2)) (g_x2 - g_x1) / 2, 0 where clamped
 * (torch's clamp passes the gradient on the closed interval). */
#include <math.h>
#include "retina_head.h"

static wb_status decode_backward(wb_ctx *ctx, void *state, wb_tensor *const *in, int n_in,
                                 wb_tensor *const *grad_out, int n_out, wb_tensor **grad_in) {
    (void)n_in, (void)n_out;
    const retina_head *h = state;
    wb_tensor_info info = wb_info(ctx, in[0]);
    grad_in[0] = wb_tensor_new(ctx, 2, info.shape);
    const float *delta = wb_map(ctx, in[0]), *anchor = wb_map(ctx, in[1]), *g = wb_map(ctx, grad_out[0]);
    float *gd = wb_map(ctx, grad_in[0]);
    if (!delta || !anchor || !g || !gd) return wb_ok(ctx);
    const float bound = fabsf(logf(16.0f / 1000.0f));
    for (int64_t r = 0; r < info.shape[0]; r++) {
        const float *a = anchor + 4 * r, *d = delta + 4 * r, *gb = g + 4 * r;
        float *out = gd + 4 * r;
        for (int axis = 0; axis < 2; axis++) { /* x: x1, x2 and deltas 0, 2; y: y1, y2 and deltas 1, 3 */
            float size = a[axis + 2] - a[axis];
            float g_lo = gb[axis], g_hi = gb[axis + 2];
            float log_scale = d[axis + 2] * h->stds[axis + 2] + h->means[axis + 2];
            out[axis] = h->stds[axis] * size * (g_lo + g_hi);
            out[axis + 2] = fabsf(log_scale) <= bound
                                ? h->stds[axis + 2] * 0.5f * size * expf(log_scale) * (g_hi - g_lo)
                                : 0.0f;
        }
    }
    wb_unmap(ctx, grad_in[0]);
    return wb_ok(ctx);
}

wb_tensor *retina_decode_boxes(retina_head *h, wb_ctx *ctx, wb_tensor *deltas, wb_tensor *anchors) {
    wb_tensor_info info = wb_info(ctx, deltas);
    wb_tensor *boxes = wb_tensor_new(ctx, 2, info.shape);
    const float *d = wb_map(ctx, deltas), *a = wb_map(ctx, anchors);
    float *b = wb_map(ctx, boxes);
    if (!d || !a || !b) return NULL;
    WB_H(ctx)->box_decode(a, d, (int)info.shape[0], h->means, h->stds, 0.0f, 0, 0, b);
    wb_unmap(ctx, boxes);
    wb_tensor *in[2] = {deltas, anchors};
    if (WB_H(ctx)->record_custom(ctx, "retina_head.decode_boxes", in, 2, &boxes, 1, decode_backward, h) != WB_OK)
        return NULL;
    return boxes;
}
