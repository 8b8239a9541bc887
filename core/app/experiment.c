#include "experiment.h"

#include <stdlib.h>
#include <string.h>
#include "../backends/backend_loader.h"
#include "../config/config_internal.h"
#include "../config/hyp_apply.h"
#include "../config/params.h"
#include "../data/data_root.h"
#include "../data/transforms.h"
#include "../dist/dist.h"
#include "../dist/local_rank.h"
#include "../runtime/log.h"

static const wb_module_desc *find(void *user, wb_module_kind kind, const char *type) {
    return wb_registry_find(user, kind, type);
}

static int list(void *user, wb_module_kind kind, const char **names, int max) {
    return wb_registry_list(user, kind, names, max);
}

/* Pipeline steps: the built-in transforms, then the transform plugins. */
static const wb_param_schema *find_transform(void *user, const char *type) {
    static const wb_param_schema no_params[] = {WB_PARAM_END};
    const wb_param_schema *builtin = wb_transform_schema(type);
    const wb_module_desc *d = builtin ? NULL : wb_registry_find(user, WB_KIND_TRANSFORM, type);
    return builtin ? builtin : d ? (d->params ? d->params : no_params) : NULL;
}

static int list_transforms(void *user, const char **names, int max) {
    const char *const *all = wb_transform_types();
    int n = 0;
    for (; all[n]; n++)
        if (n < max) names[n] = all[n];
    return n + wb_registry_list(user, WB_KIND_TRANSFORM, names + (n < max ? n : max), max > n ? max - n : 0);
}

static const wb_module_desc *find_transform_plugin(void *user, const char *type) {
    return wb_registry_find(user, WB_KIND_TRANSFORM, type);
}

wb_transform_plugins wb_registry_transform_plugins(wb_registry *reg) {
    return (wb_transform_plugins){reg, find_transform_plugin};
}

static int why_unusable(void *user, wb_module_kind kind, const char *type, char *msg, size_t size) {
    return wb_registry_lookup(user, kind, type, NULL, msg, size) == WB_LOOKUP_AMBIGUOUS;
}

wb_module_lookup wb_registry_module_lookup(wb_registry *reg) {
    return (wb_module_lookup){find, list, find_transform, list_transforms, reg, why_unusable};
}

/* The directory of the experiment file, with its '/', or "". */
static void experiment_dir(const char *exp_path, char *base, size_t size) {
    snprintf(base, size, "%s", exp_path);
    char *slash = strrchr(base, '/');
    if (slash) slash[1] = '\0';
    else base[0] = '\0';
}

/* The experiment's plugin_dirs are relative to the experiment file. */
static void add_experiment_dirs(wb_experiment *e, const char *exp_path) {
    config_setting_t *dirs = config_lookup(wb_config_tree(e->cfg), "plugin_dirs");
    int n = dirs ? config_setting_length(dirs) : 0;
    char base[4096];
    experiment_dir(exp_path, base, sizeof base);
    for (int i = 0; i < n; i++) {
        const char *d = config_setting_get_string_elem(dirs, i);
        if (!d) continue;
        char full[8192];
        snprintf(full, sizeof full, "%s%s", d[0] == '/' ? "" : base, d);
        wb_search_path_add(&e->sp, full, "plugin_dirs");
    }
}

/* plugins.prefer, before validation looks types up: paths relative to the
 * experiment file, bare file names as they are. Mistakes become config errors. */
static void apply_prefer(wb_experiment *e, const char *exp_path) {
    config_setting_t *prefer = config_lookup(wb_config_tree(e->cfg), "plugins.prefer");
    int n = prefer && config_setting_is_aggregate(prefer) ? config_setting_length(prefer) : 0;
    char base[4096];
    experiment_dir(exp_path, base, sizeof base);
    for (int i = 0; i < n; i++) {
        const char *file = config_setting_get_string_elem(prefer, i);
        if (!file) continue; /* not a string: validation says so */
        char full[8192];
        snprintf(full, sizeof full, "%s%s", file[0] != '/' && strchr(file, '/') ? base : "", file);
        if (wb_registry_prefer_file(e->reg, full) != WB_OK)
            wb_cfg_error_at(e->cfg, prefer, "%s", wb_registry_error(e->reg));
    }
}

int wb_experiment_open(wb_experiment *e, const wb_experiment_args *a, FILE *out) {
    memset(e, 0, sizeof *e);
    wb_search_path_init(&e->sp);
    e->cfg = wb_config_new();
    e->reg = wb_registry_new();
    if (!e->cfg || !e->reg) {
        fprintf(out, "error: out of memory\n");
        return 1;
    }
    e->lookup = wb_registry_module_lookup(e->reg);
    if (wb_config_load(e->cfg, a->path) > 0) {
        wb_config_print_errors(e->cfg, out);
        return wb_config_error_count(e->cfg);
    }
    /* Override mistakes are reported together with the validation's. */
    for (int i = 0; i < a->n_overrides; i++) wb_config_override(e->cfg, a->overrides[i]);
    for (int i = 0; i < a->n_plugin_dirs; i++) wb_search_path_add(&e->sp, a->plugin_dirs[i], "--plugin-dir");
    add_experiment_dirs(e, a->path);
    wb_search_path_add_defaults(&e->sp);
    wb_registry_scan(e->reg, &e->sp);
    for (int i = 0; i < wb_registry_num_plugins(e->reg); i++) {
        const wb_plugin_record *r = wb_registry_plugin(e->reg, i);
        if (!r->accepted) fprintf(out, "warning: plugin %s REJECTED: %s\n", r->path, r->reason);
    }
    apply_prefer(e, a->path);
    /* after the plugins: hyp loss gains go to the head's own parameters */
    if (a->hyp) wb_hyp_apply(e->cfg, a->hyp, &e->lookup, out);
    if (a->data_only) wb_config_validate_data(e->cfg, &e->lookup);
    else wb_config_validate(e->cfg, &e->lookup);
    if (wb_config_error_count(e->cfg) > 0) {
        wb_config_print_errors(e->cfg, out);
        return wb_config_error_count(e->cfg);
    }
    wb_data_root_fill(e->cfg, &e->lookup);
    return 0;
}

void wb_experiment_close(wb_experiment *e) {
    wb_config_free(e->cfg);
    wb_registry_free(e->reg);
    wb_search_path_free(&e->sp);
    memset(e, 0, sizeof *e);
}

/* Under mpirun the CUDA backend's gradients are summed by NCCL on the GPUs
 * (dist.h); the rest of the job's collectives stay on MPI. */
static int open_nccl(const wb_backend *gpu, int device, FILE *out) {
    if (!wb_dist_wants_device_sums(gpu->device, wb_dist_world())) return 0;
    char why[768];
    void *stream = wb_backend_cuda_compute_stream();
    if (!stream) {
        fprintf(out, "error: the CUDA backend module predates NCCL training (it has no %s): rebuild it with this "
                "workbench, or run one process\n", WB_BACKEND_CUDA_STREAM_ENTRY);
        return -1;
    }
    if (wb_dist_open_device(device, stream, why, sizeof why) != WB_OK) {
        fprintf(out, "error: %s\n", why);
        return -1;
    }
    wb_log_once("dist-nccl", WB_LOG_INFO, NULL, "gradient sums on the GPUs with NCCL");
    return 0;
}

/* backend = "cuda[:N]" or "auto": the CUDA backend, with the experiment's
 * amp and tf32, or NULL for the CPU (auto without a device, said in one log
 * line). "auto" under mpirun is the local rank's GPU, as "cuda". -1 when an
 * explicit cuda cannot be had, or NCCL for several ranks: the machine lacks
 * it, a runtime failure (exit 1). */
static int open_cuda(const char *backend, const wb_params *root, const wb_backend **gpu, FILE *out) {
    const char *amp = wb_params_string(root, "amp");
    *gpu = NULL;
    if (strcmp(backend, "cpu") == 0) return 0;
    int device = wb_launcher_cuda_device(getenv);
    bool is_auto = !wb_backend_parse_cuda(backend, &device);
    char why[768];
    if ((*gpu = wb_backend_cuda_open_amp(device, amp, wb_params_bool(root, "tf32"), why, sizeof why))) {
        wb_log_once("backend-cuda", WB_LOG_INFO, NULL, "backend = \"%s\": %s", backend, (*gpu)->name);
        if (strcmp(amp, "none") != 0)
            wb_log_once("amp-cuda", WB_LOG_INFO, NULL, "amp = \"%s\": convolutions and matrix products with %s "
                        "inputs and fp32 accumulation; weights, norms, activations, losses and the optimizer in "
                        "fp32", amp, strcmp(amp, "bf16") == 0 ? "bfloat16" : "float16");
        return open_nccl(*gpu, device, out);
    }
    if (is_auto) {
        wb_log_once("backend-auto", WB_LOG_INFO, NULL, "backend = \"auto\": %s; running on the CPU", why);
        return 0;
    }
    fprintf(out, "error: backend = \"%s\": %s; set backend = \"cpu\" or \"auto\" to run on the CPU\n", backend,
            why);
    return -1;
}

wb_session *wb_experiment_session(wb_experiment *e, int threads, FILE *out) {
    const wb_params *root = wb_config_params(e->cfg, "");
    const char *backend = wb_params_string(root, "backend");
    const wb_backend *gpu;
    e->session_exit = 2; /* the experiment asks for what cannot be */
    if (open_cuda(backend, root, &gpu, out) != 0) {
        e->session_exit = 1; /* this machine lacks what it asks for */
        return NULL;
    }
    /* fp16 compute is the GPU's mixed precision: oneDNN trains on the CPU in bf16, not fp16. */
    if (!gpu && strcmp(wb_params_string(root, "amp"), "fp16") == 0) {
        fprintf(out, "error: amp = \"fp16\" needs backend = \"cuda\" (half-precision compute with loss scaling on a "
                     "GPU); backend = \"%s\" runs on the CPU here, whose mixed precision is bf16: set amp = \"bf16\" "
                     "(a CPU with AVX512_BF16 or AMX) or amp = \"none\"\n", backend);
        return NULL;
    }
    const wb_backend *be = gpu; /* NULL: the CPU backend (or WB_BACKEND's) */
    if (!gpu && strcmp(wb_params_string(root, "amp"), "bf16") == 0) {
        char why[320];
        if (!(be = wb_backend_cpu_bf16(why, sizeof why))) {
            fprintf(out, "error: %s\n", why);
            return NULL;
        }
        wb_log_once("amp-bf16", WB_LOG_INFO, NULL, "amp = \"bf16\": convolutions and matrix products in bfloat16 "
                    "with fp32 accumulation; weights, batch norm, activations, losses and the optimizer in fp32");
    }
    wb_session *s = wb_session_create(be, (uint64_t)wb_params_int(root, "seed"));
    if (!s) {
        fprintf(out, "error: out of memory\n");
        return NULL;
    }
    /* --threads / WB_THREADS win over the experiment's `threads`. */
    int n = threads > 0 ? threads : (int)wb_params_int(root, "threads");
    if (n > 0) wb_set_threads(s, n);
    s->find_module = wb_registry_find_module;
    s->find_user = e->reg;
    return s;
}
