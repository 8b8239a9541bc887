#include "validate_run.h"

#include <string.h>
#include "../config/params.h"
#include "../io/file_read.h"
#include "../model/model.h"
#include "../model/submodule.h"
#include "../runtime/log.h"
#include "data_split.h"
#include "memory_check.h"
#include "module_origin.h"
#include "train_recipe.h"

#define MAX_SUBMODULES 64

static int64_t count_params(wb_session *s, const char *stage, int64_t *trainable) {
    int64_t total = 0;
    size_t len = strlen(stage);
    *trainable = 0;
    for (int i = 0; i < s->n_params; i++) {
        const wb_param_entry *p = &s->params[i];
        if (strncmp(p->name, stage, len) != 0 || p->name[len] != '.' || p->is_buffer) continue;
        total += p->tensor->numel;
        if (p->tensor->trainable) *trainable += p->tensor->numel;
    }
    return total;
}

/* load_from names weights `run` will read: a file that is not there fails
 * here, not after the data has been indexed. */
static int check_load_from(wb_experiment *e, FILE *out) {
    const char *path = wb_params_string(wb_config_params(e->cfg, ""), "load_from");
    if (!path || !path[0]) return 0;
    char why[4096 + 256];
    FILE *f = wb_open_regular(path, why, sizeof why);
    if (f) {
        fclose(f);
        return 0;
    }
    const config_setting_t *s = config_lookup(wb_config_tree(e->cfg), "load_from");
    const char *file = s ? config_setting_source_file(s) : NULL;
    if (file) fprintf(out, "%s:%d: ", file, config_setting_source_line(s));
    fprintf(out, "error: load_from: %s; give a readable safetensors file (a relative path is read from the current "
                 "directory), or load_from = \"\" for no pretrained weights\n", why);
    return 2;
}

/* The stage's sub-modules (its losses) as "name: type [plugin file]". */
static void print_submodules(wb_experiment *e, wb_session *s, const char *stage, FILE *out) {
    wb_submodule_info subs[MAX_SUBMODULES];
    int n = wb_submodule_list(s, subs, MAX_SUBMODULES);
    size_t len = strlen(stage);
    for (int i = 0; i < n && i < MAX_SUBMODULES; i++)
        if (strncmp(subs[i].path, stage, len) == 0 && subs[i].path[len] == '.')
            fprintf(out, "           %s: %s [%s]\n", subs[i].path + len + 1, subs[i].desc->type_name,
                    wb_module_origin(e->reg, subs[i].desc));
}

/* Each data split's input pipeline builds (its transforms are valid). */
static int check_pipelines(wb_experiment *e, FILE *out) {
    static const char *const splits[] = {"train", "val", "test"};
    char err[2048];
    for (int i = 0; i < 3; i++) {
        if (!wb_data_split_exists(e, splits[i])) continue;
        wb_pipeline *p = wb_data_split_pipeline(e, splits[i], err, sizeof err);
        if (!p) {
            fprintf(out, "error: %s\n", err);
            return 2;
        }
        wb_pipeline_destroy(p);
    }
    return 0;
}

/* The stages built so far must fit in memory before their forward runs. */
static wb_status memory_gate(void *user, const wb_model *partial, char *err, size_t n) {
    wb_experiment *e = user;
    return wb_memory_check(e, partial->s, partial, err, n);
}

static void print_model(wb_experiment *e, wb_session *s, const wb_model *m, int size, FILE *out) {
    fprintf(out, "model (checked with a forward on a 1x3x%dx%d input):\n", size, size);
    for (int i = 0; i < m->n_stages; i++) {
        const wb_module_slot *st = &m->stage[i];
        int64_t trainable, total = count_params(s, st->ctx.path, &trainable);
        fprintf(out, "  %-8s %-14s %10lld params (%lld trainable) [%s]\n", st->ctx.path, st->desc->type_name,
                (long long)total, (long long)trainable, wb_module_origin(e->reg, st->desc));
        print_submodules(e, s, st->ctx.path, out);
        for (int k = 0; k < st->n_out; k++) {
            char shp[96];
            fprintf(out, "           -> %-10s %5d channels, stride %3d, got %s\n", st->out_specs[k].name,
                    st->out_specs[k].channels, st->out_specs[k].stride, wb_shape_str(st->out[k], shp, sizeof shp));
        }
    }
    fprintf(out, "valid\n");
}

int wb_validate_run(wb_experiment *e, int size, FILE *out) {
    if (check_load_from(e, out) != 0 || check_pipelines(e, out) != 0) return 2;
    wb_session *s = wb_experiment_session(e, 0, out);
    if (!s) return e->session_exit;
    /* Each module runs on a blank image as soon as it is built, so one that
     * breaks its declared specs is named before the next one is created
     * from them; the memory check comes first, for the modules built so far. */
    wb_context c;
    wb_context_init(&c, s, "validate", false);
    int64_t shape[4] = {1, 3, size, size};
    wb_tensor *blank = wb_ctx_tensor_zeros(&c, 4, shape);
    wb_model *m = NULL;
    char err[2048];
    int rc = 2;
    if (!blank)
        fprintf(out, "error: %s\n", c.msg);
    else if (wb_model_build_probed(s, wb_config_params(e->cfg, "model"), blank, memory_gate, e, &m, err,
                                   sizeof err) != WB_OK)
        fprintf(out, "error: %s\n", err);
    else
        rc = wb_train_recipe_check(e->cfg, s); /* also makes the trainable counts shown the run's */
    if (rc == 0) print_model(e, s, m, size, out);
    wb_model_destroy(m);
    wb_session_destroy(s);
    return rc;
}
