/* resnet: configuration, declared outputs and the plugin entry point. */
#include "resnet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct depth_layout {
    int depth;
    int bottleneck;
    int blocks[RESNET_STAGES];
} depth_layout;

/* torchvision's resnet18/34/50/101/152. */
static const depth_layout k_layouts[] = {
    {18, 0, {2, 2, 2, 2}},  {34, 0, {3, 4, 6, 3}},   {50, 1, {3, 4, 6, 3}},
    {101, 1, {3, 4, 23, 3}}, {152, 1, {3, 8, 36, 3}},
};

int resnet_stage_channels(const resnet *m, int stage) { return (64 << stage) * (m->bottleneck ? 4 : 1); }
int resnet_stage_stride(int stage) { return 4 << stage; }

static const depth_layout *find_layout(int depth) {
    for (size_t i = 0; i < sizeof k_layouts / sizeof k_layouts[0]; i++)
        if (k_layouts[i].depth == depth) return &k_layouts[i];
    return NULL;
}

static wb_status read_out_indices(wb_ctx *ctx, const wb_params *p, resnet *m) {
    const wb_host_api *h = WB_H(ctx);
    int n = h->param_list_len(p, "out_indices");
    if (n < 1 || n > RESNET_STAGES)
        return wb_error(ctx, WB_ERR_INVALID, "resnet: out_indices needs 1..%d stage indices, got %d",
                        RESNET_STAGES, n);
    for (int i = 0; i < n; i++) {
        int s = (int)h->param_int_at(p, "out_indices", i);
        if (s < 0 || s >= RESNET_STAGES || (i > 0 && s <= m->out_indices[i - 1]))
            return wb_error(ctx, WB_ERR_INVALID,
                            "resnet: out_indices must be increasing stage indices in 0..3 "
                            "(stage i has stride 4*2^i), got %d at position %d", s, i);
        m->out_indices[i] = s;
    }
    m->n_out = n;
    return WB_OK;
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *h = WB_H(ctx);
    if (n_in != 1) return wb_error(ctx, WB_ERR_INVALID, "resnet takes one input (the image), got %d", n_in);
    int depth = (int)h->param_int(p, "depth");
    const depth_layout *layout = find_layout(depth);
    if (!layout)
        return wb_error(ctx, WB_ERR_INVALID, "resnet: depth %d is not one of 18, 34, 50, 101, 152", depth);
    resnet *m = calloc(1, sizeof *m);
    if (!m) return wb_error(ctx, WB_ERR_NOMEM, "resnet: out of memory");
    m->depth = depth;
    m->bottleneck = layout->bottleneck;
    memcpy(m->n_blocks, layout->blocks, sizeof m->n_blocks);
    m->frozen_stages = (int)h->param_int(p, "frozen_stages");
    m->norm.frozen_bn = strcmp(h->param_string(p, "norm"), "frozen_bn") == 0;
    m->norm.norm_eval = h->param_bool(p, "norm_eval");
    m->zero_init_residual = h->param_bool(p, "zero_init_residual");
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
    resnet *m = inst;
    for (int i = 0; i < m->n_out && i < max_out; i++) {
        int s = m->out_indices[i];
        snprintf(out[i].name, sizeof out[i].name, "c%d", s + 2);
        out[i].channels = resnet_stage_channels(m, s);
        out[i].stride = resnet_stage_stride(s);
    }
    return m->n_out;
}

static wb_status describe(void *inst, char *buf, size_t size) {
    resnet *m = inst;
    snprintf(buf, size, "ResNet-%d (%s), norm %s%s, frozen_stages=%d, outputs c%d..c%d", m->depth,
             m->bottleneck ? "Bottleneck" : "BasicBlock", m->norm.frozen_bn ? "frozen_bn" : "bn",
             m->norm.norm_eval && !m->norm.frozen_bn ? " (eval)" : "", m->frozen_stages, m->out_indices[0] + 2,
             m->out_indices[m->n_out - 1] + 2);
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const char *const k_norms[] = {"bn", "frozen_bn", NULL};

static const wb_param_schema params[] = {
    WB_P_INT("depth", "50", 18, 152, "number of layers: 18, 34 (BasicBlock), 50, 101, 152 (Bottleneck)"),
    WB_P_INT_LIST("out_indices", "[1, 2, 3]", 0, 3,
                  "stages to output, 0-based (stage i is c(i+2), stride 4*2^i); default c3..c5"),
    WB_P_INT("frozen_stages", "-1", -1, 4,
             "-1: none; 0: the stem; k: the stem and layer1..k (fixed parameters, BN running statistics)"),
    WB_P_CHOICE("norm", "\"bn\"", k_norms,
                "bn: BatchNorm; frozen_bn: running statistics always and a fixed affine transform"),
    WB_P_BOOL("norm_eval", "true", "BN layers use running statistics even while training (detection practice)"),
    WB_P_BOOL("zero_init_residual", "false", "start the last BN of each block at zero, so blocks begin as identity"),
    WB_PARAM_END,
};

static const wb_module_vtable vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = create,
    .output_specs = output_specs,
    .init_params = resnet_init_params,
    .forward = resnet_forward,
    .describe = describe,
    .destroy = destroy,
};

static const wb_module_desc resnet_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_BACKBONE,
    .type_name = "resnet",
    .summary = "ResNet-18/34/50/101/152 (torchvision v1.5 layout and parameter names)",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("resnet", "0.1.0", "MIT", &resnet_desc)
