#include "train_recipe.h"

#include <stdlib.h>
#include "../config/params.h"
#include "../runtime/log.h"
#include "../train/accumulation.h"
#include "../train/freeze.h"

/* optimizer.accumulate and optimizer.nbs both say how many iterations to accumulate. */
static bool accumulation_conflict(wb_config *cfg) {
    const wb_params *opt = wb_config_params(cfg, "optimizer");
    int nbs = (int)wb_params_int(opt, "nbs"), accumulate = (int)wb_params_int(opt, "accumulate");
    if (nbs == 0 || accumulate == 1) return false;
    int batch = (int)wb_params_int(wb_config_params(cfg, "data"), "batch_size");
    wb_logf(WB_LOG_ERROR, "optimizer", "optimizer.accumulate = %d and optimizer.nbs = %d both set the "
            "accumulation; remove accumulate (nbs %d with batch_size %d accumulates %d iterations)", accumulate, nbs,
            nbs, batch, wb_nominal_accumulate(nbs, batch));
    return true;
}

int wb_nominal_batch_opts(wb_config *cfg, wb_trainer_opts *o) {
    int nbs = (int)wb_params_int(wb_config_params(cfg, "optimizer"), "nbs");
    if (nbs == 0) return 0;
    if (accumulation_conflict(cfg)) return 2;
    int batch = (int)wb_params_int(wb_config_params(cfg, "data"), "batch_size");
    int k = wb_nominal_accumulate(nbs, batch);
    o->nbs = nbs;
    o->batch_size = batch;
    float decay = wb_nominal_weight_decay(o->optim.weight_decay, nbs, batch);
    wb_logf(WB_LOG_INFO, "optimizer", "nominal batch %d: step every %d iterations of %d images (ramped up from 1 "
            "over the warmup), weight_decay %g -> %g", nbs, k, batch, o->optim.weight_decay, decay);
    o->optim.weight_decay = decay;
    return 0;
}

int wb_freeze_from_config(wb_config *cfg, wb_session *s) {
    const wb_params *opt = wb_config_params(cfg, "optimizer");
    int n = wb_params_list_len(opt, "freeze");
    if (n == 0) return 0;
    const char **prefixes = calloc((size_t)n, sizeof *prefixes);
    if (!prefixes) {
        wb_logf(WB_LOG_ERROR, "optimizer", "out of memory reading optimizer.freeze");
        return 1;
    }
    for (int i = 0; i < n; i++) prefixes[i] = wb_params_string_at(opt, "freeze", i);
    char err[1024];
    int frozen = wb_freeze_params(s, prefixes, n, err, sizeof err);
    free(prefixes);
    if (frozen < 0) {
        wb_logf(WB_LOG_ERROR, NULL, "%s", err);
        return 2;
    }
    wb_logf(WB_LOG_INFO, "optimizer", "freeze: %d parameters are not trained", frozen);
    return 0;
}

int wb_train_recipe_check(wb_config *cfg, wb_session *s) {
    return accumulation_conflict(cfg) ? 2 : wb_freeze_from_config(cfg, s);
}
