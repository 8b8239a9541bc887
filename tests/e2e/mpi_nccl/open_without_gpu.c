/* Opens libwb_dist_nccl.so (argv[1]) as rank 1 of 2 on device 1 with a
 * stand-in MPI table: on a machine without a GPU it must refuse, naming the
 * rank and the CUDA call, before any collective (the caller then ends the
 * job, so no rank is left waiting for this one). Prints the reason. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include "dist/dist_device.h"

static int g_collectives;

static int fake_broadcast(void *buf, int64_t n, int root, char *err, size_t size) {
    (void)buf, (void)n, (void)root, (void)err, (void)size;
    g_collectives++;
    return 0;
}

int main(int argc, char **argv) {
    void *h = argc == 2 ? dlopen(argv[1], RTLD_NOW | RTLD_LOCAL) : NULL;
    if (!h) {
        fprintf(stderr, "cannot open the module: %s\n", argc == 2 ? dlerror() : "usage: open_without_gpu MODULE");
        return 1;
    }
    wb_dist_nccl_open_fn open_fn = (wb_dist_nccl_open_fn)dlsym(h, WB_DIST_NCCL_ENTRY);
    if (!open_fn) {
        fprintf(stderr, "no %s\n", WB_DIST_NCCL_ENTRY);
        return 1;
    }
    wb_dist_module host = {.struct_size = sizeof host, .rank = 1, .world = 2, .local_rank = 1,
                           .name = "stand-in MPI", .broadcast = fake_broadcast,
                           .version = WB_DIST_MODULE_VERSION};
    char err[512] = "";
    const wb_dist_module *m = open_fn(&host, 1, NULL, err, sizeof err);
    printf("%s\n", err);
    if (m) {
        fprintf(stderr, "the module opened without a GPU\n");
        return 1;
    }
    if (g_collectives) {
        fprintf(stderr, "the module took part in %d collectives before failing\n", g_collectives);
        return 1;
    }
    return strstr(err, "cudaSetDevice(1) failed on rank 1: ") ? 0 : 1;
}
