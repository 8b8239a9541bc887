/* The module's two streams. Every kernel runs on the compute stream, in the
 * tape's order; uploads run on the copy stream so that moving the next
 * batch to the device can overlap kernels (cuda_transfer.c orders the two
 * with events). Both are non-blocking: the legacy default stream, which
 * would serialise them, is never used. Also the error exit and the TF32
 * switch every kernel file shares. */
#include <stdio.h>
#include <stdlib.h>
#include "cuda_context.h"
#include "cuda_module.h"

static cudaStream_t g_compute, g_copy;
static int g_tf32;

void wb_cuda_streams_create(void) {
    if (g_compute) return;
    WB_CUDA_CHECK(cudaStreamCreateWithFlags(&g_compute, cudaStreamNonBlocking));
    WB_CUDA_CHECK(cudaStreamCreateWithFlags(&g_copy, cudaStreamNonBlocking));
}

cudaStream_t wb_cuda_compute_stream(void) { return g_compute; }
cudaStream_t wb_cuda_copy_stream(void) { return g_copy; }

void wb_cuda_synchronize(void) {
    WB_CUDA_CHECK(cudaStreamSynchronize(g_compute));
    wb_cuda_allocator_settle(wb_cuda_device_allocator());
}

void wb_cuda_fail(const char *what, const char *detail, const char *file, int line) {
    fprintf(stderr, "error: CUDA backend: %s failed: %s (%s:%d)\n", what, detail ? detail : "", file, line);
    exit(1);
}

int wb_cuda_tf32(void) { return g_tf32; }
void wb_cuda_set_tf32(int on) { g_tf32 = on != 0; }
