#include "host_memory.h"

#include <stdlib.h>
#include <string.h>

void *wb_host_mem_alloc(size_t bytes, wb_buffer_usage usage) {
    (void)usage;
    return aligned_alloc(64, (bytes + 63) & ~(size_t)63);
}

void wb_host_mem_free(void *ptr, wb_buffer_usage usage) {
    (void)usage;
    free(ptr);
}

void wb_host_mem_copy(void *dst, const void *src, size_t bytes) {
    if (bytes) memmove(dst, src, bytes);
}

void wb_host_mem_zero(void *dst, size_t bytes) {
    if (bytes) memset(dst, 0, bytes);
}

void wb_host_mem_sync(void) {}
