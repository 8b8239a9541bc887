/* `workbench run` as one rank of a data-parallel job (mpirun -np N): joining
 * the job, rank 0's work dir and effective config handed to the others,
 * and the end of a rank. */
#ifndef WB_CORE_TRAIN_RANKS_H
#define WB_CORE_TRAIN_RANKS_H

#include <stdbool.h>
#include <stddef.h>
#include "../config/config.h"

/* Joins the job when a launcher started the process (dist.h); ranks other
 * than 0 log warnings and errors only. 0, or 1 with a logged message. */
int wb_ranks_begin(void);
/* What the data section asks that ranks cannot share yet (rect batches in
 * evaluation). 0 alone or when none; 2 with a logged message. */
int wb_ranks_check_data(wb_config *cfg);
/* Rank 0: hands its setup's outcome rc, its work dir and the effective
 * config's path to the other ranks; they receive them into work_dir and
 * path. Returns rc (rank 0's, on every rank). Alone: rc. */
int wb_ranks_share_work_dir(int rc, char *work_dir, size_t work_dir_size, char *path, size_t path_size);
/* The end of this rank with exit code rc: under a launcher, a rank that
 * fails ends the whole job (no rank may wait for it in a collective).
 * Returns rc. */
int wb_ranks_end(int rc);

#endif
