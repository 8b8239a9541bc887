#include "backend_loader.h"

#include <dlfcn.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../dist/local_rank.h"

bool wb_backend_parse_cuda(const char *spec, int *device) {
    if (strcmp(spec, "cuda") == 0) {
        *device = wb_launcher_cuda_device(getenv); /* one GPU per rank under mpirun */
        return true;
    }
    if (strncmp(spec, "cuda:", 5) != 0 || spec[5] < '0' || spec[5] > '9') return false;
    char *end;
    long n = strtol(spec + 5, &end, 10);
    if (*end || n > 1023) return false;
    *device = (int)n;
    return true;
}

bool wb_backend_cuda_module_path(char *path, size_t size) {
    const char *env = getenv("WB_CUDA_MODULE");
    if (env && env[0]) {
        snprintf(path, size, "%s", env);
        return access(path, R_OK) == 0;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    snprintf(path, size, "%s/../lib/workbench/libwb_backend_cuda.so", exe);
    if (access(path, R_OK) == 0) return true;
    snprintf(path, size, "%s/libwb_backend_cuda.so", WB_DIST_MODULE_INSTALL_DIR);
    return access(path, R_OK) == 0;
}

const wb_backend *wb_backend_cuda_open(int device, char *why, size_t why_size) {
    return wb_backend_cuda_open_amp(device, "none", false, why, why_size);
}

static wb_backend_cuda_stream_fn g_stream_fn;

void *wb_backend_cuda_compute_stream(void) { return g_stream_fn ? g_stream_fn() : NULL; }

/* The session runs on a copy of the first `end` bytes of the module's
 * table, the families after them NULL: a module older than the box family
 * (no v3) hands out a table that ends before `boxes` (the box ops then
 * refuse, naming the fix), and every module's ends before `layout`
 * (blocked activations are the CPU backend's alone). */
static const wb_backend *table_up_to(const wb_backend *be, size_t end) {
    static wb_backend prefix;
    if (!be) return NULL;
    memset(&prefix, 0, sizeof prefix);
    memcpy(&prefix, be, end);
    return &prefix;
}

const wb_backend *wb_backend_cuda_open_amp(int device, const char *amp, bool tf32, char *why, size_t why_size) {
    static wb_backend_cuda_open_fn open_fn;
    static wb_backend_cuda_open_v2_fn open_v2_fn, open_v3_fn;
    if (!open_fn) {
        char path[PATH_MAX + 64];
        if (!wb_backend_cuda_module_path(path, sizeof path)) {
            snprintf(why, why_size, "this build has no CUDA backend module (%s not found; build with nvcc, cuBLAS "
                     "and cuDNN installed and cmake -DWB_CUDA=ON, or point WB_CUDA_MODULE at it)", path);
            return NULL;
        }
        /* Kept open for the process: the CUDA runtime inside cannot be unloaded safely. */
        void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            snprintf(why, why_size, "the CUDA backend module cannot be loaded: %s (install the CUDA libraries it "
                     "needs: cuBLAS, cuDNN)", dlerror());
            return NULL;
        }
        if (!(open_fn = (wb_backend_cuda_open_fn)dlsym(h, WB_BACKEND_CUDA_ENTRY))) {
            snprintf(why, why_size, "%s has no %s: not a CUDA backend module of this workbench version", path,
                     WB_BACKEND_CUDA_ENTRY);
            dlclose(h);
            return NULL;
        }
        open_v2_fn = (wb_backend_cuda_open_v2_fn)dlsym(h, WB_BACKEND_CUDA_ENTRY_V2);
        open_v3_fn = (wb_backend_cuda_open_v2_fn)dlsym(h, WB_BACKEND_CUDA_ENTRY_V3);
        g_stream_fn = (wb_backend_cuda_stream_fn)dlsym(h, WB_BACKEND_CUDA_STREAM_ENTRY);
    }
    int tf = tf32 ? 1 : 0;
    if (open_v3_fn) return table_up_to(open_v3_fn(device, amp, tf, why, why_size), offsetof(wb_backend, layout));
    if (open_v2_fn) return table_up_to(open_v2_fn(device, amp, tf, why, why_size), offsetof(wb_backend, boxes));
    if (strcmp(amp, "none") != 0 || tf32) {
        snprintf(why, why_size, "the CUDA backend module predates amp and TF32 (it has no %s): rebuild it with this "
                 "workbench, or set amp = \"none\" and tf32 = false", WB_BACKEND_CUDA_ENTRY_V2);
        return NULL;
    }
    return table_up_to(open_fn(device, why, why_size), offsetof(wb_backend, boxes));
}
