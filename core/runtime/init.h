/* Parameter initializers with torch.nn.init semantics (fans computed the
 * torch way: fan_in = shape[1] * receptive field, fan_out = shape[0] * rf). */
#ifndef WB_CORE_INIT_H
#define WB_CORE_INIT_H

#include <workbench/host.h>

/* Fills host memory `out` (numel floats) for a tensor of the given shape,
 * drawing from the module's RNG stream. Returns WB_ERR_INVALID for an
 * initializer that needs fans on a tensor without two dimensions. */
wb_status wb_init_fill(const wb_init *init, int ndim, const int64_t *shape, uint64_t *rng,
                       float *out);

#endif
