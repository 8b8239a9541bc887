/* workbench version */
#include <oneapi/dnnl/dnnl.h>
#include <omp.h>
#include <stdio.h>
#include "backends/backend.h"
#include "backends/backend_loader.h"
#include "commands.h"
#include "plugin/build_info.h"

const char wb_help_version[] =
    "Usage: workbench version\n\n"
    "Prints the workbench version, the plugin ABI this host implements (plugins\n"
    "must match the major and need a minor no newer than it), the compute\n"
    "backend with its oneDNN version and thread count, whether the CUDA backend\n"
    "module is there and a CUDA device answers, and the directory\n"
    "`cmake --install` puts plugins in.\n";

static const char *dnnl_runtime_name(unsigned runtime) {
    switch (runtime) {
    case DNNL_RUNTIME_OMP: return "OpenMP";
    case DNNL_RUNTIME_TBB: return "TBB";
    case DNNL_RUNTIME_SEQ: return "sequential";
    case DNNL_RUNTIME_THREADPOOL: return "threadpool";
    default: return "other";
    }
}

int wb_cmd_version(const wb_cli *cli, int argc, char **argv) {
    if (argc > 1) return wb_cli_usage_error("version", "unexpected argument '%s'", argv[1]);
    const dnnl_version_t *v = dnnl_version();
    printf("workbench %s\n", wb_build_version());
    printf("plugin ABI %d.%d (entry point %s)\n", WB_ABI_MAJOR, WB_ABI_MINOR, WB_ENTRY_NAME);
    printf("backend: %s, oneDNN %d.%d.%d (%s runtime, git %s)\n", wb_backend_cpu()->name, v->major, v->minor,
           v->patch, dnnl_runtime_name(v->cpu_runtime), v->hash ? v->hash : "unknown");
    printf("threads: %d%s\n", cli->threads ? cli->threads : omp_get_max_threads(),
           cli->threads ? "" : " (every core; --threads N or WB_THREADS to change)");
    char path[4200], why[768];
    if (!wb_backend_cuda_module_path(path, sizeof path)) {
        printf("cuda: no module in this build (%s not found)\n", path);
    } else {
        const wb_backend *gpu = wb_backend_cuda_open(0, why, sizeof why);
        printf("cuda: module %s; %s%s\n", path, gpu ? "device " : "", gpu ? gpu->name : why);
    }
    printf("plugin install dir: %s\n", wb_build_plugin_install_dir());
    return WB_EXIT_OK;
}
