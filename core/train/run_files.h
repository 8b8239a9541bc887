/* The checkpoint files of a run in its work dir: <unit>_N.safetensors with
 * `latest.safetensors` pointing at the newest, the last K kept, and one
 * best_<metric>_<unit>_N.safetensors replacing the previous best. */
#ifndef WB_CORE_RUN_FILES_H
#define WB_CORE_RUN_FILES_H

#include "trainer.h"

typedef struct wb_run_ctx {
    wb_model *m;
    wb_optimizer *opt;
    wb_ema *ema;                 /* NULL when EMA is off */
    const wb_trainer_opts *o;
    wb_train_state *st;
    wb_train_result *res;
} wb_run_ctx;

/* "epoch" or "iter": the unit of intervals and file names. */
const char *wb_run_unit(const wb_trainer_opts *o);
/* Saves work_dir/<name>.safetensors, points latest at it, records it as the last checkpoint. */
wb_status wb_run_save(wb_run_ctx *r, const char *name, char *err, size_t err_size);
/* Removes the periodic checkpoint that fell out of the last `ckpt_keep`. */
void wb_run_prune(const wb_trainer_opts *o, int64_t done_units);
/* After a validation at `units`: if metrics' save_best value beats the best so
 * far (greater is better), saves best_<metric>_<unit>_<units> and removes the
 * previous best. An error when the metric is not among the metrics. */
wb_status wb_run_keep_best(wb_run_ctx *r, const wb_metrics *metrics, int64_t units, char *err, size_t err_size);

#endif
