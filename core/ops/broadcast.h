/* numpy broadcasting for the elementwise front-ends: the result's shape and
 * the geometry the kernels walk (size-1 dims dropped, neighbouring dims
 * merged where every operand allows it). */
#ifndef WB_CORE_OPS_BROADCAST_H
#define WB_CORE_OPS_BROADCAST_H

#include "../backends/kernels_pointwise.h"
#include "../runtime/context.h"

/* False with the ctx error set ("<op>: shapes [..] and [..] do not broadcast
 * (dim d of the result: x vs y)") when the shapes do not broadcast. */
bool wb_broadcast2(wb_context *c, const char *op, const wb_tensor *a, const wb_tensor *b, wb_bcast *g,
                   int *out_ndim, int64_t *out_shape);
/* where(cond, a, b): operands in that order. */
bool wb_broadcast3(wb_context *c, const char *op, const wb_tensor *cond, const wb_tensor *a,
                   const wb_tensor *b, wb_bcast3 *g, int *out_ndim, int64_t *out_shape);

#endif
