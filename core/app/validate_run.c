#include "validate_run.h"

#include <string.h>
#include "../model/model.h"
#include "../runtime/log.h"
#include "data_split.h"
#include "memory_check.h"

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

int wb_validate_run(wb_experiment *e, int size, FILE *out) {
    wb_session *s = wb_experiment_session(e, 0, out);
    if (!s) return 2;
    wb_model *m = NULL;
    char err[2048];
    int rc = 2;
    if (wb_model_build(s, wb_config_params(e->cfg, "model"), &m, err, sizeof err) != WB_OK) {
        fprintf(out, "error: %s\n", err);
        wb_session_destroy(s);
        return rc;
    }
    static const char *const splits[] = {"train", "val", "test"};
    for (int i = 0; i < 3; i++) {
        wb_pipeline *p = wb_data_split_exists(e, splits[i]) ? wb_data_split_pipeline(e, splits[i], err, sizeof err)
                                                           : NULL;
        if (p) {
            wb_pipeline_destroy(p);
        } else if (wb_data_split_exists(e, splits[i])) {
            fprintf(out, "error: %s\n", err);
            wb_model_destroy(m);
            wb_session_destroy(s);
            return rc;
        }
    }
    if (wb_memory_check(e, s, m, err, sizeof err) != WB_OK) {
        fprintf(out, "error: %s\n", err);
        wb_model_destroy(m);
        wb_session_destroy(s);
        return rc;
    }
    wb_context c;
    wb_context_init(&c, s, "validate", false);
    int64_t shape[4] = {1, 3, size, size};
    wb_tensor *blank = wb_ctx_tensor_zeros(&c, 4, shape);
    if (!blank || wb_model_forward(m, blank, false, err, sizeof err) != WB_OK) {
        fprintf(out, "error: %s\n", blank ? err : c.msg);
    } else {
        rc = 0;
        fprintf(out, "model (checked with a forward on a 1x3x%dx%d input):\n", size, size);
        for (int i = 0; i < m->n_stages; i++) {
            wb_module_slot *st = &m->stage[i];
            int64_t trainable, total = count_params(s, st->ctx.path, &trainable);
            fprintf(out, "  %-8s %-14s %10lld params (%lld trainable)\n", st->ctx.path, st->desc->type_name,
                    (long long)total, (long long)trainable);
            for (int k = 0; k < st->n_out; k++) {
                char shp[96];
                fprintf(out, "           -> %-10s %5d channels, stride %3d, got %s\n", st->out_specs[k].name,
                        st->out_specs[k].channels, st->out_specs[k].stride, wb_shape_str(st->out[k], shp, sizeof shp));
            }
        }
        fprintf(out, "valid\n");
    }
    wb_model_destroy(m);
    wb_session_destroy(s);
    return rc;
}
