/* tp_varifocal_loss: the Varifocal loss of VarifocalNet (Zhang et al., 2021),
 * with mmdetection's semantics, built out of tree against the installed SDK.
 *
 *   p = sigmoid(pred)
 *   focal_weight = target * [target > 0]                          (iou_weighted)
 *                  or [target > 0]                                (otherwise)
 *                + alpha * |p - target|^gamma * [target <= 0]
 *   loss = bce_with_logits(pred, target) * focal_weight * weight
 *
 * target is the IoU-aware classification score (the IoU of the predicted box
 * with its gt for the gt's class, 0 elsewhere); 0/1 targets make it a focal
 * loss whose positives are not down-weighted. Written only with SDK ops, so
 * the tape gives the gradient (through focal_weight too, as in mmdetection).
 *
 * The loss contract (sdk/include/workbench/module.h): in = [pred, target,
 * weight?], weight already holding the head's 1 / avg_factor; out[0] reduced
 * by `reduction` ("sum", "mean" over elements, "none") times `loss_weight`. */
#include <stdlib.h>
#include <string.h>
#include <workbench/workbench.h>

typedef struct varifocal {
    float alpha, gamma, loss_weight;
    int iou_weighted;
    wb_reduction reduction;
} varifocal;

static const char *const reductions[] = {"none", "sum", "mean", NULL};

static wb_status vfl_create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    const wb_host_api *host = WB_H(ctx);
    (void)in, (void)n_in;
    varifocal *m = calloc(1, sizeof *m);
    if (!m) return wb_error(ctx, WB_ERR_NOMEM, "tp_varifocal_loss: out of memory");
    m->alpha = (float)host->param_float(p, "alpha");
    m->gamma = (float)host->param_float(p, "gamma");
    m->iou_weighted = host->param_bool(p, "iou_weighted");
    m->loss_weight = (float)host->param_float(p, "loss_weight");
    const char *r = host->param_string(p, "reduction");
    m->reduction = strcmp(r, "none") == 0 ? WB_REDUCE_NONE : strcmp(r, "sum") == 0 ? WB_REDUCE_SUM : WB_REDUCE_MEAN;
    *out = m;
    return WB_OK;
}

static int vfl_output_specs(void *inst, wb_feature_spec *out, int max_out) {
    (void)inst;
    if (max_out >= 1) out[0] = (wb_feature_spec){"loss", 1, 0};
    return 1;
}

static wb_status vfl_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    const varifocal *m = inst;
    if (n_in < 2 || n_in > 3 || n_out != 1)
        return wb_error(ctx, WB_ERR_INVALID, "tp_varifocal_loss: takes [pred, target] or [pred, target, weight] "
                        "and gives one output, got %d inputs and %d outputs", n_in, n_out);
    wb_tensor *pred = in[0], *target = in[1];
    wb_tensor *weight = n_in == 3 && in[2] && wb_info(ctx, in[2]).numel > 0 ? in[2] : NULL;
    const int64_t one[1] = {1};
    const float zero_value = 0.0f;
    wb_tensor *zero = wb_tensor_from_host(ctx, 1, one, &zero_value);

    wb_tensor *positive = wb_gt(ctx, target, zero), *negative = wb_le(ctx, target, zero);
    wb_tensor *gap = wb_abs(ctx, wb_sub(ctx, wb_sigmoid(ctx, pred), target));
    wb_tensor *negative_weight = wb_scale(ctx, wb_mul(ctx, wb_pow(ctx, gap, m->gamma), negative), m->alpha);
    wb_tensor *positive_weight = m->iou_weighted ? wb_mul(ctx, target, positive) : positive;
    wb_tensor *focal_weight = wb_add(ctx, positive_weight, negative_weight);

    wb_tensor *loss = wb_mul(ctx, wb_bce_with_logits(ctx, pred, target, NULL, WB_REDUCE_NONE), focal_weight);
    if (weight) loss = wb_mul(ctx, loss, weight);
    if (m->reduction == WB_REDUCE_SUM) loss = wb_sum(ctx, loss, -1, 0);
    if (m->reduction == WB_REDUCE_MEAN) loss = wb_mean(ctx, loss, -1, 0);
    out[0] = m->loss_weight == 1.0f ? loss : wb_scale(ctx, loss, m->loss_weight);
    return wb_ok(ctx);
}

static void vfl_destroy(void *inst) { free(inst); }

static const wb_param_schema vfl_params[] = {
    WB_P_FLOAT("alpha", "0.75", 0.0, 100.0, "weight of the negatives' focal term"),
    WB_P_FLOAT("gamma", "2.0", 0.0, 100.0, "focusing exponent of the negatives: |p - target|^gamma"),
    WB_P_BOOL("iou_weighted", "true", "positives weigh their target (IoU) rather than 1"),
    WB_P_FLOAT("loss_weight", "1.0", 0.0, 1e6, "factor applied to the loss"),
    WB_P_CHOICE("reduction", "\"mean\"", reductions, "none (elementwise), sum, or mean over elements"),
    WB_PARAM_END,
};

static const wb_module_vtable vfl_vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = vfl_create,
    .output_specs = vfl_output_specs,
    .forward = vfl_forward,
    .destroy = vfl_destroy,
};

static const wb_module_desc vfl_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_LOSS,
    .type_name = "tp_varifocal_loss",
    .summary = "Varifocal loss (VarifocalNet) on class logits and IoU-aware targets (out-of-tree example)",
    .params = vfl_params,
    .module = &vfl_vtable,
};

WB_PLUGIN_DEFINE("tp_varifocal_loss", "0.1.0", "MIT", &vfl_desc)
