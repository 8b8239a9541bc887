/* SyncBN (train.sync_bn, PyTorch's SyncBatchNorm): in training, batch norm
 * normalises with the statistics of the whole batch over every rank. The
 * forward all-reduces per-channel sums (the mean, then the squared
 * deviations from it: two passes, as the kernels'), the backward the
 * per-channel sums of dy and dy * xhat; gamma and beta keep their local
 * gradients (the gradient all-reduce averages them as every other). Only
 * the batch_norm op calls it, when enabled and world > 1. */
#ifndef WB_CORE_SYNC_BN_H
#define WB_CORE_SYNC_BN_H

#include <stdbool.h>
#include "../backends/kernels_dense.h"
#include "../runtime/context.h"

void wb_sync_bn_enable(bool on);
bool wb_sync_bn_enabled(void);

/* batch_norm in training mode across the ranks; a has n, c, hw, eps and
 * momentum of this rank's input (validated by the caller). */
wb_tensor *wb_sync_batch_norm(wb_context *c, wb_tensor *x, wb_tensor *gamma, wb_tensor *beta,
                              wb_tensor *running_mean, wb_tensor *running_var, const wb_bn_args *a);

#endif
