/* basic losses: the shared glue of every loss module in this plugin.
 *
 * Call convention (every module): forward(in = [pred, target, weight]) ->
 * out[0]. The weight is optional: pass n_in = 2, a NULL in[2] or a tensor with
 * no elements for "every element weighs 1"; otherwise it has the shape of the
 * elementwise loss (the iou family also takes the [N, 4] weight of the box
 * deltas and uses its row mean, as mmdetection does). out[0] is the scalar
 * loss for "sum" and "mean", the elementwise loss for "none", multiplied by
 * loss_weight in every case. "mean" divides by the number of elements (for
 * the softmax cross entropy: of rows whose label is not -1, mmdetection's
 * avg_non_ignore), not by the weight sum; a head that normalises by something
 * else (mmdetection's avg_factor) asks for "sum" and scales the result
 * itself. tests/unit/test_loss_modules.c checks all of this against torch. */
#ifndef LOSS_MODULE_H
#define LOSS_MODULE_H

#include <workbench/workbench.h>

typedef enum loss_kind {
    LOSS_FOCAL,
    LOSS_CROSS_ENTROPY,
    LOSS_SMOOTH_L1,
    LOSS_L1,
    LOSS_IOU_FAMILY
} loss_kind;

typedef struct loss_module {
    loss_kind kind;
    const char *name;     /* the type name, for messages */
    float loss_weight;
    wb_reduction reduction;
    float gamma, alpha;   /* focal_loss */
    int use_sigmoid;      /* cross_entropy */
    float beta;           /* smooth_l1 */
    wb_iou_mode iou_mode; /* iou family */
    float eps;            /* iou family */
} loss_module;

/* Creates the instance of `kind`, reading the keys common to every loss;
 * the caller reads its own keys into the returned instance. */
loss_module *loss_module_new(wb_ctx *ctx, const wb_params *p, loss_kind kind, const char *name);

/* The weight input of a forward call, NULL when absent (see above). */
wb_tensor *loss_weight_input(wb_ctx *ctx, wb_tensor *const *in, int n_in);

/* Checks the number of inputs and outputs of a forward call. */
wb_status loss_check_io(wb_ctx *ctx, const loss_module *m, int n_in, int n_out);

/* Multiplies by loss_weight (skipped when it is 1, to keep the tape short). */
wb_tensor *loss_apply_weight(wb_ctx *ctx, const loss_module *m, wb_tensor *loss);

/* Schema entries and vtable members shared by every loss module. */
#define LOSS_COMMON_PARAMS                                                                             \
    WB_P_FLOAT("loss_weight", "1.0", 0.0, 1e6, "factor applied to the loss"),                          \
    WB_P_CHOICE("reduction", "\"mean\"", loss_reductions, "none (elementwise), sum, or mean over elements")

extern const char *const loss_reductions[];

int loss_output_specs(void *instance, wb_feature_spec *out, int max_out);
void loss_destroy(void *instance);

#endif
