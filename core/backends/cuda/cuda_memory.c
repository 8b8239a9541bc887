/* Device memory of the backend: weights and activations from the caching
 * allocator (cuda_allocator.c) over cudaMalloc, host-visible staging buffers
 * as pinned host memory, and the kernels' scratch. Running out of device
 * memory ends the run with the allocator's figures: nothing the caller could
 * do would make the same step fit. */
#include <stdint.h>
#include <stdio.h>
#include "cuda_context.h"
#include "cuda_module.h"

static wb_cuda_allocator *g_alloc;

static void *device_malloc(void *ctx, size_t bytes) {
    (void)ctx;
    void *p = NULL;
    cudaError_t err = cudaMalloc(&p, bytes);
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError(); /* clear it: running out is an answer, not a sticky error */
        return NULL;
    }
    WB_CUDA_CHECK(err);
    return p;
}

static void device_free(void *ctx, void *ptr) {
    (void)ctx;
    WB_CUDA_CHECK(cudaFree(ptr));
}

static void device_synchronize(void *ctx) {
    (void)ctx;
    WB_CUDA_CHECK(cudaStreamSynchronize(wb_cuda_compute_stream()));
}

wb_cuda_allocator *wb_cuda_device_allocator(void) {
    if (!g_alloc) {
        static const wb_cuda_device_ops ops = { NULL, device_malloc, device_free, device_synchronize };
        g_alloc = wb_cuda_allocator_create(&ops, 0);
        if (!g_alloc) wb_cuda_fail("creating the device allocator", "out of host memory", __FILE__, __LINE__);
    }
    return g_alloc;
}

static void *device_alloc(size_t bytes, const char *what) {
    void *p = wb_cuda_allocator_alloc(wb_cuda_device_allocator(), bytes);
    if (!p) {
        char stats[256], detail[400];
        wb_cuda_allocator_describe(g_alloc, stats, sizeof stats);
        snprintf(detail, sizeof detail, "out of device memory for %zu bytes (%s); lower the batch size or the "
                 "image size", bytes, stats);
        wb_cuda_fail(what, detail, __FILE__, __LINE__);
    }
    return p;
}

void *wb_cuda_alloc(size_t bytes, wb_buffer_usage usage) {
    if (usage != WB_BUF_STAGING) return device_alloc(bytes, "allocating a tensor");
    void *p = NULL;
    WB_CUDA_CHECK(cudaMallocHost(&p, bytes ? bytes : 1));
    return p;
}

void wb_cuda_free(void *ptr, wb_buffer_usage usage) {
    if (!ptr) return;
    if (usage == WB_BUF_STAGING) {
        WB_CUDA_CHECK(cudaFreeHost(ptr));
        return;
    }
    if (!g_alloc || !wb_cuda_allocator_free(g_alloc, ptr))
        wb_cuda_fail("freeing a tensor", "the pointer is not a block of the device allocator", __FILE__, __LINE__);
}

void *wb_cuda_scratch_alloc(size_t bytes) { return device_alloc(bytes, "allocating kernel scratch"); }

void wb_cuda_scratch_free(void *ptr, size_t bytes) {
    (void)bytes; /* the allocator knows its blocks' sizes */
    wb_cuda_free(ptr, WB_BUF_COMPUTE);
}
