/* What batch norm (norm.c) and group norm (group_norm.c) share: their tape
 * inputs, and when their backward may recover xhat from the output instead
 * of keeping the input. */
#ifndef WB_CORE_OPS_NORM_COMMON_H
#define WB_CORE_OPS_NORM_COMMON_H

#include <stdbool.h>
#include "../runtime/context.h"

/* The op's inputs for the tape in in[]: x, then gamma and beta where given (the
 * saved state remembers which is which). Returns how many. */
int wb_norm_tape_inputs(wb_tensor *x, wb_tensor *gamma, wb_tensor *beta, wb_tensor *in[3]);

/* |gamma| >= 1e-12, finite, and |beta| <= 16 |gamma| in each of the ch channels. */
bool wb_norm_affine_invertible(const wb_context *c, const wb_tensor *gamma, const wb_tensor *beta, int64_t ch);

#endif
