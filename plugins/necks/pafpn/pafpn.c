/* pafpn: configuration, declared outputs and the plugin entry point. */
#include "pafpn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_extra_modes[] = {"none", "on_input", "on_lateral", "on_output", NULL};

int pafpn_out_level(const pafpn *m, int i) {
    return i < m->n_used ? m->in_levels[m->start_level + i] : m->in_levels[m->n_in - 1] + (i - m->n_used + 1);
}

static int log2_exact(int v) {
    int l = 0;
    while (v > 1 && v % 2 == 0) {
        v /= 2;
        l++;
    }
    return v == 1 ? l : -1;
}

/* in_channels come from the backbone's specs (mmdetection's in_channels). */
static wb_status read_inputs(wb_ctx *ctx, pafpn *m, const wb_feature_spec *in, int n_in) {
    if (n_in < 1 || n_in > PAFPN_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID, "pafpn: takes 1..%d input feature maps, got %d", PAFPN_MAX_LEVELS,
                        n_in);
    m->n_in = n_in;
    for (int i = 0; i < n_in; i++) {
        m->in_channels[i] = in[i].channels;
        m->in_levels[i] = log2_exact(in[i].stride);
        if (m->in_levels[i] < 0 || (i > 0 && m->in_levels[i] != m->in_levels[i - 1] + 1))
            return wb_error(ctx, WB_ERR_INVALID,
                            "pafpn: input '%s' has stride %d; inputs must have power-of-two strides doubling "
                            "from one to the next (as the backbone's c2..c5)", in[i].name, in[i].stride);
    }
    return WB_OK;
}

static pafpn_extra extra_mode(const char *s) {
    if (strcmp(s, "on_input") == 0) return PAFPN_EXTRA_ON_INPUT;
    if (strcmp(s, "on_lateral") == 0) return PAFPN_EXTRA_ON_LATERAL;
    if (strcmp(s, "on_output") == 0) return PAFPN_EXTRA_ON_OUTPUT;
    return PAFPN_EXTRA_NONE;
}

static wb_status configure(wb_ctx *ctx, pafpn *m, const wb_params *p) {
    const wb_host_api *h = WB_H(ctx);
    m->out_channels = (int)h->param_int(p, "out_channels");
    m->start_level = (int)h->param_int(p, "start_level");
    m->num_outs = (int)h->param_int(p, "num_outs");
    m->extra = extra_mode(h->param_string(p, "add_extra_convs"));
    m->relu_before_extra = h->param_bool(p, "relu_before_extra_convs");
    if (m->start_level >= m->n_in)
        return wb_error(ctx, WB_ERR_INVALID, "pafpn: start_level %d leaves no input (the backbone gives %d)",
                        m->start_level, m->n_in);
    m->n_used = m->n_in - m->start_level;
    if (m->num_outs < m->n_used || m->num_outs > PAFPN_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID,
                        "pafpn: num_outs %d must be between the %d used inputs (from start_level %d) and %d",
                        m->num_outs, m->n_used, m->start_level, PAFPN_MAX_LEVELS);
    return WB_OK;
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    pafpn *m = calloc(1, sizeof *m);
    if (!m) return wb_error(ctx, WB_ERR_NOMEM, "pafpn: out of memory");
    wb_status st = read_inputs(ctx, m, in, n_in);
    if (st == WB_OK) st = configure(ctx, m, p);
    if (st != WB_OK) {
        free(m);
        return st;
    }
    *out = m;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    pafpn *m = inst;
    for (int i = 0; i < m->num_outs && i < max_out; i++) {
        int level = pafpn_out_level(m, i);
        snprintf(out[i].name, sizeof out[i].name, "p%d", level);
        out[i].channels = m->out_channels;
        out[i].stride = 1 << level;
    }
    return m->num_outs;
}

static wb_status describe(void *inst, char *buf, size_t size) {
    pafpn *m = inst;
    static const char *const modes[] = {"max-pool", "convs on the input", "convs on the lateral",
                                        "convs on the output"};
    snprintf(buf, size, "PAFPN: p%d..p%d with %d channels, extra levels by %s", pafpn_out_level(m, 0),
             pafpn_out_level(m, m->num_outs - 1), m->out_channels, modes[m->extra]);
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const wb_param_schema params[] = {
    WB_P_INT("out_channels", "256", 1, 4096, "channels of every output level"),
    WB_P_INT("start_level", "0", 0, PAFPN_MAX_LEVELS - 1, "first backbone output used (0-based)"),
    WB_P_INT("num_outs", "5", 1, PAFPN_MAX_LEVELS, "output levels; those past the inputs are extra levels"),
    WB_P_CHOICE("add_extra_convs", "\"none\"", k_extra_modes,
                "extra levels: none (max-pool 1, stride 2, of the last output), on_input (3x3/2 conv on the "
                "last used input), on_lateral (on the last lateral), on_output (on the last output); "
                "mmdetection's add_extra_convs = True is on_input"),
    WB_P_BOOL("relu_before_extra_convs", "false", "ReLU before every extra conv but the first"),
    WB_PARAM_END,
};

static const wb_module_vtable vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = create,
    .output_specs = output_specs,
    .init_params = pafpn_init_params,
    .forward = pafpn_forward,
    .describe = describe,
    .destroy = destroy,
};

static const wb_module_desc pafpn_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_NECK,
    .type_name = "pafpn",
    .summary = "Path Aggregation FPN (mmdetection's PAFPN: FPN, then a bottom-up path; mmdetection names)",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("pafpn", "0.1.0", "MIT", &pafpn_desc)
