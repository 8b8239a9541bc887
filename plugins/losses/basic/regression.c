/* Box regression losses: smooth L1 and L1 on deltas, and the IoU family
 * (iou, giou, diou, ciou) on decoded x1,y1,x2,y2 boxes. */
#include <string.h>
#include "loss_module.h"

static wb_status l1_create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    (void)in, (void)n_in;
    loss_module *m = loss_module_new(ctx, p, LOSS_L1, "l1");
    if (!m) return wb_ok(ctx);
    *out = m;
    return WB_OK;
}

static wb_status smooth_l1_create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in,
                                  void **out) {
    (void)in, (void)n_in;
    loss_module *m = loss_module_new(ctx, p, LOSS_SMOOTH_L1, "smooth_l1");
    if (!m) return wb_ok(ctx);
    m->beta = (float)WB_H(ctx)->param_float(p, "beta");
    *out = m;
    return WB_OK;
}

/* pred, target and weight share one shape. */
static wb_status l1_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    loss_module *m = inst;
    if (loss_check_io(ctx, m, n_in, n_out) != WB_OK) return wb_ok(ctx);
    wb_tensor *w = loss_weight_input(ctx, in, n_in);
    wb_tensor *l = m->kind == LOSS_SMOOTH_L1 ? wb_smooth_l1_loss(ctx, in[0], in[1], w, m->beta, m->reduction)
                                             : wb_l1_loss(ctx, in[0], in[1], w, m->reduction);
    out[0] = loss_apply_weight(ctx, m, l);
    return wb_ok(ctx);
}

static wb_iou_mode iou_mode_of(const char *type) {
    if (strcmp(type, "giou") == 0) return WB_GIOU;
    if (strcmp(type, "diou") == 0) return WB_DIOU;
    if (strcmp(type, "ciou") == 0) return WB_CIOU;
    return WB_IOU;
}

static wb_status iou_create(wb_ctx *ctx, const wb_params *p, const wb_feature_spec *in, int n_in, void **out) {
    (void)in, (void)n_in;
    const char *type = WB_H(ctx)->param_string(p, "type");
    wb_iou_mode mode = iou_mode_of(type ? type : "iou");
    static const char *const names[] = {"iou", "giou", "diou", "ciou"};
    loss_module *m = loss_module_new(ctx, p, LOSS_IOU_FAMILY, names[mode]);
    if (!m) return wb_ok(ctx);
    m->iou_mode = mode;
    m->eps = (float)WB_H(ctx)->param_float(p, "eps");
    *out = m;
    return WB_OK;
}

/* pred, target [N, 4]; weight [N], or [N, 4] reduced to its row mean. */
static wb_status iou_forward(void *inst, wb_ctx *ctx, wb_tensor *const *in, int n_in, wb_tensor **out, int n_out) {
    loss_module *m = inst;
    if (loss_check_io(ctx, m, n_in, n_out) != WB_OK) return wb_ok(ctx);
    wb_tensor *w = loss_weight_input(ctx, in, n_in);
    if (w && wb_info(ctx, w).ndim == 2) {
        /* Only the deltas' [N, 4] weight has a meaningful row mean. */
        wb_tensor_info wi = wb_info(ctx, w), pi = wb_info(ctx, in[0]);
        if (wi.shape[1] != 4 || wi.shape[0] != pi.shape[0])
            return wb_error(ctx, WB_ERR_INVALID,
                            "%s: weight has shape [%lld, %lld]; give one weight per box [N] or the box deltas' "
                            "weight [N, 4] (averaged per box), N being the %lld rows of pred", m->name,
                            (long long)wi.shape[0], (long long)wi.shape[1], (long long)pi.shape[0]);
        w = wb_mean(ctx, w, 1, 0);
    }
    wb_tensor *l = wb_iou_loss(ctx, in[0], in[1], w, m->iou_mode, m->eps, m->reduction);
    out[0] = loss_apply_weight(ctx, m, l);
    return wb_ok(ctx);
}

static const wb_param_schema l1_params[] = {
    LOSS_COMMON_PARAMS,
    WB_PARAM_END,
};

static const wb_param_schema smooth_l1_params[] = {
    WB_P_FLOAT("beta", "1.0", 0.0, 1e6, "quadratic below |x| < beta, linear above (0: plain L1)"),
    LOSS_COMMON_PARAMS,
    WB_PARAM_END,
};

static const wb_param_schema iou_params[] = {
    WB_P_FLOAT("eps", "1e-6", 0.0, 1.0, "added to the union (and enclosing box) so empty boxes stay finite"),
    LOSS_COMMON_PARAMS,
    WB_PARAM_END,
};

static const wb_module_vtable l1_vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = l1_create,
    .output_specs = loss_output_specs,
    .forward = l1_forward,
    .destroy = loss_destroy,
};

static const wb_module_vtable smooth_l1_vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = smooth_l1_create,
    .output_specs = loss_output_specs,
    .forward = l1_forward,
    .destroy = loss_destroy,
};

static const wb_module_vtable iou_vtable = {
    .struct_size = sizeof(wb_module_vtable),
    .create = iou_create,
    .output_specs = loss_output_specs,
    .forward = iou_forward,
    .destroy = loss_destroy,
};

#define LOSS_DESC(var, type_, summary_, params_, vtable_)                                            \
    const wb_module_desc var = {.struct_size = sizeof(wb_module_desc), .kind = WB_KIND_LOSS,          \
                                .type_name = type_, .summary = summary_, .params = params_,           \
                                .module = &vtable_}

LOSS_DESC(l1_desc, "l1", "L1 loss on box deltas", l1_params, l1_vtable);
LOSS_DESC(smooth_l1_desc, "smooth_l1", "Smooth L1 (Huber) loss on box deltas", smooth_l1_params, smooth_l1_vtable);
LOSS_DESC(iou_desc, "iou", "1 - IoU of decoded boxes", iou_params, iou_vtable);
LOSS_DESC(giou_desc, "giou", "Generalized IoU loss of decoded boxes", iou_params, iou_vtable);
LOSS_DESC(diou_desc, "diou", "Distance IoU loss of decoded boxes", iou_params, iou_vtable);
LOSS_DESC(ciou_desc, "ciou", "Complete IoU loss of decoded boxes", iou_params, iou_vtable);
