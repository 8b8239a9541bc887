/* cspdarknet: configuration, declared outputs and the plugin entry point. */
#include "cspdarknet.h"

#include <stdio.h>
#include <stdlib.h>

int cspdarknet_channels(const cspdarknet *m, int index) { return csp_make_divisible(64 << index, m->widen_factor); }
int cspdarknet_stride(int index) { return 2 << index; }
int cspdarknet_blocks(const cspdarknet *m, int stage) {
    static const int k_blocks[CSPDARKNET_STAGES] = {3, 6, 9, 3};
    return csp_make_round(k_blocks[stage], m->deepen_factor);
}

static wb_status read_out_indices(wb_ctx *ctx, const wb_params *p, cspdarknet *m) {
    const wb_host_api *h = WB_H(ctx);
    int n = h->param_list_len(p, "out_indices");
    if (n < 1 || n > CSPDARKNET_STAGES + 1)
        return wb_error(ctx, WB_ERR_INVALID, "cspdarknet: out_indices needs 1..%d indices, got %d",
                        CSPDARKNET_STAGES + 1, n);
    for (int i = 0; i < n; i++) {
        int s = (int)h->param_int_at(p, "out_indices", i);
        if (i > 0 && s <= m->out_indices[i - 1])
            return wb_error(ctx, WB_ERR_INVALID,
                            "cspdarknet: out_indices must be increasing (0 the stem, i = 1..4 stage i of stride "
                            "2^(i+1)), got %d after %d", s, m->out_indices[i - 1]);
        m->out_indices[i] = s;
    }
    m->n_out = n;
    return WB_OK;
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *h = WB_H(ctx);
    if (n_in != 1) return wb_error(ctx, WB_ERR_INVALID, "cspdarknet takes one input (the image), got %d", n_in);
    cspdarknet *m = calloc(1, sizeof *m);
    if (!m) return wb_error(ctx, WB_ERR_NOMEM, "cspdarknet: out of memory");
    m->deepen_factor = h->param_float(p, "deepen_factor");
    m->widen_factor = h->param_float(p, "widen_factor");
    m->frozen_stages = (int)h->param_int(p, "frozen_stages");
    m->mode.norm_eval = h->param_bool(p, "norm_eval");
    m->in_channels = in[0].channels;
    wb_status st = read_out_indices(ctx, p, m);
    if (st != WB_OK) {
        free(m);
        return st;
    }
    *out = m;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    cspdarknet *m = inst;
    for (int i = 0; i < m->n_out && i < max_out; i++) {
        int s = m->out_indices[i];
        snprintf(out[i].name, sizeof out[i].name, "c%d", s + 1);
        out[i].channels = cspdarknet_channels(m, s);
        out[i].stride = cspdarknet_stride(s);
    }
    return m->n_out;
}

/* YOLOv5's model scales (the depth_multiple / width_multiple of its yamls). */
static const char *variant(const cspdarknet *m) {
    static const struct {
        const char *name;
        double deepen, widen;
    } k_variants[] = {{"n", 0.33, 0.25}, {"s", 0.33, 0.50}, {"m", 0.67, 0.75}, {"l", 1.0, 1.0}, {"x", 1.33, 1.25}};
    for (size_t i = 0; i < sizeof k_variants / sizeof k_variants[0]; i++)
        if (m->deepen_factor == k_variants[i].deepen && m->widen_factor == k_variants[i].widen)
            return k_variants[i].name;
    return "custom";
}

static wb_status describe(void *inst, char *buf, size_t size) {
    cspdarknet *m = inst;
    int first = m->out_indices[0], last = m->out_indices[m->n_out - 1];
    snprintf(buf, size,
             "CSPDarknet (YOLOv5 v6) %s: deepen %.2f widen %.2f, C3 blocks %d-%d-%d-%d, channels %d..%d, "
             "out c%d..c%d (strides %d..%d), frozen_stages=%d%s",
             variant(m), m->deepen_factor, m->widen_factor, cspdarknet_blocks(m, 0), cspdarknet_blocks(m, 1),
             cspdarknet_blocks(m, 2), cspdarknet_blocks(m, 3), cspdarknet_channels(m, 0), cspdarknet_channels(m, 4),
             first + 1, last + 1, cspdarknet_stride(first), cspdarknet_stride(last), m->frozen_stages,
             m->mode.norm_eval ? ", norm_eval" : "");
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const wb_param_schema params[] = {
    WB_P_FLOAT("deepen_factor", "1.0", 0.01, 3.5,
               "C3 depth multiple: round(3, 6, 9, 3 * it) bottlenecks (n, s 0.33; m 0.67; l 1.0; x 1.33)"),
    WB_P_FLOAT("widen_factor", "1.0", 0.01, 4.0,
               "channel multiple of 64..1024, rounded up to multiples of 8 (n 0.25, s 0.50, m 0.75, l 1.0, x 1.25)"),
    WB_P_INT_LIST("out_indices", "[2, 3, 4]", 0, 4,
                  "outputs: 0 the stem (stride 2), i = 1..4 stage i (c(i+1), stride 2^(i+1)); default c3..c5"),
    WB_P_INT("frozen_stages", "-1", -1, 4,
             "-1: none; 0: the stem; k: the stem and stage1..k (fixed parameters, BN running statistics)"),
    WB_P_BOOL("norm_eval", "false", "BN layers use running statistics even while training (YOLOv5 trains them)"),
    WB_PARAM_END,
};

static const wb_module_vtable vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = create,
    .output_specs = output_specs,
    .init_params = cspdarknet_init_params,
    .forward = cspdarknet_forward,
    .describe = describe,
    .destroy = destroy,
};

static const wb_module_desc cspdarknet_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_BACKBONE,
    .type_name = "cspdarknet",
    .summary = "YOLOv5 v6.x CSPDarknet (Conv-BN-SiLU, C3, SPPF; MMYOLO parameter names)",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("cspdarknet", "0.1.0", "MIT", &cspdarknet_desc)
