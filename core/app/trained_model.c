#include "trained_model.h"

#include <string.h>
#include "../config/params.h"
#include "../train/checkpoint.h"

wb_model *wb_trained_model(wb_experiment *e, wb_session *s, const char *checkpoint, FILE *log) {
    char err[2048];
    wb_model *m = NULL;
    if (wb_model_build(s, wb_config_params(e->cfg, "model"), &m, err, sizeof err) != WB_OK) {
        fprintf(log, "error: %s\n", err);
        return NULL;
    }
    wb_load_report rep;
    wb_load_opts lo = {.allow_nonfinite = strcmp(wb_params_string(wb_config_params(e->cfg, ""), "load_nonfinite"),
                                                 "allow") == 0};
    if (wb_checkpoint_load(checkpoint, s, &lo, &rep, err, sizeof err) != WB_OK) {
        fprintf(log, "error: %s\n", err);
        wb_model_destroy(m);
        return NULL;
    }
    if (rep.missing || rep.shape_mismatched) {
        char what[3200];
        wb_load_report_describe(&rep, rep.unexpected > 0, what, sizeof what);
        fprintf(log, "error: %s does not fit this experiment's model: %d of its %d parameters fit; %s. Is it a "
                "checkpoint of this experiment (same model section and num_classes)?\n", checkpoint, rep.matched,
                s->n_params, what);
        wb_model_destroy(m);
        return NULL;
    }
    return m;
}
