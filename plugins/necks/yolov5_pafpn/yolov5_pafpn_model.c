/* yolov5_pafpn: parameters (MMYOLO names, see yolov5_pafpn.h) and the forward. */
#include "yolov5_pafpn.h"

wb_status yolov5_pafpn_init_params(void *inst, wb_ctx *ctx) {
    yolov5_pafpn *m = inst;
    const int c3 = m->channels[0], c4 = m->channels[1], c5 = m->channels[2], n = m->n_blocks;
    csp_conv_init(ctx, &m->reduce, "reduce_layers.2", c5, c4, 1, 1, 0, 0);
    csp_c3_init(ctx, &m->top_down_c3, "top_down_layers.0.0", 2 * c4, c4, n, 0, 0);
    csp_conv_init(ctx, &m->top_down_conv, "top_down_layers.0.1", c4, c3, 1, 1, 0, 0);
    csp_c3_init(ctx, &m->out_p3, "top_down_layers.1", 2 * c3, c3, n, 0, 0);
    csp_conv_init(ctx, &m->downsample[0], "downsample_layers.0", c3, c3, 3, 2, 1, 0);
    csp_c3_init(ctx, &m->bottom_up[0], "bottom_up_layers.0", 2 * c3, c4, n, 0, 0);
    csp_conv_init(ctx, &m->downsample[1], "downsample_layers.1", c4, c4, 3, 2, 1, 0);
    csp_c3_init(ctx, &m->bottom_up[1], "bottom_up_layers.1", 2 * c4, c5, n, 0, 0);
    return wb_ok(ctx);
}

/* C3 of cat(a, b) along channels, a first (YOLOv5's Concat order). */
static wb_tensor *c3_of_pair(const yolov5_pafpn *m, wb_ctx *ctx, const csp_c3 *c3, wb_tensor *a, wb_tensor *b) {
    wb_tensor *parts[2] = {a, b};
    wb_tensor *cat = wb_concat(ctx, parts, 2, 1);
    wb_tensor *y = csp_c3_forward(ctx, &m->mode, c3, cat);
    wb_release(ctx, cat);
    return y;
}

/* Nearest upsampling to the size of `like` (2x for inputs divisible by 32,
 * and odd sizes still line up). */
static wb_tensor *upsample_to(wb_ctx *ctx, wb_tensor *x, wb_tensor *like) {
    if (wb_ok(ctx) != WB_OK) return NULL; /* a NULL tensor has no size to read */
    wb_tensor_info i = wb_info(ctx, like);
    return wb_upsample_nearest(ctx, x, 0, (int)i.shape[2], (int)i.shape[3]);
}

wb_status yolov5_pafpn_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    yolov5_pafpn *m = inst;
    if (n_in != PAFPN_LEVELS || n_out != PAFPN_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID, "yolov5_pafpn: forward got %d inputs and %d outputs, expected 3 and 3",
                        n_in, n_out);
    /* Top-down. */
    wb_tensor *r5 = csp_conv_forward(ctx, &m->mode, &m->reduce, in[2]);
    wb_tensor *up = upsample_to(ctx, r5, in[1]);
    wb_tensor *t4 = c3_of_pair(m, ctx, &m->top_down_c3, up, in[1]);
    wb_release(ctx, up);
    wb_tensor *r4 = csp_conv_forward(ctx, &m->mode, &m->top_down_conv, t4);
    wb_release(ctx, t4);
    up = upsample_to(ctx, r4, in[0]);
    out[0] = c3_of_pair(m, ctx, &m->out_p3, up, in[0]);
    wb_release(ctx, up);
    /* Bottom-up: each output, downsampled, joins the top-down map of the next level. */
    wb_tensor *lateral[2] = {r4, r5};
    for (int i = 0; i < 2; i++) {
        wb_tensor *down = csp_conv_forward(ctx, &m->mode, &m->downsample[i], out[i]);
        out[i + 1] = c3_of_pair(m, ctx, &m->bottom_up[i], down, lateral[i]);
        wb_release(ctx, down);
        wb_release(ctx, lateral[i]);
    }
    return wb_ok(ctx);
}
