/* TEMPORARY stubs, replaced by model/submodule.c. */
#include <workbench/ops.h>
#include "submodule.h"
wb_submodule *wb_submodule_create(wb_ctx *ctx, const wb_params *section, const char *name,
                                  const wb_feature_spec *in, int n_in) {
    (void)section; (void)name; (void)in; (void)n_in;
    wb_error(ctx, WB_ERR_UNSUPPORTED, "submodules: not implemented yet");
    return NULL;
}
wb_status wb_submodule_forward(wb_ctx *ctx, wb_submodule *m, wb_tensor *const *in, int n_in,
                               wb_tensor **out, int n_out) {
    (void)m; (void)in; (void)n_in; (void)out; (void)n_out;
    return wb_error(ctx, WB_ERR_UNSUPPORTED, "submodules: not implemented yet");
}
