/* The reference backend: plain single-threaded C kernels on host memory. */
#include <pthread.h>
#include "../families.h"
#include "../host_memory.h"

static wb_backend g_ref;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build(void) {
    g_ref = (wb_backend){
        .name = "ref",
        .device = WB_DEVICE_CPU,
        .alloc = wb_host_mem_alloc,
        .free = wb_host_mem_free,
        .upload = wb_host_mem_copy,
        .download = wb_host_mem_copy,
        .copy = wb_host_mem_copy,
        .zero = wb_host_mem_zero,
        .synchronize = wb_host_mem_sync,
        .set_threads = NULL,
        .conv = wb_ref_conv_kernels(),
        .dense = wb_ref_dense_kernels(),
        .pointwise = wb_ref_pointwise_kernels(),
        .loss = wb_ref_loss_kernels(),
        .optim = wb_ref_optim_kernels(),
        .gather = wb_ref_gather_kernels(),
        .norm = wb_ref_norm_kernels(),
        .boxes = wb_ref_box_kernels(),
    };
}

const wb_backend *wb_backend_ref(void) {
    pthread_once(&g_once, build);
    return &g_ref;
}
