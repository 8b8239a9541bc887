/* Memory functions shared by the backends whose memory is host memory. */
#ifndef WB_CORE_HOST_MEMORY_H
#define WB_CORE_HOST_MEMORY_H

#include "backend.h"

void *wb_host_mem_alloc(size_t bytes, wb_buffer_usage usage);
void wb_host_mem_free(void *ptr, wb_buffer_usage usage);
void wb_host_mem_copy(void *dst, const void *src, size_t bytes);
void wb_host_mem_zero(void *dst, size_t bytes);
void wb_host_mem_sync(void);

#endif
