/* Custom ops: plugin-computed forward, plugin backward, replayed by the tape
 * (host.h, "custom ops", has the contract). */
#ifndef WB_CORE_CUSTOM_OP_H
#define WB_CORE_CUSTOM_OP_H

#include <workbench/host.h>

wb_status wb_host_record_custom(wb_ctx *ctx, const char *name, wb_tensor *const *inputs, int n_in,
                                wb_tensor *const *outputs, int n_out,
                                wb_custom_backward_fn backward, void *state);
wb_status wb_host_record_custom_op(wb_ctx *ctx, const wb_custom_op *op);

#endif
