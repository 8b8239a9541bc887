/* The CPU backend: oneDNN primitives and OpenMP kernels on host memory. A
 * family whose optimized table is missing runs the reference kernels. */
#include <pthread.h>
#include "../families.h"
#include "../host_memory.h"
#include "dnnl_common.h"

static wb_backend g_cpu;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

#define OR_REF(fam) (wb_cpu_##fam##_kernels() ? wb_cpu_##fam##_kernels() : wb_ref_##fam##_kernels())

static void build(void) {
    g_cpu = (wb_backend){
        .name = "cpu",
        .device = WB_DEVICE_CPU,
        .alloc = wb_host_mem_alloc,
        .free = wb_host_mem_free,
        .upload = wb_host_mem_copy,
        .download = wb_host_mem_copy,
        .copy = wb_host_mem_copy,
        .zero = wb_host_mem_zero,
        .synchronize = wb_host_mem_sync,
        .set_threads = NULL,
        .attach_scratch = wb_dnnl_scratch_attach,
        .detach_scratch = wb_dnnl_scratch_detach,
        .conv = OR_REF(conv),
        .dense = OR_REF(dense),
        .pointwise = OR_REF(pointwise),
        .loss = OR_REF(loss),
        .optim = OR_REF(optim),
        .gather = OR_REF(gather),
        .norm = OR_REF(norm),
        .boxes = wb_ref_box_kernels(),
        .layout = wb_cpu_layout_kernels(),
    };
}

const wb_backend *wb_backend_cpu(void) {
    pthread_once(&g_once, build);
    return &g_cpu;
}
