#include "dist.h"
#include "dist_device.h"
#include "dist_module.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const wb_dist_module *g_mod; /* NULL: a single process */
static const wb_dist_module *g_dev; /* the NCCL table for the gradient buckets, or NULL */

/* Whether an MPI launcher (Open MPI's mpirun, a PMI or PMIx one such as srun) started this process. */
static bool launched_by_mpi(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

/* $env_name, else lib/workbench/ next to the binary's bin/ (the build tree, an install with lib/), else the
 * install's library directory. */
static void module_path(const char *env_name, const char *file, char *path, size_t size) {
    const char *env = getenv(env_name);
    if (env && env[0]) {
        snprintf(path, size, "%s", env);
        return;
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    snprintf(path, size, "%s/../lib/workbench/%s", exe, file);
    if (access(path, R_OK) != 0) snprintf(path, size, "%s/%s", WB_DIST_MODULE_INSTALL_DIR, file);
}

wb_status wb_dist_init(char *err, size_t n) {
    if (g_mod || !launched_by_mpi()) return WB_OK;
    char path[PATH_MAX + 64];
    module_path("WB_DIST_MODULE", "libwb_dist_mpi.so", path, sizeof path);
    /* RTLD_GLOBAL: Open MPI's own components, opened by libmpi, resolve libmpi's symbols through it. */
    void *h = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
        snprintf(err, n, "launched by mpirun, but the MPI module cannot be opened: %s (build it with Open MPI's "
                 "libopenmpi-dev installed, or point WB_DIST_MODULE at libwb_dist_mpi.so)", dlerror());
        return WB_ERR_IO;
    }
    wb_dist_module_open_fn open_fn = (wb_dist_module_open_fn)dlsym(h, WB_DIST_MODULE_ENTRY);
    if (!open_fn) {
        snprintf(err, n, "%s has no %s: not a workbench distributed module", path, WB_DIST_MODULE_ENTRY);
        return WB_ERR_IO;
    }
    const wb_dist_module *m = open_fn(err, n);
    if (!m) return WB_ERR_IO;
    if (m->struct_size < sizeof *m || m->version < WB_DIST_MODULE_VERSION) {
        snprintf(err, n, "%s is a distributed module of version %u, this workbench needs %d (non-blocking sums for "
                 "the gradient buckets): rebuild the module with this workbench", path,
                 m->struct_size < sizeof *m ? 1u : m->version, WB_DIST_MODULE_VERSION);
        m->finalize();
        return WB_ERR_IO;
    }
    g_mod = m;
    return WB_OK;
}

void wb_dist_use_module(const wb_dist_module *m) { g_mod = m; }

void wb_dist_finalize(void) {
    if (g_dev) g_dev->finalize(); /* the communicator before the MPI it was set up over */
    if (g_mod) g_mod->finalize();
    g_dev = g_mod = NULL;
}

int wb_dist_rank(void) { return g_mod ? g_mod->rank : 0; }
int wb_dist_world(void) { return g_mod ? g_mod->world : 1; }
const char *wb_dist_name(void) { return g_mod ? g_mod->name : "single process"; }

static wb_status status_of(int rc) { return rc == 0 ? WB_OK : WB_ERR_IO; }

wb_status wb_dist_sum_f32(float *buf, int64_t n, char *err, size_t size) {
    return g_mod && g_mod->world > 1 ? status_of(g_mod->sum_f32(buf, n, err, size)) : WB_OK;
}

wb_status wb_dist_sum_f64(double *buf, int64_t n, char *err, size_t size) {
    return g_mod && g_mod->world > 1 ? status_of(g_mod->sum_f64(buf, n, err, size)) : WB_OK;
}

wb_status wb_dist_broadcast(void *buf, int64_t n, int root, char *err, size_t size) {
    return g_mod && g_mod->world > 1 ? status_of(g_mod->broadcast(buf, n, root, err, size)) : WB_OK;
}

wb_status wb_dist_gather(const void *mine, int64_t n_mine, void **all, int64_t *counts, char *err, size_t size) {
    if (g_mod && g_mod->world > 1) return status_of(g_mod->gather(mine, n_mine, all, counts, err, size));
    counts[0] = n_mine;
    *all = malloc(n_mine > 0 ? (size_t)n_mine : 1);
    if (!*all) {
        snprintf(err, size, "out of memory gathering %lld bytes", (long long)n_mine);
        return WB_ERR_NOMEM;
    }
    if (n_mine > 0) memcpy(*all, mine, (size_t)n_mine);
    return WB_OK;
}

wb_status wb_dist_isum_f32(float *buf, int64_t n, wb_dist_request *request, char *err, size_t size) {
    *request = NULL;
    return g_mod && g_mod->world > 1 ? status_of(g_mod->isum_f32(buf, n, request, err, size)) : WB_OK;
}

bool wb_dist_test(wb_dist_request request) { return !request || g_mod->test(request); }

wb_status wb_dist_wait(wb_dist_request *request, char *err, size_t size) {
    if (!*request) return WB_OK;
    wb_status rc = status_of(g_mod->wait(*request, err, size));
    *request = NULL;
    return rc;
}

void wb_dist_abort(int code) {
    if (g_dev) g_dev->abort(code); /* NCCL's communicator first, then the job */
    if (g_mod) g_mod->abort(code);
    exit(code);
}

bool wb_dist_wants_device_sums(wb_device device, int world) { return device == WB_DEVICE_CUDA && world > 1; }

wb_status wb_dist_open_device(int gpu, void *compute_stream, char *err, size_t n) {
    if (g_dev || !g_mod) return WB_OK;
    char path[PATH_MAX + 64];
    module_path("WB_DIST_NCCL_MODULE", "libwb_dist_nccl.so", path, sizeof path);
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(err, n, "rank %d: the CUDA backend under mpirun sums gradients with NCCL, but the NCCL module cannot "
                 "be opened: %s (build it with NCCL installed, or point WB_DIST_NCCL_MODULE at libwb_dist_nccl.so)",
                 g_mod->rank, dlerror());
        return WB_ERR_IO;
    }
    wb_dist_nccl_open_fn open_fn = (wb_dist_nccl_open_fn)dlsym(h, WB_DIST_NCCL_ENTRY);
    if (!open_fn) {
        snprintf(err, n, "%s has no %s: not a workbench NCCL module", path, WB_DIST_NCCL_ENTRY);
        return WB_ERR_IO;
    }
    g_dev = open_fn(g_mod, gpu, compute_stream, err, n);
    return g_dev ? WB_OK : WB_ERR_IO;
}

bool wb_dist_device_sums(void) { return g_dev != NULL; }

void wb_dist_use_device_module(const wb_dist_module *m) { g_dev = m; }

wb_status wb_dist_isum_device_f32(float *buf, int64_t n, wb_dist_request *request, char *err, size_t size) {
    *request = NULL;
    return status_of(g_dev->isum_f32(buf, n, request, err, size));
}

bool wb_dist_test_device(wb_dist_request request) { return !request || g_dev->test(request); }

wb_status wb_dist_wait_device(wb_dist_request *request, char *err, size_t size) {
    if (!*request) return WB_OK;
    wb_status rc = status_of(g_dev->wait(*request, err, size));
    *request = NULL;
    return rc;
}
