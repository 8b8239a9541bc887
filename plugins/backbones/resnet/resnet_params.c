/* resnet: the parameters and buffers, under torchvision's names
 * ("conv1.weight", "bn1.running_var", "layer2.0.downsample.1.weight", ...;
 * the blocks' naming is plugins/common/res_blocks). */
#include <stdio.h>
#include "resnet.h"

wb_status resnet_init_params(void *inst, wb_ctx *ctx) {
    resnet *m = inst;
    rb_conv_bn_params(ctx, "", &m->norm, &m->stem, "conv1", "bn1", m->in_channels, 64, 7, 2, m->frozen_stages >= 0,
                      1.0f);
    /* Stages after the last output are never run, so they have no parameters (torchvision's
     * IntermediateLayerGetter drops them too): a C4 backbone's checkpoint holds no layer4. */
    int cin = 64, last_stage = m->out_indices[m->n_out - 1];
    for (int s = 0; s <= last_stage; s++) {
        int frozen = m->frozen_stages >= s + 1;
        for (int b = 0; b < m->n_blocks[s]; b++) {
            char prefix[32];
            snprintf(prefix, sizeof prefix, "layer%d.%d.", s + 1, b);
            int stride = b == 0 && s > 0 ? 2 : 1;
            cin = rb_block_params(ctx, prefix, &m->norm, &m->layer[s][b], m->bottleneck, cin, 64 << s, stride, frozen,
                                  m->zero_init_residual);
        }
    }
    return wb_ok(ctx);
}
