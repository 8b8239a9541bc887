/* The TensorBoard log of the training run in progress, work_dir/tensorboard/.
 * One per process, as the run is (its signal handlers and work-dir lock are
 * too): the trainer's log lines and the validation callback reach it without
 * it being threaded through every layer between them. */
#ifndef WB_CORE_TBLOG_TB_RUN_H
#define WB_CORE_TBLOG_TB_RUN_H

#include "event_file.h"

/* The folder under a work dir that holds the run's event files. */
#define WB_TB_DIR "tensorboard"

/* Creates work_dir/tensorboard/ and a new event file in it. A failure is a
 * warning (the run goes on without TensorBoard): returns 0 or -1. */
int wb_tb_run_open(const char *work_dir);
/* The open event file, or NULL (off, failed, or no run). */
wb_event_file *wb_tb_run_events(void);
void wb_tb_run_close(void);

#endif
