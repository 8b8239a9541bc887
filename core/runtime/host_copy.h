/* The host/device boundary for core code. Tensor data and gradients are
 * backend memory: on a host backend (device CPU) host code may read it in
 * place, on a device backend only kernels and upload/download/copy/zero may
 * touch it. Every host access outside a kernel goes through these calls,
 * which are the memory itself (no copy) on a host backend and a malloc'd
 * copy on a device backend. */
#ifndef WB_CORE_HOST_COPY_H
#define WB_CORE_HOST_COPY_H

#include <stdbool.h>
#include <stdint.h>
#include "../backends/backend.h"

static inline bool wb_backend_host_memory(const wb_backend *be) { return be->device == WB_DEVICE_CPU; }

/* n floats at src, readable on the host; NULL when out of memory. End with wb_host_read_end. */
const float *wb_host_read(const wb_backend *be, const float *src, int64_t n);
void wb_host_read_end(const wb_backend *be, const float *src, const float *view);
/* One float of backend memory. */
float wb_host_read_value(const wb_backend *be, const float *src);

/* A host buffer for n floats to be stored at dst (dst itself on a host
 * backend, uninitialised otherwise); NULL when out of memory.
 * wb_host_write_end stores it and frees the copy. */
float *wb_host_write(const wb_backend *be, float *dst, int64_t n);
void wb_host_write_end(const wb_backend *be, float *dst, float *host, int64_t n);

/* Host views that must outlive the call that takes them (a safetensors
 * writer keeps pointers until it writes): freed together. */
typedef struct wb_host_copies {
    const wb_backend *be;
    float **copies;
    int n, cap;
    bool failed;      /* a copy could not be made (out of memory) */
} wb_host_copies;

void wb_host_copies_init(wb_host_copies *c, const wb_backend *be);
/* src itself on a host backend, else a copy kept until wb_host_copies_free. */
const float *wb_host_copies_read(wb_host_copies *c, const float *src, int64_t n);
void wb_host_copies_free(wb_host_copies *c);

#endif
