/* The CPU backend with amp = "bf16": the same backend with its convolution
 * table and its gemm swapped for bfloat16 ones (inputs rounded to bf16,
 * fp32 accumulation and outputs). Everything else - batch norm, activations,
 * losses, the optimizer and the master weights - stays fp32, the split
 * torch.autocast makes on the CPU. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "../families.h"
#include "../kernels_dense.h"
#include "amp_bf16.h"
#include "dnnl_common.h"

static wb_backend g_backend;
static wb_dense_kernels g_dense;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void build(void) {
    g_backend = *wb_backend_cpu();
    g_backend.name = "cpu (amp bf16)";
    g_dense = *g_backend.dense;
    g_dense.gemm = wb_cpu_gemm_bf16;
    g_backend.dense = &g_dense;
    g_backend.conv = wb_cpu_conv_bf16_kernels();
}

static const char *isa_name(dnnl_cpu_isa_t isa) {
    switch (isa) {
    case dnnl_cpu_isa_sse41: return "SSE4.1";
    case dnnl_cpu_isa_avx: return "AVX";
    case dnnl_cpu_isa_avx2: return "AVX2";
    case dnnl_cpu_isa_avx2_vnni: return "AVX2_VNNI";
    case dnnl_cpu_isa_avx512_core: return "AVX512_CORE";
    case dnnl_cpu_isa_avx512_core_vnni: return "AVX512_CORE_VNNI";
    default: return "an instruction set without bfloat16";
    }
}

/* oneDNN emulates bf16 on plain AVX-512 at a fraction of fp32's speed, so
 * amp needs the real instructions (AVX512_BF16, or AMX which implies them).
 * The ISA oneDNN reports is also capped by ONEDNN_MAX_CPU_ISA. */
const wb_backend *wb_backend_cpu_bf16(char *why, size_t why_size) {
    dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    if (((unsigned)isa & (unsigned)dnnl_cpu_isa_avx512_core_bf16) != (unsigned)dnnl_cpu_isa_avx512_core_bf16) {
        const char *cap = getenv("ONEDNN_MAX_CPU_ISA");
        snprintf(why, why_size,
                 "amp = \"bf16\" needs a CPU with AVX512_BF16 or AMX instructions, and oneDNN finds %s here%s%s%s; "
                 "set amp = \"none\" to train and infer in fp32",
                 isa_name(isa), cap ? " (ONEDNN_MAX_CPU_ISA=" : "", cap ? cap : "", cap ? ")" : "");
        return NULL;
    }
    pthread_once(&g_once, build);
    return &g_backend;
}
