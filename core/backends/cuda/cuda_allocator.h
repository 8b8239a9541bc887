/* The CUDA backend's caching device allocator. cudaMalloc and cudaFree
 * synchronise the device and cost far more than a kernel, so memory goes
 * back into a cache instead of to the device, and the next iteration's same
 * shapes find their blocks there: after the first iterations a training
 * step makes no device allocation at all.
 *
 * - Sizes round up to 512 bytes. Requests up to 1 MiB share 2 MiB segments,
 *   larger ones get segments of their own (20 MiB for those under 10 MiB, so
 *   several medium tensors share one); a free block larger than asked for is
 *   split and neighbours merge again when both are free.
 * - Reuse is stream-ordered: every kernel runs on the one compute stream, so
 *   a block freed on the host can serve the next launch at once (it runs
 *   after whatever still uses the old contents). Work on another stream (the
 *   copy stream's uploads) asks wb_cuda_allocator_settled first.
 * - A limit on reserved device memory: past it, or when the device itself
 *   is full, cached segments that hold no live block go back to the device
 *   and the request is retried before it fails.
 *
 * Plain C without CUDA types: the device is reached through
 * wb_cuda_device_ops, so tests/unit/test_cuda_allocator.c drives it with a
 * host mock. Not thread-safe: the training thread owns the device. */
#ifndef WB_CORE_CUDA_ALLOCATOR_H
#define WB_CORE_CUDA_ALLOCATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WB_CUDA_ALLOC_ROUND 512
#define WB_CUDA_SMALL_MAX ((size_t)1 << 20)     /* requests up to this share small segments */
#define WB_CUDA_SMALL_SEGMENT ((size_t)2 << 20)
#define WB_CUDA_MEDIUM_MAX ((size_t)10 << 20)   /* requests below this share 20 MiB segments */
#define WB_CUDA_MEDIUM_SEGMENT ((size_t)20 << 20)
#define WB_CUDA_LARGE_ROUND ((size_t)2 << 20)

typedef struct wb_cuda_device_ops {
    void *ctx;
    /* Device memory, or NULL when the device has none left. */
    void *(*malloc)(void *ctx, size_t bytes);
    void (*free)(void *ctx, void *ptr);
    /* Waits until the compute stream is idle: before cached segments go
     * back to the device, no launch may still use them. */
    void (*synchronize)(void *ctx);
} wb_cuda_device_ops;

typedef struct wb_cuda_alloc_stats {
    size_t allocated;      /* bytes in live blocks (rounded sizes) */
    size_t reserved;       /* bytes in device segments: allocated + cached */
    size_t cached;         /* reserved - allocated */
    size_t peak_allocated;
    size_t peak_reserved;
    uint64_t device_mallocs;
    uint64_t device_frees;
    uint64_t releases;     /* times cached segments were given back to make room */
    uint64_t failures;     /* requests that failed after the release and retry */
} wb_cuda_alloc_stats;

typedef struct wb_cuda_allocator wb_cuda_allocator;

/* limit: most bytes reserved from the device at once; 0 = no limit but the
 * device's. NULL when out of host memory. */
wb_cuda_allocator *wb_cuda_allocator_create(const wb_cuda_device_ops *ops, size_t limit);
/* Gives every segment back to the device (live blocks included). */
void wb_cuda_allocator_destroy(wb_cuda_allocator *a);

/* A block of at least `bytes` (0 is a valid 512-byte block), or NULL when
 * neither the cache nor the device (after releasing the cache) has room
 * within the limit. */
void *wb_cuda_allocator_alloc(wb_cuda_allocator *a, size_t bytes);
/* ptr must come from wb_cuda_allocator_alloc of this allocator (NULL is
 * ignored). Returns false, changing nothing, for a pointer it does not own. */
bool wb_cuda_allocator_free(wb_cuda_allocator *a, void *ptr);

/* Whether ptr is the start of a live block whose memory has no compute
 * work pending: fresh device memory, or freed before the last
 * wb_cuda_allocator_settle. Work on another stream that writes a block that
 * is not settled (or a pointer into a block) waits for the compute stream. */
bool wb_cuda_allocator_settled(const wb_cuda_allocator *a, const void *ptr);
/* The host has waited for the compute stream: every earlier free is done. */
void wb_cuda_allocator_settle(wb_cuda_allocator *a);

/* Gives cached segments that hold no live block back to the device. */
void wb_cuda_allocator_release_cached(wb_cuda_allocator *a);
wb_cuda_alloc_stats wb_cuda_allocator_stats(const wb_cuda_allocator *a);
/* "allocated 1.2 GiB, cached 300 MiB, peak 2.0 GiB, limit 10 GiB, 42 device mallocs" for failure messages. */
void wb_cuda_allocator_describe(const wb_cuda_allocator *a, char *buf, size_t size);

#endif
