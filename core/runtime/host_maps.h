/* tensor_map / tensor_unmap on a device backend. A mapping is a host copy of
 * the tensor, downloaded when it is mapped (mapping it again while mapped
 * gives the same copy) and uploaded by unmap. So that plugins see what the
 * CPU backend's in-place pointer gives them, a mapping also ends, uploaded,
 * when an op reads the tensor, and at the end of the iteration (uploaded for
 * parameters and buffers; a compute tensor dies then anyway). Storage that
 * is freed drops its mappings unwritten. On a host backend there are none:
 * tensor_map is the data itself. */
#ifndef WB_CORE_HOST_MAPS_H
#define WB_CORE_HOST_MAPS_H

#include "session.h"

/* NULL when out of memory. */
float *wb_host_maps_map(wb_session *s, wb_tensor *t);
void wb_host_maps_unmap(wb_session *s, wb_tensor *t);
/* Op entry: ends the mappings of the inputs' data. */
void wb_host_maps_flush(wb_session *s, wb_tensor *const *in, int n);
/* Backend memory [dev, dev + bytes) is freed: its mappings end unwritten. */
void wb_host_maps_forget(wb_session *s, const float *dev, size_t bytes);
/* Ends every mapping (iteration end, session end). */
void wb_host_maps_end(wb_session *s);

#endif
