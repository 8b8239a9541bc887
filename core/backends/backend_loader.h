/* The backends that live in modules of their own: the CUDA backend is
 * libwb_backend_cuda.so, opened with dlopen only when an experiment asks for
 * it, so the workbench binary links no CUDA library and starts on machines
 * that have none. */
#ifndef WB_CORE_BACKEND_LOADER_H
#define WB_CORE_BACKEND_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include "backend.h"

/* The CUDA module's exported entries (core/backends/cuda/cuda_module.c):
 * the backend on device `device`, or NULL with the reason in why. The _vN
 * is the contract's version: a core and a module that disagree on
 * wb_backend's layout find no symbol rather than the wrong table. v2 adds
 * amp ("none", "bf16", "fp16") and TF32 for the fp32 convolutions and
 * matrix products; v1 is v2 with "none" and no TF32. v3 is v2's call whose
 * table goes on to the box family (wb_backend.boxes); v1 and v2 tables end
 * before it. */
#define WB_BACKEND_CUDA_ENTRY "wb_backend_cuda_open_v1"
#define WB_BACKEND_CUDA_ENTRY_V2 "wb_backend_cuda_open_v2"
#define WB_BACKEND_CUDA_ENTRY_V3 "wb_backend_cuda_open_v3"
typedef const wb_backend *(*wb_backend_cuda_open_fn)(int device, char *why, size_t why_size);
typedef const wb_backend *(*wb_backend_cuda_open_v2_fn)(int device, const char *amp, int tf32, char *why,
                                                        size_t why_size);
const wb_backend *wb_backend_cuda_open_v1(int device, char *why, size_t why_size);
const wb_backend *wb_backend_cuda_open_v2(int device, const char *amp, int tf32, char *why, size_t why_size);
const wb_backend *wb_backend_cuda_open_v3(int device, const char *amp, int tf32, char *why, size_t why_size);
/* The opened backend's compute stream (a cudaStream_t; NULL before it is
 * opened): what the NCCL module orders the gradient sums after and before. */
#define WB_BACKEND_CUDA_STREAM_ENTRY "wb_backend_cuda_compute_stream_v1"
typedef void *(*wb_backend_cuda_stream_fn)(void);
void *wb_backend_cuda_compute_stream_v1(void);

/* "cuda" is cuda:0, or under a launcher the GPU of the rank's local rank
 * (dist/local_rank.h); "cuda:N" is device N. False for anything else. */
bool wb_backend_parse_cuda(const char *spec, int *device);

/* Where the CUDA module is looked for: WB_CUDA_MODULE, else
 * lib/workbench/ beside the binary's bin/ (a build tree, an install), else
 * the install's library directory. True when that file exists. */
bool wb_backend_cuda_module_path(char *path, size_t size);

/* The CUDA backend on device `device`, or NULL with the reason in why: the
 * module is missing or cannot be loaded (dlopen's message: a CUDA library it
 * needs is absent), no driver, no such device. Opening again returns the
 * same backend. */
const wb_backend *wb_backend_cuda_open(int device, char *why, size_t why_size);

/* The same with mixed precision (amp = "none", "bf16" or "fp16") and TF32
 * switched on or off; a module with only the v1 entry runs amp = "none"
 * without TF32 and refuses the rest. */
const wb_backend *wb_backend_cuda_open_amp(int device, const char *amp, bool tf32, char *why, size_t why_size);

/* The opened CUDA backend's compute stream, or NULL (not opened, or a module
 * that predates the export). */
void *wb_backend_cuda_compute_stream(void);

#endif
