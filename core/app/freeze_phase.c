#include "freeze_phase.h"

#include "../config/params.h"
#include "../runtime/log.h"

/* What the frozen phase cannot be combined with, or 0. */
static int refused(wb_config *cfg, int64_t epochs) {
    const wb_params *sch = wb_config_params(cfg, "schedule");
    if (!wb_params_bool(sch, "by_epoch")) {
        wb_logf(WB_LOG_ERROR, "train", "train.freeze counts epochs, and this run counts iterations "
                "(schedule.by_epoch = false): set schedule.by_epoch = true or remove train.freeze");
        return 2;
    }
    int64_t max_epochs = wb_params_int(sch, "max_epochs");
    if (epochs >= max_epochs) {
        wb_logf(WB_LOG_ERROR, "train", "train.freeze.epochs = %lld leaves no unfrozen epoch of schedule.max_epochs "
                "= %lld: lower train.freeze.epochs (the Keras seed's Freeze_Epoch) below max_epochs (UnFreeze_Epoch)",
                (long long)epochs, (long long)max_epochs);
        return 2;
    }
    if (wb_params_int(wb_config_params(cfg, "optimizer"), "nbs") > 0) {
        wb_logf(WB_LOG_ERROR, "train", "train.freeze and optimizer.nbs exclude each other (the nominal batch scales "
                "weight decay by one batch size, and the phases have two): use optimizer.accumulate or no freeze");
        return 2;
    }
    return 0;
}

int wb_freeze_schedule_from_config(wb_config *cfg, int world, const char **modules, wb_freeze_schedule *fz) {
    const wb_params *f = wb_config_params(cfg, "train.freeze");
    *fz = (wb_freeze_schedule){0};
    if (!f) return 0;
    int64_t epochs = wb_params_int(f, "epochs");
    int n = wb_params_list_len(f, "modules");
    if (n == 0 || n > WB_FREEZE_MAX_MODULES) {
        wb_logf(WB_LOG_ERROR, "train", "train.freeze.modules has %d names: give 1 to %d dotted-name prefixes, "
                "such as [\"backbone\"]", n, WB_FREEZE_MAX_MODULES);
        return 2;
    }
    int rc = refused(cfg, epochs);
    if (rc) return rc;
    for (int i = 0; i < n; i++) modules[i] = wb_params_string_at(f, "modules", i);
    const wb_params *opt = wb_config_params(cfg, "optimizer"), *a = wb_config_params(cfg, "auto_scale_lr");
    int unfrozen_batch = (int)wb_params_int(wb_config_params(cfg, "data"), "batch_size");
    int batch = wb_params_int(f, "batch_size") > 0 ? (int)wb_params_int(f, "batch_size") : unfrozen_batch;
    double lr = wb_params_float(f, "lr") >= 0 ? wb_params_float(f, "lr") : wb_params_float(opt, "lr");
    if (wb_params_bool(a, "enable")) {
        double scaled = lr * batch * world / (double)wb_params_int(a, "base_batch_size");
        wb_logf(WB_LOG_INFO, "optimizer", "auto_scale_lr: train.freeze's lr %g -> %g (total batch %d)", lr, scaled,
                batch * world);
        lr = scaled;
    }
    *fz = (wb_freeze_schedule){epochs, modules, n, (float)lr, {batch, unfrozen_batch}, NULL};
    return 0;
}
