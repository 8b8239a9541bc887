/* What a training run records beside its checkpoints, set up once its work
 * dir is held and its effective config written:
 *   log.json      its log lines (core/train/trainlog.c); a resumed run appends
 *                 after a {"mode": "resume"} marker
 *   run.log       an environment header, then every log line of the run
 *   tensorboard/  TensorBoard event files (log.tensorboard): scalars, pictures
 *                 of validation predictions, the effective config as text
 * A new run in a work dir that holds another run's records first moves them
 * into history/<time that run last wrote>/, so no file mixes two runs. */
#ifndef WB_CORE_APP_RUN_RECORD_H
#define WB_CORE_APP_RUN_RECORD_H

#include <stdint.h>
#include "../config/config.h"
#include "evaluate.h"

/* The folder of earlier runs' records under a work dir. */
#define WB_RUN_HISTORY_DIR "history"

/* resumed: the run continues one recorded in work_dir. threads: --threads
 * (0: none given). Returns 0, or 1 with the reason in err when the previous
 * run's records cannot be moved aside (nothing was written then). */
int wb_run_record_begin(const char *work_dir, wb_config *cfg, int resumed, int threads, char *err, size_t err_size);
/* The effective config (the file at config_path) as TensorBoard text. */
void wb_run_record_config(const char *config_path);
/* Pictures of the first validation images with their predictions, at step
 * (the validation's epoch or iteration), to the TensorBoard log. */
void wb_run_record_val_pictures(const wb_val_record *rec, const char *const *names, int num_classes, int64_t step);
/* Closes run.log and the TensorBoard log. */
void wb_run_record_end(void);

#endif
