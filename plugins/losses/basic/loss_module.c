#include <stdlib.h>
#include <string.h>
#include "loss_module.h"

const char *const loss_reductions[] = {"none", "sum", "mean", NULL};

static wb_reduction reduction_of(const char *s) {
    if (strcmp(s, "none") == 0) return WB_REDUCE_NONE;
    if (strcmp(s, "sum") == 0) return WB_REDUCE_SUM;
    return WB_REDUCE_MEAN; /* the schema admits nothing else */
}

loss_module *loss_module_new(wb_ctx *ctx, const wb_params *p, loss_kind kind, const char *name) {
    const wb_host_api *host = WB_H(ctx);
    loss_module *m = calloc(1, sizeof *m);
    if (!m) {
        wb_error(ctx, WB_ERR_NOMEM, "%s: out of memory", name);
        return NULL;
    }
    m->kind = kind;
    m->name = name;
    m->loss_weight = (float)host->param_float(p, "loss_weight");
    m->reduction = reduction_of(host->param_string(p, "reduction"));
    return m;
}

wb_tensor *loss_weight_input(wb_ctx *ctx, wb_tensor *const *in, int n_in) {
    if (n_in < 3 || !in[2]) return NULL;
    return wb_info(ctx, in[2]).numel > 0 ? in[2] : NULL;
}

wb_status loss_check_io(wb_ctx *ctx, const loss_module *m, int n_in, int n_out) {
    if (n_in < 2 || n_in > 3 || n_out != 1)
        return wb_error(ctx, WB_ERR_INVALID,
                        "%s: takes [pred, target] or [pred, target, weight] and gives one output, got %d inputs "
                        "and %d outputs", m->name, n_in, n_out);
    return WB_OK;
}

wb_tensor *loss_apply_weight(wb_ctx *ctx, const loss_module *m, wb_tensor *loss) {
    return m->loss_weight == 1.0f ? loss : wb_scale(ctx, loss, m->loss_weight);
}

int loss_output_specs(void *instance, wb_feature_spec *out, int max_out) {
    (void)instance;
    if (max_out >= 1) out[0] = (wb_feature_spec){"loss", 1, 0};
    return 1;
}

void loss_destroy(void *instance) { free(instance); }
