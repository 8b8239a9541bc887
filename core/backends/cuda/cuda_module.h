/* The CUDA module's own runtime, shared by its files but not with the kernel
 * files (those see cuda_context.h): the device, the two streams, the
 * allocator and the transfers. */
#ifndef WB_CORE_CUDA_MODULE_H
#define WB_CORE_CUDA_MODULE_H

#include <stddef.h>
#include <cuda_runtime_api.h>
#include "../backend.h"
#include "cuda_allocator.h"

/* Selects device `device` after checking that a driver and that device
 * answer; its description ("NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB") in
 * desc. -1 with the reason in why. */
int wb_cuda_device_select(int device, char *desc, size_t desc_size, char *why, size_t why_size);

/* The compute and copy streams and the events between them. */
void wb_cuda_streams_create(void);
cudaStream_t wb_cuda_copy_stream(void);
/* Waits for the compute stream; afterwards every freed block is settled. */
void wb_cuda_synchronize(void);

/* The caching allocator over the selected device (created on first use). */
wb_cuda_allocator *wb_cuda_device_allocator(void);
void *wb_cuda_alloc(size_t bytes, wb_buffer_usage usage);
void wb_cuda_free(void *ptr, wb_buffer_usage usage);

/* Host <-> device through pinned staging buffers; device copies and zeroing
 * on the compute stream. */
void wb_cuda_upload(void *dst, const void *host_src, size_t bytes);
void wb_cuda_download(void *host_dst, const void *src, size_t bytes);
void wb_cuda_copy(void *dst, const void *src, size_t bytes);
void wb_cuda_zero(void *dst, size_t bytes);

#endif
