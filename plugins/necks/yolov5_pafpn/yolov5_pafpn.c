/* yolov5_pafpn: configuration, declared outputs and the plugin entry point. */
#include "yolov5_pafpn.h"

#include <stdio.h>
#include <stdlib.h>

static wb_status read_inputs(wb_ctx *ctx, yolov5_pafpn *m, const wb_feature_spec *in, int n_in) {
    if (n_in != PAFPN_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID,
                        "yolov5_pafpn: takes the backbone's three levels (c3, c4, c5 at strides 8, 16, 32), got %d "
                        "input(s); set the backbone's out_indices to three stages", n_in);
    for (int i = 0; i < PAFPN_LEVELS; i++) {
        m->channels[i] = in[i].channels;
        m->strides[i] = in[i].stride;
        if (i > 0 && in[i].stride != 2 * in[i - 1].stride)
            return wb_error(ctx, WB_ERR_INVALID,
                            "yolov5_pafpn: input '%s' has stride %d after '%s' of stride %d; each level must have "
                            "twice the stride of the one before (as c3, c4, c5)", in[i].name, in[i].stride,
                            in[i - 1].name, in[i - 1].stride);
        if (in[i].channels < 2)
            return wb_error(ctx, WB_ERR_INVALID,
                            "yolov5_pafpn: input '%s' has %d channel(s); its C3 blocks need at least 2", in[i].name,
                            in[i].channels);
    }
    return WB_OK;
}

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *h = WB_H(ctx);
    yolov5_pafpn *m = calloc(1, sizeof *m);
    if (!m) return wb_error(ctx, WB_ERR_NOMEM, "yolov5_pafpn: out of memory");
    m->deepen_factor = h->param_float(p, "deepen_factor");
    m->num_csp_blocks = (int)h->param_int(p, "num_csp_blocks");
    m->n_blocks = csp_make_round(m->num_csp_blocks, m->deepen_factor);
    m->mode.norm_eval = h->param_bool(p, "norm_eval");
    wb_status st = read_inputs(ctx, m, in, n_in);
    if (st != WB_OK) {
        free(m);
        return st;
    }
    *out = m;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    yolov5_pafpn *m = inst;
    for (int i = 0; i < PAFPN_LEVELS && i < max_out; i++) {
        int level = 0;
        while ((2 << level) <= m->strides[i]) level++;
        snprintf(out[i].name, sizeof out[i].name, "p%d", level);
        out[i].channels = m->channels[i];
        out[i].stride = m->strides[i];
    }
    return PAFPN_LEVELS;
}

static wb_status describe(void *inst, char *buf, size_t size) {
    yolov5_pafpn *m = inst;
    snprintf(buf, size, "YOLOv5 PAFPN: 3 levels (strides %d, %d, %d; %d, %d, %d channels), %d bottleneck(s) per C3%s",
             m->strides[0], m->strides[1], m->strides[2], m->channels[0], m->channels[1], m->channels[2], m->n_blocks,
             m->mode.norm_eval ? ", norm_eval" : "");
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const wb_param_schema params[] = {
    WB_P_FLOAT("deepen_factor", "1.0", 0.01, 3.5,
               "C3 depth multiple, as the backbone's (n, s 0.33; m 0.67; l 1.0; x 1.33); widths follow the inputs"),
    /* Bounded so that round(9 * 3.5) = 32 = CSP_MAX_BLOCKS. */
    WB_P_INT("num_csp_blocks", "3", 1, 9, "bottlenecks per C3 before deepen_factor (YOLOv5: 3)"),
    WB_P_BOOL("norm_eval", "false", "BN layers use running statistics even while training (YOLOv5 trains them)"),
    WB_PARAM_END,
};

static const wb_module_vtable vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = create,
    .output_specs = output_specs,
    .init_params = yolov5_pafpn_init_params,
    .forward = yolov5_pafpn_forward,
    .describe = describe,
    .destroy = destroy,
};

static const wb_module_desc yolov5_pafpn_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_NECK,
    .type_name = "yolov5_pafpn",
    .summary = "YOLOv5 v6.x PAFPN (top-down and bottom-up C3 paths; MMYOLO parameter names)",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("yolov5_pafpn", "0.1.0", "MIT", &yolov5_pafpn_desc)
