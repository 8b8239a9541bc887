/* The environment a run ran in, as the header of work_dir/run.log: what a
 * bug report or a comparison of two runs' speed needs to know first. */
#ifndef WB_CORE_APP_RUN_ENV_H
#define WB_CORE_APP_RUN_ENV_H

#include <stdio.h>
#include "../config/config.h"

/* Writes "# key: value" lines: version, commit, compiler, CPU and its flags,
 * oneDNN version and ISA, threads (threads > 0: --threads), backend, amp, the
 * command line. */
void wb_run_env_write(FILE *f, wb_config *cfg, int threads);

#endif
