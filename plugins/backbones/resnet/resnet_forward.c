/* resnet: forward with SDK ops only (the blocks: plugins/common/res_blocks);
 * backward is the replayed tape. */
#include "resnet.h"

wb_status resnet_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    resnet *m = inst;
    if (n_in != 1 || n_out != m->n_out)
        return wb_error(ctx, WB_ERR_INVALID, "resnet: forward got %d inputs and %d outputs, expected 1 and %d",
                        n_in, n_out, m->n_out);
    wb_tensor *stem = rb_conv_bn(ctx, &m->norm, &m->stem, in[0], 1);
    wb_pool2d_params pool = wb_pool_p(3, 2, 1);
    wb_tensor *x = wb_max_pool2d(ctx, stem, &pool);
    wb_release(ctx, stem);
    /* Stages after the last requested output are not computed. */
    int last_stage = m->out_indices[m->n_out - 1];
    for (int s = 0, k = 0; s <= last_stage; s++) {
        for (int b = 0; b < m->n_blocks[s]; b++) {
            wb_tensor *next = rb_block(ctx, &m->norm, &m->layer[s][b], m->bottleneck, x);
            if (k == 0 || x != out[k - 1]) wb_release(ctx, x); /* outputs stay */
            x = next;
        }
        if (s == m->out_indices[k]) out[k++] = x;
    }
    return wb_ok(ctx);
}
