/* pafpn: configuration, declared outputs and the plugin entry point. */
#include "pafpn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_extra_modes[] = {"none", "on_input", "on_lateral", "on_output", NULL};

static pafpn_extra extra_mode(const char *s) {
    if (strcmp(s, "on_input") == 0) return PAFPN_EXTRA_ON_INPUT;
    if (strcmp(s, "on_lateral") == 0) return PAFPN_EXTRA_ON_LATERAL;
    if (strcmp(s, "on_output") == 0) return PAFPN_EXTRA_ON_OUTPUT;
    return PAFPN_EXTRA_NONE;
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    pafpn *m = calloc(1, sizeof *m);
    if (!m) return wb_error(ctx, WB_ERR_NOMEM, "pafpn: out of memory");
    wb_status st = fp_pyramid_read(ctx, &m->geo, p, in, n_in, "pafpn");
    if (st != WB_OK) {
        free(m);
        return st;
    }
    m->extra = extra_mode(WB_H(ctx)->param_string(p, "add_extra_convs"));
    m->relu_before_extra = WB_H(ctx)->param_bool(p, "relu_before_extra_convs");
    *out = m;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    pafpn *m = inst;
    return fp_output_specs(&m->geo, out, max_out);
}

static wb_status describe(void *inst, char *buf, size_t size) {
    pafpn *m = inst;
    static const char *const modes[] = {"max-pool", "convs on the input", "convs on the lateral",
                                        "convs on the output"};
    snprintf(buf, size, "PAFPN: p%d..p%d with %d channels, extra levels by %s", fp_out_level(&m->geo, 0),
             fp_out_level(&m->geo, m->geo.num_outs - 1), m->geo.out_channels, modes[m->extra]);
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
