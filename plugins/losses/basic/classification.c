/* Classification losses: sigmoid focal loss and cross entropy (softmax over
 * class indices, or per-class sigmoid on 0/1 targets). */
#include "loss_module.h"

static wb_status focal_create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    (void)in, (void)n_in;
    loss_module *m = loss_module_new(ctx, p, LOSS_FOCAL, "focal_loss");
    if (!m) return wb_ok(ctx);
    m->gamma = (float)WB_H(ctx)->param_float(p, "gamma");
    m->alpha = (float)WB_H(ctx)->param_float(p, "alpha");
    *out = m;
    return WB_OK;
}

/* pred: logits [..]; target: 0/1 per class, same shape. */
static wb_status focal_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    loss_module *m = inst;
    if (loss_check_io(ctx, m, n_in, n_out) != WB_OK) return wb_ok(ctx);
    wb_tensor *l = wb_sigmoid_focal_loss(ctx, in[0], in[1], loss_weight_input(ctx, in, n_in), m->gamma, m->alpha,
                                         m->reduction);
    out[0] = loss_apply_weight(ctx, m, l);
    return wb_ok(ctx);
}

static wb_status ce_create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    (void)in, (void)n_in;
    loss_module *m = loss_module_new(ctx, p, LOSS_CROSS_ENTROPY, "cross_entropy");
    if (!m) return wb_ok(ctx);
    m->use_sigmoid = WB_H(ctx)->param_bool(p, "use_sigmoid");
    *out = m;
    return WB_OK;
}

/* Softmax: pred [N, C], target [N] class indices (as floats, -1 ignored),
 * weight [N]. Sigmoid: target and weight have pred's shape. */
static wb_status ce_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    loss_module *m = inst;
    if (loss_check_io(ctx, m, n_in, n_out) != WB_OK) return wb_ok(ctx);
    wb_tensor *w = loss_weight_input(ctx, in, n_in);
    wb_tensor *l = m->use_sigmoid ? wb_bce_with_logits(ctx, in[0], in[1], w, m->reduction)
                                  : wb_softmax_cross_entropy(ctx, in[0], in[1], w, m->reduction);
    out[0] = loss_apply_weight(ctx, m, l);
    return wb_ok(ctx);
}

static const wb_param_schema focal_params[] = {
    WB_P_FLOAT("gamma", "2.0", 0.0, 100.0, "focusing exponent: (1 - p_t)^gamma down-weights easy examples"),
    WB_P_FLOAT("alpha", "0.25", -1.0, 1.0, "weight of the positives (1 - alpha for negatives); negative: off"),
    LOSS_COMMON_PARAMS,
    WB_PARAM_END,
};

static const wb_param_schema ce_params[] = {
    WB_P_BOOL("use_sigmoid", "false", "true: per-class sigmoid on 0/1 targets; false: softmax over class indices"),
    LOSS_COMMON_PARAMS,
    WB_PARAM_END,
};

static const wb_module_vtable focal_vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = focal_create,
    .output_specs = loss_output_specs,
    .forward = focal_forward,
    .destroy = loss_destroy,
};

static const wb_module_vtable ce_vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = ce_create,
    .output_specs = loss_output_specs,
    .forward = ce_forward,
    .destroy = loss_destroy,
};

const wb_module_desc focal_loss_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_LOSS,
    .type_name = "focal_loss",
    .summary = "Sigmoid focal loss (RetinaNet) on class logits and 0/1 targets",
    .params = focal_params,
    .module = &focal_vtable,
};

const wb_module_desc cross_entropy_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_LOSS,
    .type_name = "cross_entropy",
    .summary = "Cross entropy: softmax over class indices, or per-class sigmoid (use_sigmoid)",
    .params = ce_params,
    .module = &ce_vtable,
};
