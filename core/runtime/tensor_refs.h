/* References on compute tensors' pool memory (see wb_storage in tensor.h)
 * and the pool-backed gradients of activations. Tensors without storage
 * (parameters, buffers, borrowed data) are left alone by every call. */
#ifndef WB_CORE_TENSOR_REFS_H
#define WB_CORE_TENSOR_REFS_H

#include "../tensor/tensor.h"
#include "session.h"

void wb_storage_retain(wb_tensor *t);
/* Drops one reference; the last one gives the memory back to the pool. */
void wb_storage_drop(wb_session *s, wb_tensor *t);
/* Drops the owner's reference of t, once: t's data stays readable only
 * while a view or a tape node still holds it. */
void wb_tensor_release(wb_session *s, wb_tensor *t);

/* A gradient buffer for t (uninitialised): from the weights arena for a
 * parameter, from the pool for an activation. NULL when out of memory. */
float *wb_grad_alloc(wb_session *s, wb_tensor *t);
/* Frees an activation's gradient once nothing will read it again. */
void wb_grad_free(wb_session *s, wb_tensor *t);

#endif
