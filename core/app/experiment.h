/* An experiment opened for work: its config loaded with bases and overrides,
 * the plugins of its search path loaded, and everything validated, before
 * anything is allocated or written. Shared by `run`, `validate` and friends. */
#ifndef WB_CORE_EXPERIMENT_H
#define WB_CORE_EXPERIMENT_H

#include <stdio.h>
#include "../config/config.h"
#include "../data/transforms.h"
#include "../plugin/registry.h"
#include "../plugin/search_path.h"
#include "../runtime/session.h"

typedef struct wb_experiment_args {
    const char *path;
    const char *const *overrides;   /* "a.b=value" */
    int n_overrides;
    const char *hyp;                /* --hyp: a YOLOv5 hyp file, or NULL (see config/hyp_apply.h) */
    const char *const *plugin_dirs; /* --plugin-dir, before the experiment's own */
    int n_plugin_dirs;
    bool data_only;                 /* check: a config without a model section is complete */
} wb_experiment_args;

typedef struct wb_experiment {
    wb_config *cfg;
    wb_registry *reg;
    wb_search_path sp;
    wb_module_lookup lookup;
    int session_exit; /* after a NULL wb_experiment_session: 1 (no such device here) or 2 (a config mistake) */
} wb_experiment;

/* What config validation needs to know of the registry and the transforms. */
wb_module_lookup wb_registry_module_lookup(wb_registry *reg);
/* Where pipelines find the transform plugins of the registry. */
wb_transform_plugins wb_registry_transform_plugins(wb_registry *reg);

/* 0 when the experiment is valid; otherwise every problem has been printed
 * to `out` and the return value is the number of problems. */
int wb_experiment_open(wb_experiment *e, const wb_experiment_args *a, FILE *out);
void wb_experiment_close(wb_experiment *e);

/* A session as the experiment asks for it (backend, seed, threads; threads > 0
 * from the command line wins), finding modules in the experiment's registry.
 * NULL with a message on out when the backend cannot be had (the exit code
 * it means in e->session_exit). backend = "cuda", "cuda:N" or "auto" opens
 * the CUDA module (core/backends/backend_loader.h). */
wb_session *wb_experiment_session(wb_experiment *e, int threads, FILE *out);

#endif
