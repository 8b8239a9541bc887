/* centernet_fpn: options, parameters and the plugin entry point. Names:
 * level<i>.reduce.{0,1}, level<i>.lateral.{dw,pw.0,pw.1}, level<i>.branch_{x,y}.{dw,pw.0,pw.1}
 * (level i is the i-th input, 0 the finest), se.fc1.{0,1}, se.fc2; ".0" a
 * conv weight, ".1" its BatchNorm. */
#include "centernet_fpn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *h = WB_H(ctx);
    if (n_in < 2 || n_in > CFPN_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID, "centernet_fpn: takes 2..%d backbone levels, got %d", CFPN_MAX_LEVELS,
                        n_in);
    int n_ch = h->param_list_len(p, "channels");
    if (n_ch != n_in - 1)
        return wb_error(ctx, WB_ERR_INVALID,
                        "centernet_fpn: channels needs one width per input level below the top (%d), got %d", n_in - 1,
                        n_ch);
    for (int i = 1; i < n_in; i++)
        if (in[i].stride != 2 * in[i - 1].stride)
            return wb_error(ctx, WB_ERR_INVALID,
                            "centernet_fpn: input '%s' has stride %d after '%s' of stride %d; each level must have "
                            "twice the stride of the one before", in[i].name, in[i].stride, in[i - 1].name,
                            in[i - 1].stride);
    centernet_fpn *m = calloc(1, sizeof *m);
    if (!m) return wb_error(ctx, WB_ERR_NOMEM, "centernet_fpn: out of memory");
    m->n_levels = n_in;
    for (int i = 0; i < n_in; i++) m->in_channels[i] = in[i].channels, m->in_strides[i] = in[i].stride;
    for (int i = 0; i < n_ch; i++) m->channels[i] = (int)h->param_int_at(p, "channels", i);
    m->reduction = (int)h->param_int(p, "lateral_reduction");
    m->lateral_kernel = (int)h->param_int(p, "lateral_kernel");
    m->tf_resize = strcmp(h->param_string(p, "resize"), "tf_legacy") == 0;
    m->se_channels = (int)h->param_int(p, "se_channels");
    m->norm_eval = h->param_bool(p, "norm_eval");
    for (int i = 0; i < n_in - 1; i++)
        if (m->in_channels[i] / m->reduction < 1) {
            wb_status st = wb_error(ctx, WB_ERR_INVALID,
                                    "centernet_fpn: input '%s' has %d channels, fewer than lateral_reduction %d",
                                    in[i].name, m->in_channels[i], m->reduction);
            free(m);
            return st;
        }
    *out = m;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    centernet_fpn *m = inst;
    if (max_out < 1) return 1;
    int level = 0;
    for (int s = m->in_strides[0]; s > 1; s >>= 1) level++;
    snprintf(out[0].name, sizeof out[0].name, "p%d", level);
    out[0].channels = 2 * m->channels[0];
    out[0].stride = m->in_strides[0];
    return 1;
}

static void make_conv_bn(wb_ctx *ctx, cfpn_conv_bn *cb, const char *prefix, int cin, int cout, int kernel,
                         int relu) {
    char name[96];
    int64_t wshape[4] = {cout, cin, kernel, kernel}, c = cout;
    cb->kernel = kernel, cb->groups = 1, cb->relu = relu;
    snprintf(name, sizeof name, "%s.0.weight", prefix);
    cb->weight = wb_param(ctx, name, 4, wshape, wb_init_kaiming_normal_fan_out(), 1);
    snprintf(name, sizeof name, "%s.1.weight", prefix);
    cb->gamma = wb_param(ctx, name, 1, &c, wb_init_constant(1.0f), 1);
    snprintf(name, sizeof name, "%s.1.bias", prefix);
    cb->beta = wb_param(ctx, name, 1, &c, wb_init_constant(0.0f), 1);
    snprintf(name, sizeof name, "%s.1.running_mean", prefix);
    cb->running_mean = wb_buffer(ctx, name, 1, &c, wb_init_constant(0.0f));
    snprintf(name, sizeof name, "%s.1.running_var", prefix);
    cb->running_var = wb_buffer(ctx, name, 1, &c, wb_init_constant(1.0f));
}

static void make_separable(wb_ctx *ctx, cfpn_separable *s, const char *prefix, int cin, int cout, int kernel) {
    char name[96];
    int64_t wshape[4] = {cin, 1, kernel, kernel};
    s->kernel = kernel;
    snprintf(name, sizeof name, "%s.dw.weight", prefix);
    s->depthwise = wb_param(ctx, name, 4, wshape, wb_init_kaiming_normal_fan_out(), 1);
    snprintf(name, sizeof name, "%s.pw", prefix);
    make_conv_bn(ctx, &s->pointwise, name, cin, cout, 1, 0);
}

static wb_status init_params(void *inst, wb_ctx *ctx) {
    centernet_fpn *m = inst;
    char prefix[64];
    for (int i = 0; i < m->n_levels - 1; i++) {
        cfpn_level *l = &m->level[i];
        int red = m->in_channels[i] / m->reduction;
        /* The map upsampled into level i: the top input, or the merge of level i + 1. */
        int above = i == m->n_levels - 2 ? m->in_channels[i + 1] : 2 * m->channels[i + 1];
        snprintf(prefix, sizeof prefix, "level%d.reduce", i);
        make_conv_bn(ctx, &l->reduce, prefix, m->in_channels[i], red, 1, 1);
        snprintf(prefix, sizeof prefix, "level%d.lateral", i);
        make_separable(ctx, &l->lateral, prefix, red, m->channels[i], m->lateral_kernel);
        snprintf(prefix, sizeof prefix, "level%d.branch_x", i);
        make_separable(ctx, &l->branch_x, prefix, above, m->channels[i], 3);
        snprintf(prefix, sizeof prefix, "level%d.branch_y", i);
        make_separable(ctx, &l->branch_y, prefix, above, m->channels[i], 5);
    }
    if (m->se_channels > 0) {
        int c = 2 * m->channels[0];
        int64_t w2[4] = {c, m->se_channels, 1, 1};
        make_conv_bn(ctx, &m->se_fc1, "se.fc1", c, m->se_channels, 1, 1);
        m->se_fc2 = wb_param(ctx, "se.fc2.weight", 4, w2, wb_init_kaiming_normal_fan_out(), 1);
    }
    return wb_ok(ctx);
}

static wb_status describe(void *inst, char *buf, size_t size) {
    centernet_fpn *m = inst;
    snprintf(buf, size, "CenterNet-MobileNetV3 decoder, %d levels, output %d channels at stride %d, %s resize%s",
             m->n_levels, 2 * m->channels[0], m->in_strides[0], m->tf_resize ? "TF legacy" : "bilinear",
             m->se_channels ? ", SE gate" : "");
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const char *const k_resizes[] = {"tf_legacy", "bilinear", NULL};

static const wb_param_schema params[] = {
    WB_P_INT_LIST("channels", "[64, 96, 128]", 1, 4096,
                  "width of each level below the top, finest first (lateral and upsampling; the merge is twice)"),
    WB_P_INT("lateral_reduction", "4", 1, 64, "the lateral's 1x1 conv reduces its input's channels by this"),
    WB_P_INT("lateral_kernel", "5", 1, 9, "kernel of the lateral's depthwise conv"),
    WB_P_CHOICE("resize", "\"tf_legacy\"", k_resizes,
                "tf_legacy: TensorFlow 1's resize_bilinear x2 (align_corners and half_pixel_centers false; "
                "levels must be exactly twice the one above); bilinear: torch's (align_corners false)"),
    WB_P_INT("se_channels", "32", 0, 4096, "squeeze-excite gate on the output (sigmoid); 0: none"),
    WB_P_BOOL("norm_eval", "false",
              "BN layers use running statistics even while training (fine-tuning imported weights, whose BN "
              "is folded: batch statistics would undo it)"),
    WB_PARAM_END,
};

static const wb_module_vtable vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = create,
    .output_specs = output_specs,
    .init_params = init_params,
    .forward = cfpn_forward,
    .describe = describe,
    .destroy = destroy,
};

static const wb_module_desc centernet_fpn_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_NECK,
    .type_name = "centernet_fpn",
    .summary = "CenterNet-MobileNetV3's decoder: separable two-branch upsampling with laterals, one stride-4 map",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("centernet_fpn", "0.1.0", "MIT", &centernet_fpn_desc)
