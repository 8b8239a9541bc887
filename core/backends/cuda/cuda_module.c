/* libwb_backend_cuda.so's entry point (declared in backend_loader.h): the
 * core dlopens the module when an experiment asks for CUDA and calls this,
 * its one exported symbol, which checks the device and assembles the table. */
#include <stdio.h>
#include "../backend_loader.h"
#include "cuda_context.h"
#include "cuda_families.h"
#include "cuda_module.h"

static wb_backend g_backend;
static char g_name[160];
static int g_device = -1;

static void no_threads(int n) { (void)n; } /* the host threads are the core's, kernels are the GPU's */

__attribute__((visibility("default"))) const wb_backend *wb_backend_cuda_open_v1(int device, char *why,
                                                                                 size_t why_size) {
    if (g_device >= 0) {
        if (device == g_device) return &g_backend;
        snprintf(why, why_size, "the CUDA backend already runs on cuda:%d; one process uses one device (asked "
                 "for cuda:%d)", g_device, device);
        return NULL;
    }
    char desc[128];
    if (wb_cuda_device_select(device, desc, sizeof desc, why, why_size) != 0) return NULL;
    wb_cuda_streams_create();
    snprintf(g_name, sizeof g_name, "cuda:%d (%s)", device, desc);
    g_backend = (wb_backend){
        .name = g_name,
        .device = WB_DEVICE_CUDA,
        .alloc = wb_cuda_alloc,
        .free = wb_cuda_free,
        .upload = wb_cuda_upload,
        .download = wb_cuda_download,
        .copy = wb_cuda_copy,
        .zero = wb_cuda_zero,
        .synchronize = wb_cuda_synchronize,
        .set_threads = no_threads,
        .conv = wb_cuda_conv_kernels(),
        .dense = wb_cuda_dense_kernels(),
        .pointwise = wb_cuda_pointwise_kernels(),
        .loss = wb_cuda_loss_kernels(),
        .optim = wb_cuda_optim_kernels(),
        .gather = wb_cuda_gather_kernels(),
        .norm = wb_cuda_norm_kernels(),
    };
    g_device = device;
    return &g_backend;
}
