/* `workbench evolve`: YOLOv5's hyperparameter evolution (train.py --evolve).
 * Each generation trains the experiment once, as a child `workbench run
 * EXP --hyp WORK/gen_G/hyp.yaml --work-dir WORK/gen_G`, with hyperparameters
 * mutated from a parent chosen among the five best generations so far
 * (weighted by fitness 0.1 mAP@0.5 + 0.9 mAP@0.5:0.95); its results and
 * hyperparameters are appended to WORK/evolve.csv and the best generation's
 * hyperparameters written to WORK/hyp_evolve.yaml. The rows of evolve.csv are
 * the state: a stopped evolution run again continues after its last row. */
#ifndef WB_CORE_APP_EVOLVE_H
#define WB_CORE_APP_EVOLVE_H

#include "experiment.h"

typedef struct wb_evolve_args {
    const char *exp_path;
    const char *const *overrides;   /* the user's --set, passed to every run */
    int n_overrides;
    const char *hyp;                /* starting hyp file, or NULL for hyp.scratch-low's values */
    const char *work_dir;           /* NULL: the experiment's */
    int generations;                /* in all, counting those already in evolve.csv */
    int epochs;                     /* schedule.max_epochs of each run; 0: the experiment's */
    const char *const *global_args; /* --threads, --plugin-dir, for the children */
    int n_global_args;
} wb_evolve_args;

/* Returns a process exit code: 0 done, 1 runtime failure, 2 usage or config
 * error, 128 + signal when stopped by SIGTERM or SIGHUP (0 for Ctrl-C). */
int wb_evolve(wb_experiment *e, const wb_evolve_args *a);

#endif
