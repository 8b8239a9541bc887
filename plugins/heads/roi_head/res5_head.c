/* The res5 box head's blocks and pooling (see res5_head.h). */
#include <stdio.h>
#include "res5_head.h"

wb_status res5_params(wb_ctx *ctx, res5_head *r) {
    int cin = r->in_channels;
    for (int b = 0; b < r->n_blocks; b++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "res5.%d.", b);
        cin = rb_block_params(ctx, prefix, &r->norm, &r->block[b], 1, cin, r->width, b == 0 ? 2 : 1, 0, 0);
    }
    return wb_ok(ctx);
}

wb_tensor *res5_forward(wb_ctx *ctx, const res5_head *r, wb_tensor *pooled) {
    wb_tensor *x = pooled;
    for (int b = 0; b < r->n_blocks; b++) {
        wb_tensor *y = rb_block(ctx, &r->norm, &r->block[b], 1, x);
        if (x != pooled) wb_release(ctx, x);
        x = y;
    }
    wb_tensor *avg = wb_global_avg_pool(ctx, x);
    if (x != pooled) wb_release(ctx, x);
    return avg;
}
