/* The shared pyramid geometry and top-down pass (see pyramid.h). */
#include "pyramid.h"

#include <stdio.h>

static int log2_exact(int v) {
    int l = 0;
    while (v > 1 && v % 2 == 0) {
        v /= 2;
        l++;
    }
    return v == 1 ? l : -1;
}

/* in_channels come from the backbone's specs (mmdetection's in_channels). */
static wb_status read_inputs(wb_ctx *ctx, fp_pyramid *g, const wb_feature_spec *in, int n_in, const char *owner) {
    if (n_in < 1 || n_in > FP_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID, "%s: takes 1..%d input feature maps, got %d", owner, FP_MAX_LEVELS,
                        n_in);
    g->n_in = n_in;
    for (int i = 0; i < n_in; i++) {
        g->in_channels[i] = in[i].channels;
        g->in_levels[i] = log2_exact(in[i].stride);
        if (g->in_levels[i] < 0 || (i > 0 && g->in_levels[i] != g->in_levels[i - 1] + 1))
            return wb_error(ctx, WB_ERR_INVALID,
                            "%s: input '%s' has stride %d; inputs must have power-of-two strides doubling "
                            "from one to the next (as the backbone's c2..c5)", owner, in[i].name, in[i].stride);
    }
    return WB_OK;
}

wb_status fp_pyramid_read(wb_ctx *ctx, fp_pyramid *g, const wb_params *p, const wb_feature_spec *in, int n_in,
                          const char *owner) {
    wb_status st = read_inputs(ctx, g, in, n_in, owner);
    if (st != WB_OK) return st;
    const wb_host_api *h = WB_H(ctx);
    g->out_channels = (int)h->param_int(p, "out_channels");
    g->start_level = (int)h->param_int(p, "start_level");
    g->num_outs = (int)h->param_int(p, "num_outs");
    if (g->start_level >= g->n_in)
        return wb_error(ctx, WB_ERR_INVALID, "%s: start_level %d leaves no input (the backbone gives %d)", owner,
                        g->start_level, g->n_in);
    g->n_used = g->n_in - g->start_level;
    if (g->num_outs < g->n_used || g->num_outs > FP_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID,
                        "%s: num_outs %d must be between the %d used inputs (from start_level %d) and %d", owner,
                        g->num_outs, g->n_used, g->start_level, FP_MAX_LEVELS);
    return WB_OK;
}

int fp_out_level(const fp_pyramid *g, int i) {
    return i < g->n_used ? g->in_levels[g->start_level + i] : g->in_levels[g->n_in - 1] + (i - g->n_used + 1);
}

int fp_output_specs(const fp_pyramid *g, wb_feature_spec *out, int max_out) {
    for (int i = 0; i < g->num_outs && i < max_out; i++) {
        int level = fp_out_level(g, i);
        snprintf(out[i].name, sizeof out[i].name, "p%d", level);
        out[i].channels = g->out_channels;
        out[i].stride = 1 << level;
    }
    return g->num_outs;
}

void fp_top_down(wb_ctx *ctx, wb_tensor **lateral, int n) {
    for (int j = n - 1; j > 0; j--) {
        if (wb_ok(ctx) != WB_OK) return; /* a NULL lateral has no size to read */
        wb_tensor_info fine = wb_info(ctx, lateral[j - 1]);
        wb_tensor *up = wb_upsample_nearest(ctx, lateral[j], 0, (int)fine.shape[2], (int)fine.shape[3]);
        wb_tensor *sum = wb_add(ctx, lateral[j - 1], up);
        wb_release(ctx, up);
        wb_release(ctx, lateral[j - 1]);
        lateral[j - 1] = sum;
    }
}
