/* Host <-> device copies. Uploads go through a ring of pinned staging slots
 * on the copy stream: the host copies the next chunk into a free slot while
 * the DMA engine moves the previous one, the caller's buffer is free again
 * when upload returns, and the compute stream waits (an event, not the
 * host) for the data only where a later kernel could read it. A destination
 * whose memory the compute stream may still be using (reused from the cache
 * since the last synchronisation) makes the copy stream wait for the
 * compute stream first. Downloads run on the compute stream, after the
 * kernels that produce the data, and wait for it on the host. */
#include <string.h>
#include "cuda_context.h"
#include "cuda_module.h"

#define SLOT_BYTES ((size_t)8 << 20)
#define SLOTS 4

typedef struct staging_slot {
    void *host;        /* pinned */
    cudaEvent_t done;  /* its last DMA finished: the slot may be overwritten */
} staging_slot;

static staging_slot g_up[SLOTS];
static int g_next_up;
static void *g_down;   /* pinned, SLOT_BYTES */
static cudaEvent_t g_compute_mark, g_uploaded;

static void staging_init(void) {
    if (g_down) return;
    for (int i = 0; i < SLOTS; i++) {
        WB_CUDA_CHECK(cudaMallocHost(&g_up[i].host, SLOT_BYTES));
        WB_CUDA_CHECK(cudaEventCreateWithFlags(&g_up[i].done, cudaEventDisableTiming));
    }
    WB_CUDA_CHECK(cudaMallocHost(&g_down, SLOT_BYTES));
    WB_CUDA_CHECK(cudaEventCreateWithFlags(&g_compute_mark, cudaEventDisableTiming));
    WB_CUDA_CHECK(cudaEventCreateWithFlags(&g_uploaded, cudaEventDisableTiming));
}

void wb_cuda_upload(void *dst, const void *host_src, size_t bytes) {
    if (!bytes) return;
    staging_init();
    cudaStream_t copy = wb_cuda_copy_stream(), compute = wb_cuda_compute_stream();
    if (!wb_cuda_allocator_settled(wb_cuda_device_allocator(), dst)) {
        WB_CUDA_CHECK(cudaEventRecord(g_compute_mark, compute));
        WB_CUDA_CHECK(cudaStreamWaitEvent(copy, g_compute_mark, 0));
    }
    for (size_t at = 0; at < bytes; at += SLOT_BYTES) {
        size_t n = bytes - at < SLOT_BYTES ? bytes - at : SLOT_BYTES;
        staging_slot *s = &g_up[g_next_up];
        g_next_up = (g_next_up + 1) % SLOTS;
        WB_CUDA_CHECK(cudaEventSynchronize(s->done));
        memcpy(s->host, (const char *)host_src + at, n);
        WB_CUDA_CHECK(cudaMemcpyAsync((char *)dst + at, s->host, n, cudaMemcpyHostToDevice, copy));
        WB_CUDA_CHECK(cudaEventRecord(s->done, copy));
    }
    WB_CUDA_CHECK(cudaEventRecord(g_uploaded, copy));
    WB_CUDA_CHECK(cudaStreamWaitEvent(compute, g_uploaded, 0));
}

void wb_cuda_download(void *host_dst, const void *src, size_t bytes) {
    if (!bytes) return;
    staging_init();
    for (size_t at = 0; at < bytes; at += SLOT_BYTES) {
        size_t n = bytes - at < SLOT_BYTES ? bytes - at : SLOT_BYTES;
        WB_CUDA_CHECK(cudaMemcpyAsync(g_down, (const char *)src + at, n, cudaMemcpyDeviceToHost,
                                      wb_cuda_compute_stream()));
        wb_cuda_synchronize();
        memcpy((char *)host_dst + at, g_down, n);
    }
}

void wb_cuda_copy(void *dst, const void *src, size_t bytes) {
    if (bytes) WB_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, wb_cuda_compute_stream()));
}

void wb_cuda_zero(void *dst, size_t bytes) {
    if (bytes) WB_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, wb_cuda_compute_stream()));
}
