#include "tb_run.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "../runtime/log.h"

static wb_event_file *g_events;

int wb_tb_run_open(const char *work_dir) {
    wb_tb_run_close();
    char dir[4096], err[4200];
    snprintf(dir, sizeof dir, "%s/" WB_TB_DIR, work_dir);
    struct stat st;
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        wb_logf(WB_LOG_WARN, "tensorboard", "cannot create %s: %s; no TensorBoard log for this run", dir,
                strerror(errno));
        return -1;
    }
    /* lstat: a symlink planted at work_dir/tensorboard must not lead the event file elsewhere */
    if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        wb_logf(WB_LOG_WARN, "tensorboard", "%s is not a folder (a symlink?); no TensorBoard log for this run", dir);
        return -1;
    }
    g_events = wb_event_file_open(dir, err, sizeof err);
    if (!g_events) {
        wb_logf(WB_LOG_WARN, "tensorboard", "%s; no TensorBoard log for this run", err);
        return -1;
    }
    wb_logf(WB_LOG_INFO, "tensorboard", "event file %s (tensorboard --logdir %s)", wb_event_file_path(g_events),
            work_dir);
    return 0;
}

wb_event_file *wb_tb_run_events(void) { return g_events; }

void wb_tb_run_close(void) {
    wb_event_file_close(g_events);
    g_events = NULL;
}
