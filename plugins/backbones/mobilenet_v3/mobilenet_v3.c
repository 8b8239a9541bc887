/* mobilenet_v3: configuration, declared outputs and the plugin entry point. */
#include "mobilenet_v3.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* out_indices index torchvision's `features`: 0 the stem, 1..15 (Large) or
 * 1..11 (Small) the blocks, 16 / 12 the last conv. */
static wb_status read_outputs(wb_ctx *ctx, const wb_params *p, mobilenet_v3 *m) {
    const wb_host_api *h = WB_H(ctx);
    int n = h->param_list_len(p, "out_indices"), n_feat = m->n_blocks + 2;
    if (n == 0) { /* the ends of strides 8, 16, 32 */
        const int large[3] = {6, 12, 16}, small[3] = {3, 8, 12};
        for (int i = 0; i < 3; i++) m->out_indices[i] = m->large ? large[i] : small[i];
        n = 3;
    }
    if (n > n_feat)
        return wb_error(ctx, WB_ERR_INVALID, "mobilenet_v3: out_indices lists at most %d feature indices, got %d",
                        n_feat, n);
    for (int i = 0; i < h->param_list_len(p, "out_indices"); i++) {
        int f = (int)h->param_int_at(p, "out_indices", i);
        if (f < 0 || f >= n_feat || (i > 0 && f <= m->out_indices[i - 1]))
            return wb_error(ctx, WB_ERR_INVALID,
                            "mobilenet_v3: out_indices must be increasing indices of `features` in 0..%d "
                            "(0 the stem, %d the last conv), got %d at position %d", n_feat - 1, n_feat - 1, f, i);
        m->out_indices[i] = f;
    }
    m->n_out = n;
    int n_exp = h->param_list_len(p, "expansion_out_indices");
    for (int j = 0; j < n_exp; j++) {
        int f = (int)h->param_int_at(p, "expansion_out_indices", j), found = 0;
        for (int i = 0; i < n; i++)
            if (m->out_indices[i] == f && f >= 1 && f <= m->n_blocks) m->out_expansion[i] = found = 1;
        if (!found)
            return wb_error(ctx, WB_ERR_INVALID,
                            "mobilenet_v3: expansion_out_indices entry %d must be a block (1..%d) listed in "
                            "out_indices", f, m->n_blocks);
    }
    return WB_OK;
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *h = WB_H(ctx);
    if (n_in != 1)
        return wb_error(ctx, WB_ERR_INVALID, "mobilenet_v3 takes one input (the image), got %d", n_in);
    mobilenet_v3 *m = calloc(1, sizeof *m);
    if (!m) return wb_error(ctx, WB_ERR_NOMEM, "mobilenet_v3: out of memory");
    m->large = strcmp(h->param_string(p, "arch"), "large") == 0;
    m->width_mult = (float)h->param_float(p, "width_mult");
    m->slim_expansion = strcmp(h->param_string(p, "expansion"), "tf_slim") == 0;
    m->last_channels = (int)h->param_int(p, "last_channels");
    m->tf_same = strcmp(h->param_string(p, "padding"), "tf_same") == 0;
    m->hard_scale = (float)h->param_float(p, "hard_scale");
    m->frozen_stages = (int)h->param_int(p, "frozen_stages");
    m->norm_eval = h->param_bool(p, "norm_eval");
    m->in_channels = in[0].channels;
    mnv3_build_layout(m);
    wb_status st = read_outputs(ctx, p, m);
    if (st == WB_OK && m->frozen_stages > m->n_blocks + 1)
        st = wb_error(ctx, WB_ERR_INVALID, "mobilenet_v3: frozen_stages %d is past the last feature (%d)",
                      m->frozen_stages, m->n_blocks + 1);
    if (st != WB_OK) {
        free(m);
        return st;
    }
    *out = m;
    return WB_OK;
}

static int log2i(int v) {
    int r = 0;
    while (v > 1) v >>= 1, r++;
    return r;
}

/* Named c<log2 stride> as the other backbones; an expansion output sits at
 * its block's input stride (the depthwise conv after it does the striding). */
static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    mobilenet_v3 *m = inst;
    for (int i = 0; i < m->n_out && i < max_out; i++) {
        int f = m->out_indices[i];
        int stride = m->out_expansion[i] ? m->stride_of[f - 1] : m->stride_of[f];
        snprintf(out[i].name, sizeof out[i].name, "c%d", log2i(stride));
        out[i].channels = mnv3_feature_channels(m, f, m->out_expansion[i]);
        out[i].stride = stride;
    }
    return m->n_out;
}

static wb_status describe(void *inst, char *buf, size_t size) {
    mobilenet_v3 *m = inst;
    snprintf(buf, size, "MobileNetV3-%s x%.2f%s%s, last conv %d, frozen_stages=%d, %d outputs", m->large ? "Large" : "Small",
             m->width_mult, m->slim_expansion ? ", TF-Slim expansion" : "", m->tf_same ? ", TF SAME padding" : "",
             m->last_channels, m->frozen_stages, m->n_out);
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const char *const k_archs[] = {"large", "small", NULL};
static const char *const k_expansions[] = {"torchvision", "tf_slim", NULL};
static const char *const k_paddings[] = {"torch", "tf_same", NULL};

static const wb_param_schema params[] = {
    WB_P_CHOICE("arch", "\"large\"", k_archs, "torchvision's mobilenet_v3_large or mobilenet_v3_small"),
    WB_P_FLOAT("width_mult", "1.0", 0.1, 4.0, "channel multiplier (widths rounded to multiples of 8, as torchvision)"),
    WB_P_INT_LIST("out_indices", "[]", 0, 16,
                  "indices of torchvision's `features` to output: 0 the stem, then the blocks, the last conv "
                  "(16 Large, 12 Small); empty: the ends of strides 8/16/32 (Large 6/12/16, Small 3/8/12)"),
    WB_P_INT_LIST("expansion_out_indices", "[]", 1, 15,
                  "blocks of out_indices whose output is their 1x1 expansion's activation instead "
                  "(TensorFlow detectors' 'expansion_output' taps)"),
    WB_P_CHOICE("expansion", "\"torchvision\"", k_expansions,
                "torchvision: expanded widths of torchvision's table times width_mult; tf_slim: the scaled input "
                "width times the table's expansion ratio (TensorFlow-Slim's depth_multiplier)"),
    WB_P_INT("last_channels", "0", 0, 8192, "width of the last 1x1 conv; 0: 6 x the last block's (torchvision)"),
    WB_P_CHOICE("padding", "\"torch\"", k_paddings,
                "torch: k/2 on every side; tf_same: TensorFlow's SAME (strided convs pad the extra pixel after)"),
    WB_P_FLOAT("hard_scale", "0.16666667", 0.0, 1.0,
               "the 1/6 of hardswish and hardsigmoid (TF.js float16 models store 0.16662598)"),
    WB_P_INT("frozen_stages", "-1", -1, 16,
             "-1: none; k: features[0..k] keep fixed parameters and BN running statistics"),
    WB_P_BOOL("norm_eval", "true", "BN layers use running statistics even while training (detection practice)"),
    WB_PARAM_END,
};

static const wb_module_vtable vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = create,
    .output_specs = output_specs,
    .init_params = mnv3_init_params,
    .forward = mnv3_forward,
    .describe = describe,
    .destroy = destroy,
};

static const wb_module_desc mobilenet_v3_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_BACKBONE,
    .type_name = "mobilenet_v3",
    .summary = "MobileNetV3-Large/Small (torchvision 0.14 layout and parameter names)",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("mobilenet_v3", "0.1.0", "MIT", &mobilenet_v3_desc)
