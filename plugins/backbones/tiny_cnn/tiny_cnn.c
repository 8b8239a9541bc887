/* tiny_cnn: a small backbone for quick experiments and for proving the plugin
 * contract. Each stage halves the resolution: conv3x3/2 - BN - ReLU - conv3x3
 * - BN - ReLU. The last stage's features are the output. Written only with
 * SDK ops, so its backward is the replayed tape. */
#include <stdio.h>
#include <stdlib.h>
#include <workbench/workbench.h>

#define MAX_STAGES 6

typedef struct stage {
    wb_tensor *w[2], *gamma[2], *beta[2], *mean[2], *var[2];
} stage;

typedef struct tiny_cnn {
    int n_stages;
    int widths[MAX_STAGES];
    int in_channels;
    int frozen_bn;
    stage st[MAX_STAGES];
} tiny_cnn;

static wb_status create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *h = WB_H(ctx);
    if (n_in != 1) return wb_error(ctx, WB_ERR_INVALID, "tiny_cnn takes one input (the image), got %d", n_in);
    tiny_cnn *m = calloc(1, sizeof *m);
    if (!m) return wb_error(ctx, WB_ERR_NOMEM, "out of memory");
    int n = h->param_list_len(p, "widths");
    if (n < 1 || n > MAX_STAGES) {
        free(m);
        return wb_error(ctx, WB_ERR_INVALID, "widths must have 1..%d entries, got %d", MAX_STAGES, n);
    }
    m->n_stages = n;
    for (int i = 0; i < m->n_stages; i++) m->widths[i] = (int)h->param_int_at(p, "widths", i);
    m->in_channels = in[0].channels;
    m->frozen_bn = h->param_bool(p, "frozen_bn");
    *out = m;
    return WB_OK;
}

static int output_specs(void *inst, wb_feature_spec *out, int max_out) {
    tiny_cnn *m = inst;
    if (max_out < 1) return 1;
    snprintf(out[0].name, sizeof out[0].name, "c%d", m->n_stages);
    out[0].channels = m->widths[m->n_stages - 1];
    out[0].stride = 1 << m->n_stages;
    return 1;
}

static wb_status init_params(void *inst, wb_ctx *ctx) {
    tiny_cnn *m = inst;
    int cin = m->in_channels;
    for (int s = 0; s < m->n_stages; s++) {
        int cout = m->widths[s];
        for (int k = 0; k < 2; k++) {
            char name[64];
            int64_t wshape[4] = {cout, k == 0 ? cin : cout, 3, 3}, cshape[1] = {cout};
            snprintf(name, sizeof name, "stage%d.conv%d.weight", s, k);
            m->st[s].w[k] = wb_param(ctx, name, 4, wshape, wb_init_kaiming_normal_fan_out(), 1);
            snprintf(name, sizeof name, "stage%d.bn%d.weight", s, k);
            m->st[s].gamma[k] = wb_param(ctx, name, 1, cshape, wb_init_constant(1.0f), !m->frozen_bn);
            snprintf(name, sizeof name, "stage%d.bn%d.bias", s, k);
            m->st[s].beta[k] = wb_param(ctx, name, 1, cshape, wb_init_constant(0.0f), !m->frozen_bn);
            snprintf(name, sizeof name, "stage%d.bn%d.running_mean", s, k);
            m->st[s].mean[k] = wb_buffer(ctx, name, 1, cshape, wb_init_constant(0.0f));
            snprintf(name, sizeof name, "stage%d.bn%d.running_var", s, k);
            m->st[s].var[k] = wb_buffer(ctx, name, 1, cshape, wb_init_constant(1.0f));
        }
        cin = cout;
    }
    return wb_ok(ctx);
}

static wb_status forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    tiny_cnn *m = inst;
    (void)n_in;
    (void)n_out;
    wb_tensor *x = in[0];
    /* Batch statistics while training, unless BN is frozen (detection practice). */
    int training = !m->frozen_bn && wb_is_training(ctx);
    for (int s = 0; s < m->n_stages; s++) {
        for (int k = 0; k < 2; k++) {
            wb_conv2d_params cp = wb_conv_p(k == 0 ? 2 : 1, 1, 1, 1);
            x = wb_conv2d(ctx, x, m->st[s].w[k], NULL, &cp);
            x = wb_batch_norm(ctx, x, m->st[s].gamma[k], m->st[s].beta[k], m->st[s].mean[k], m->st[s].var[k],
                              training, 0.1f, 1e-5f);
            x = wb_relu(ctx, x);
        }
    }
    out[0] = x;
    return wb_ok(ctx);
}

static wb_status describe(void *inst, char *buf, size_t size) {
    tiny_cnn *m = inst;
    snprintf(buf, size, "tiny_cnn: %d stages, %d output channels at stride %d", m->n_stages,
             m->widths[m->n_stages - 1], 1 << m->n_stages);
    return WB_OK;
}

static void destroy(void *inst) { free(inst); }

static const wb_param_schema params[] = {
    WB_P_INT_LIST("widths", "[16, 32, 64]", 1, 4096, "output channels of each stage (each halves the resolution)"),
    WB_P_BOOL("frozen_bn", "false", "use running statistics and keep BN affine parameters fixed"),
    WB_PARAM_END,
};

static const wb_module_vtable vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = create,
    .output_specs = output_specs,
    .init_params = init_params,
    .forward = forward,
    .describe = describe,
    .destroy = destroy,
};

static const wb_module_desc tiny_cnn_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_BACKBONE,
    .type_name = "tiny_cnn",
    .summary = "Small plain CNN (conv-BN-ReLU stages, stride 2 each); for quick experiments",
    .params = params,
    .module = &vtable,
};

WB_PLUGIN_DEFINE("tiny_cnn", "0.1.0", "MIT", &tiny_cnn_desc)
