/* tp_pafpn: a Path Aggregation FPN neck (PANet, as mmdetection's PAFPN),
 * built out of tree against the installed SDK only.
 *
 *   lateral 1x1 convs:  every input level -> out_channels
 *   top-down path:      lateral[i] += nearest-upsample(lateral[i+1]), then a 3x3 conv
 *   bottom-up path:     inner[i+1] += 3x3 stride-2 conv(inner[i]), then a 3x3 conv
 *   extra levels:       num_outs > inputs: 1x1 max-pool with stride 2 of the last output
 *
 * Only SDK ops: the tape gives the backward. Parameter names follow
 * mmdetection (lateral_convs.0.conv.weight, ...), so converted weights load. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <workbench/workbench.h>

#define PAFPN_MAX_LEVELS 8

typedef struct conv {
    wb_tensor *w, *b;
} conv;

typedef struct pafpn {
    int n_in, num_outs, out_channels;
    wb_feature_spec in[PAFPN_MAX_LEVELS];
    conv lateral[PAFPN_MAX_LEVELS], fpn[PAFPN_MAX_LEVELS];
    conv down[PAFPN_MAX_LEVELS], pafpn[PAFPN_MAX_LEVELS]; /* n_in - 1 each */
} pafpn;

static wb_status pafpn_create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *host = WB_H(ctx);
    int num_outs = (int)host->param_int(p, "num_outs");
    if (n_in < 2 || n_in > PAFPN_MAX_LEVELS)
        return wb_error(ctx, WB_ERR_INVALID, "tp_pafpn: needs 2..%d input levels, got %d (e.g. resnet "
                        "out_indices = [1, 2, 3])", PAFPN_MAX_LEVELS, n_in);
    if (num_outs < n_in)
        return wb_error(ctx, WB_ERR_INVALID, "tp_pafpn: num_outs = %d is below the %d input levels", num_outs, n_in);
    for (int i = 1; i < n_in; i++)
        if (in[i].stride != 2 * in[i - 1].stride)
            return wb_error(ctx, WB_ERR_INVALID, "tp_pafpn: input '%s' has stride %d, expected %d (each level "
                            "halves the previous one)", in[i].name, in[i].stride, 2 * in[i - 1].stride);
    pafpn *m = calloc(1, sizeof *m);
    if (!m) return wb_error(ctx, WB_ERR_NOMEM, "tp_pafpn: out of memory");
    m->n_in = n_in;
    m->num_outs = num_outs;
    m->out_channels = (int)host->param_int(p, "out_channels");
    memcpy(m->in, in, (size_t)n_in * sizeof *in);
    *out = m;
    return WB_OK;
}

static int pafpn_output_specs(void *inst, wb_feature_spec *out, int max_out) {
    const pafpn *m = inst;
    for (int i = 0; i < m->num_outs && i < max_out; i++) {
        int stride = m->in[0].stride << i;
        int log2 = 0;
        while ((1 << log2) < stride) log2++;
        out[i] = (wb_feature_spec){"", m->out_channels, stride};
        snprintf(out[i].name, sizeof out[i].name, "p%d", log2);
    }
    return m->num_outs;
}

/* mmdetection's FPN init: Xavier-uniform weights, zero bias. */
static void make_conv(wb_ctx *ctx, conv *c, const char *group, int index, int cout, int cin, int k) {
    char name[96];
    int64_t wshape[4] = {cout, cin, k, k}, bshape[1] = {cout};
    wb_init xavier = {WB_INIT_XAVIER_UNIFORM, 0.0f, 0.0f, 0.0f, 1.0f, 0.0f, 0};
    snprintf(name, sizeof name, "%s.%d.conv.weight", group, index);
    c->w = wb_param(ctx, name, 4, wshape, xavier, 1);
    snprintf(name, sizeof name, "%s.%d.conv.bias", group, index);
    c->b = wb_param(ctx, name, 1, bshape, wb_init_constant(0.0f), 1);
}

static wb_status pafpn_init_params(void *inst, wb_ctx *ctx) {
    pafpn *m = inst;
    const int c = m->out_channels;
    for (int i = 0; i < m->n_in; i++) {
        make_conv(ctx, &m->lateral[i], "lateral_convs", i, c, m->in[i].channels, 1);
        make_conv(ctx, &m->fpn[i], "fpn_convs", i, c, c, 3);
    }
    for (int i = 0; i + 1 < m->n_in; i++) {
        make_conv(ctx, &m->down[i], "downsample_convs", i, c, c, 3);
        make_conv(ctx, &m->pafpn[i], "pafpn_convs", i, c, c, 3);
    }
    return wb_ok(ctx);
}

static wb_tensor *apply(wb_ctx *ctx, const conv *c, wb_tensor *x, int stride, int pad) {
    wb_conv2d_params p = wb_conv_p(stride, pad, 1, 1);
    return wb_conv2d(ctx, x, c->w, c->b, &p);
}

static wb_status pafpn_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    pafpn *m = inst;
    wb_tensor *lat[PAFPN_MAX_LEVELS] = {0}, *inner[PAFPN_MAX_LEVELS] = {0};
    if (n_in != m->n_in || n_out != m->num_outs)
        return wb_error(ctx, WB_ERR_INVALID, "tp_pafpn: called with %d inputs and %d outputs, declared %d and %d",
                        n_in, n_out, m->n_in, m->num_outs);
    for (int i = 0; i < n_in; i++) lat[i] = apply(ctx, &m->lateral[i], in[i], 1, 0);
    /* Top-down: each level gets the coarser one, upsampled to its own size. */
    for (int i = n_in - 1; i > 0; i--) {
        if (wb_ok(ctx) != WB_OK) return wb_ok(ctx); /* wb_info needs a tensor */
        wb_tensor_info fine = wb_info(ctx, lat[i - 1]);
        wb_tensor *up = wb_upsample_nearest(ctx, lat[i], 0, (int)fine.shape[2], (int)fine.shape[3]);
        wb_tensor *sum = wb_add(ctx, lat[i - 1], up);
        wb_release(ctx, up);
        wb_release(ctx, lat[i - 1]);
        lat[i - 1] = sum;
    }
    for (int i = 0; i < n_in; i++) {
        inner[i] = apply(ctx, &m->fpn[i], lat[i], 1, 1);
        wb_release(ctx, lat[i]);
    }
    /* Bottom-up: each level gets the finer one, downsampled by a stride-2 conv. */
    for (int i = 0; i + 1 < n_in; i++) {
        wb_tensor *down = apply(ctx, &m->down[i], inner[i], 2, 1);
        wb_tensor *sum = wb_add(ctx, inner[i + 1], down);
        wb_release(ctx, down);
        wb_release(ctx, inner[i + 1]);
        inner[i + 1] = sum;
    }
    out[0] = inner[0];
    for (int i = 1; i < n_in; i++) {
        out[i] = apply(ctx, &m->pafpn[i - 1], inner[i], 1, 1);
        wb_release(ctx, inner[i]);
    }
    wb_pool2d_params pool = wb_pool_p(1, 2, 0);
    for (int i = n_in; i < m->num_outs; i++) out[i] = wb_max_pool2d(ctx, out[i - 1], &pool);
    return wb_ok(ctx);
}

static wb_status pafpn_describe(void *inst, char *buf, size_t size) {
    const pafpn *m = inst;
    snprintf(buf, size, "PAFPN, %d inputs -> %d outputs of %d channels", m->n_in, m->num_outs, m->out_channels);
    return WB_OK;
}

static void pafpn_destroy(void *inst) { free(inst); }

static const wb_param_schema pafpn_params[] = {
    WB_P_INT("out_channels", "256", 1, 4096, "channels of every output level"),
    WB_P_INT("num_outs", "5", 2, PAFPN_MAX_LEVELS,
             "output levels; those past the inputs are stride-2 max-pools of the last one"),
    WB_PARAM_END,
};

static const wb_module_vtable pafpn_vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = pafpn_create,
    .output_specs = pafpn_output_specs,
    .init_params = pafpn_init_params,
    .forward = pafpn_forward,
    .describe = pafpn_describe,
    .destroy = pafpn_destroy,
};

static const wb_module_desc pafpn_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_NECK,
    .type_name = "tp_pafpn",
    .summary = "Path Aggregation FPN (PANet): top-down and bottom-up paths (out-of-tree example)",
    .params = pafpn_params,
    .module = &pafpn_vtable,
};

WB_PLUGIN_DEFINE("tp_pafpn", "0.1.0", "MIT", &pafpn_desc)
