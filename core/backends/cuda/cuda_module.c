/* libwb_backend_cuda.so's entry point (declared in backend_loader.h): the
 * core dlopens the module when an experiment asks for CUDA and calls this,
 * its exported entry (v2: with amp and TF32; v1: fp32), which checks the
 * device and assembles the table. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "../backend_loader.h"
#include "../kernels_dense.h"
#include "amp_cuda.h"
#include "cuda_context.h"
#include "cuda_families.h"
#include "cuda_module.h"

static wb_backend g_backend;
static wb_dense_kernels g_dense; /* the fp32 table with amp's gemm */
static char g_name[192];
static int g_device = -1;
static char g_amp[8];

static void no_threads(int n) { (void)n; } /* the host threads are the core's, kernels are the GPU's */

/* amp's tables over the fp32 ones: convolutions and the gemm in bf16 or
 * fp16 with fp32 accumulation; the rest (norms, activations, losses, the
 * optimizer over fp32 master weights) fp32, as torch.autocast splits them. */
static void use_amp(wb_cuda_amp format) {
    g_dense = *g_backend.dense;
    g_dense.gemm = wb_cuda_amp_gemm(format);
    g_backend.dense = &g_dense;
    g_backend.conv = wb_cuda_amp_conv_kernels(format);
}

/* amp: "none", "bf16" or "fp16"; tf32: TF32 tensor cores for the fp32
 * convolutions and matrix products (those amp leaves in fp32 included). */
__attribute__((visibility("default"))) const wb_backend *wb_backend_cuda_open_v3(int device, const char *amp,
                                                                                 int tf32, char *why,
                                                                                 size_t why_size) {
    bool bf16 = strcmp(amp, "bf16") == 0, f16 = strcmp(amp, "fp16") == 0;
    if (!bf16 && !f16 && strcmp(amp, "none") != 0) {
        snprintf(why, why_size, "the CUDA backend has no amp = \"%s\" (none, bf16 or fp16)", amp);
        return NULL;
    }
    if (g_device >= 0) {
        if (device == g_device && strcmp(amp, g_amp) == 0) {
            wb_cuda_set_tf32(tf32);
            return &g_backend;
        }
        snprintf(why, why_size, "the CUDA backend already runs on cuda:%d with amp = \"%s\"; one process uses one "
                 "device and one precision (asked for cuda:%d with amp = \"%s\")", g_device, g_amp, device, amp);
        return NULL;
    }
    char desc[128];
    if (wb_cuda_device_select(device, desc, sizeof desc, why, why_size) != 0) return NULL;
    wb_cuda_streams_create();
    wb_cuda_set_tf32(tf32);
    snprintf(g_name, sizeof g_name, "cuda:%d (%s)%s%s%s", device, desc, bf16 || f16 ? " (amp " : "",
             bf16 ? "bf16)" : f16 ? "fp16)" : "", tf32 ? " (tf32)" : "");
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
        .boxes = wb_cuda_box_kernels(),
    };
    if (bf16 || f16) use_amp(bf16 ? WB_CUDA_AMP_BF16 : WB_CUDA_AMP_F16);
    snprintf(g_amp, sizeof g_amp, "%s", amp);
    g_device = device;
    return &g_backend;
}

/* For the NCCL module (core/dist/dist_device.h): the stream the kernels run on. */
__attribute__((visibility("default"))) void *wb_backend_cuda_compute_stream_v1(void) {
    return g_device >= 0 ? (void *)wb_cuda_compute_stream() : NULL;
}

/* v3 for cores that predate the box family: they read the table up to
 * `norm`, which is where it ended then. */
__attribute__((visibility("default"))) const wb_backend *wb_backend_cuda_open_v2(int device, const char *amp,
                                                                                 int tf32, char *why,
                                                                                 size_t why_size) {
    return wb_backend_cuda_open_v3(device, amp, tf32, why, why_size);
}

/* The first contract (fp32, no TF32), kept for cores that predate amp. */
__attribute__((visibility("default"))) const wb_backend *wb_backend_cuda_open_v1(int device, char *why,
                                                                                 size_t why_size) {
    return wb_backend_cuda_open_v3(device, "none", 0, why, why_size);
}
