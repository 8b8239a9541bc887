/* cspdarknet: parameters (MMYOLO names, see cspdarknet.h) and the forward. */
#include <stdio.h>
#include "cspdarknet.h"

wb_status cspdarknet_init_params(void *inst, wb_ctx *ctx) {
    cspdarknet *m = inst;
    csp_conv_init(ctx, &m->stem, "stem", m->in_channels, cspdarknet_channels(m, 0), 6, 2, 2, m->frozen_stages >= 0);
    char prefix[32];
    for (int s = 0; s < CSPDARKNET_STAGES; s++) {
        int cin = cspdarknet_channels(m, s), cout = cspdarknet_channels(m, s + 1);
        int frozen = m->frozen_stages >= s + 1;
        snprintf(prefix, sizeof prefix, "stage%d.0", s + 1);
        csp_conv_init(ctx, &m->downsample[s], prefix, cin, cout, 3, 2, 1, frozen);
        snprintf(prefix, sizeof prefix, "stage%d.1", s + 1);
        csp_c3_init(ctx, &m->c3[s], prefix, cout, cout, cspdarknet_blocks(m, s), 1, frozen);
    }
    int c5 = cspdarknet_channels(m, CSPDARKNET_STAGES);
    csp_sppf_init(ctx, &m->sppf, "stage4.2", c5, c5, 5, m->frozen_stages >= CSPDARKNET_STAGES);
    return wb_ok(ctx);
}

/* Stage s (0-based) of x: the 3x3/2 conv, C3, and SPPF after the last. */
static wb_tensor *stage_forward(const cspdarknet *m, wb_ctx *ctx, int s, wb_tensor *x) {
    wb_tensor *down = csp_conv_forward(ctx, &m->mode, &m->downsample[s], x);
    wb_tensor *y = csp_c3_forward(ctx, &m->mode, &m->c3[s], down);
    wb_release(ctx, down);
    if (s < CSPDARKNET_STAGES - 1) return y;
    wb_tensor *pooled = csp_sppf_forward(ctx, &m->mode, &m->sppf, y);
    wb_release(ctx, y);
    return pooled;
}

wb_status cspdarknet_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    cspdarknet *m = inst;
    if (n_in != 1 || n_out != m->n_out)
        return wb_error(ctx, WB_ERR_INVALID, "cspdarknet: forward got %d inputs and %d outputs, expected 1 and %d",
                        n_in, n_out, m->n_out);
    wb_tensor *x = csp_conv_forward(ctx, &m->mode, &m->stem, in[0]);
    int k = 0;
    if (m->out_indices[0] == 0) out[k++] = x;
    /* Stages after the last requested output are not computed. */
    for (int s = 0; s < m->out_indices[m->n_out - 1]; s++) {
        wb_tensor *next = stage_forward(m, ctx, s, x);
        if (k == 0 || x != out[k - 1]) wb_release(ctx, x); /* outputs stay */
        x = next;
        if (m->out_indices[k] == s + 1) out[k++] = x;
    }
    return wb_ok(ctx);
}
