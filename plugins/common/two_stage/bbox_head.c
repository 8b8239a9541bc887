/* Shared fully connected box head (see bbox_head.h). */
#include <stdio.h>
#include "bbox_head.h"

static wb_tensor *linear_param(wb_ctx *ctx, const char *prefix, const char *name, int cout, int cin, wb_init init,
                               wb_tensor **bias) {
    char full[WB_NAME_MAX];
    int64_t ws[2] = {cout, cin}, bs[1] = {cout};
    snprintf(full, sizeof full, "%s.%s.bias", prefix, name);
    *bias = wb_param(ctx, full, 1, bs, wb_init_constant(0.0f), 1);
    snprintf(full, sizeof full, "%s.%s.weight", prefix, name);
    return wb_param(ctx, full, 2, ws, init, 1);
}

wb_status ts_bbox_head_params(wb_ctx *ctx, ts_bbox_head *b, const char *prefix) {
    wb_init xavier = {WB_INIT_XAVIER_UNIFORM, 0, 0, 0, 1.0f, 0, 0};
    int cin = b->in_features;
    for (int i = 0; i < b->num_fcs; i++) {
        char name[32];
        snprintf(name, sizeof name, "shared_fcs.%d", i);
        b->fc_w[i] = linear_param(ctx, prefix, name, b->fc_channels, cin, xavier, &b->fc_b[i]);
        cin = b->fc_channels;
    }
    b->cls_w = linear_param(ctx, prefix, "fc_cls", b->num_classes + 1, cin, wb_init_normal(0.0f, 0.01f), &b->cls_b);
    b->reg_w = linear_param(ctx, prefix, "fc_reg", ts_bbox_reg_width(b), cin, wb_init_normal(0.0f, 0.001f), &b->reg_b);
    return wb_ok(ctx);
}

wb_status ts_bbox_head_forward(wb_ctx *ctx, const ts_bbox_head *b, wb_tensor *pooled, wb_tensor **cls, wb_tensor **reg) {
    int64_t flat[2] = {wb_info(ctx, pooled).shape[0], b->in_features};
    wb_tensor *x = wb_reshape(ctx, pooled, 2, flat);
    for (int i = 0; i < b->num_fcs; i++) {
        wb_tensor *y = wb_linear(ctx, x, b->fc_w[i], b->fc_b[i]);
        wb_release(ctx, x);
        x = wb_relu(ctx, y);
        wb_release(ctx, y);
    }
    *cls = wb_linear(ctx, x, b->cls_w, b->cls_b);
    *reg = wb_linear(ctx, x, b->reg_w, b->reg_b);
    wb_release(ctx, x);
    return wb_ok(ctx);
}
