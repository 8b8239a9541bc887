/* `workbench run`: an opened experiment, trained end to end. */
#ifndef WB_CORE_TRAIN_RUN_H
#define WB_CORE_TRAIN_RUN_H

#include "experiment.h"

typedef struct wb_run_args {
    const char *work_dir;   /* overrides the experiment's work_dir when not NULL */
    const char *resume;     /* checkpoint path, "auto" (latest in the work dir), or NULL */
    int threads;            /* 0 = default */
} wb_run_args;

/* Returns a process exit code: 0 done, 1 runtime failure, 2 config error. */
int wb_train_run(wb_experiment *e, const wb_run_args *a);

#endif
