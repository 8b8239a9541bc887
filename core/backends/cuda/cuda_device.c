/* Which GPU the backend runs on, and a reason a person can act on when
 * there is none: no driver, a driver older than the runtime, no device, or
 * a device number past the last one. */
#include <stdio.h>
#include "cuda_module.h"

static void no_devices_reason(cudaError_t err, char *why, size_t why_size) {
    int driver = 0;
    cudaDriverGetVersion(&driver);
    if (err == cudaErrorStubLibrary)
        snprintf(why, why_size, "no CUDA driver: the libcuda.so.1 found is the CUDA toolkit's stub (lib64/stubs), "
                 "not the NVIDIA driver: take the stubs directory out of LD_LIBRARY_PATH");
    else if (err == cudaErrorInsufficientDriver && driver == 0)
        snprintf(why, why_size, "no CUDA driver: libcuda.so.1 (the NVIDIA driver) is not installed or not found "
                 "by the dynamic loader");
    else if (err == cudaErrorInsufficientDriver)
        snprintf(why, why_size, "the CUDA driver (version %d.%d) is older than this module's CUDA runtime "
                 "(%d.%d): update the NVIDIA driver", driver / 1000, driver % 1000 / 10, CUDART_VERSION / 1000,
                 CUDART_VERSION % 1000 / 10);
    else if (err == cudaErrorNoDevice || err == cudaSuccess)
        snprintf(why, why_size, "no CUDA device: the driver sees no GPU (check nvidia-smi and "
                 "CUDA_VISIBLE_DEVICES)");
    else
        snprintf(why, why_size, "no CUDA device: %s (%s)", cudaGetErrorString(err), cudaGetErrorName(err));
}

int wb_cuda_device_select(int device, char *desc, size_t desc_size, char *why, size_t why_size) {
    int n = 0;
    cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess || n == 0) {
        no_devices_reason(err, why, why_size);
        return -1;
    }
    if (device < 0 || device >= n) {
        snprintf(why, why_size, "no CUDA device cuda:%d: this machine has %d (cuda:0 .. cuda:%d)", device, n, n - 1);
        return -1;
    }
    struct cudaDeviceProp p;
    if ((err = cudaGetDeviceProperties(&p, device)) != cudaSuccess || (err = cudaSetDevice(device)) != cudaSuccess) {
        snprintf(why, why_size, "CUDA device cuda:%d does not answer: %s", device, cudaGetErrorString(err));
        return -1;
    }
    /* The module carries code for sm_80 and sm_90 (and PTX the driver can compile for newer ones). */
    if (p.major < 8) {
        snprintf(why, why_size, "CUDA device cuda:%d (%s) has compute capability %d.%d; the CUDA backend needs 8.0 "
                 "or newer (Ampere, Hopper, ...)", device, p.name, p.major, p.minor);
        return -1;
    }
    snprintf(desc, desc_size, "%s, sm_%d%d, %.1f GiB", p.name, p.major, p.minor,
             (double)p.totalGlobalMem / (double)(1u << 30));
    return 0;
}
