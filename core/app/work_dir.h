/* The work dir of a run: checked, created and locked before anything is
 * written into it, so that two runs cannot clobber each other's checkpoints
 * and a run cannot overwrite its own inputs or a home folder. */
#ifndef WB_CORE_WORK_DIR_H
#define WB_CORE_WORK_DIR_H

#include <limits.h>
#include <stddef.h>
#include "../config/config.h"

/* The lock file a run holds (flock) for its whole length; it holds its pid. */
#define WB_WORK_DIR_LOCK ".workbench.lock"
/* Room kept in PATH_MAX for the longest name a run writes under its work dir
 * (best_bbox_mAP_50_epoch_1000000000.safetensors, pictures/...); a work dir
 * path fits in WB_WORK_DIR_MAX bytes. */
#define WB_WORK_DIR_NAME_ROOM 128
#define WB_WORK_DIR_MAX (PATH_MAX - WB_WORK_DIR_NAME_ROOM)
/* The effective config of the run. */
#define WB_WORK_DIR_CONFIG "config.conf"

typedef struct wb_work_dir {
    const char *path;
    int lock_fd;
} wb_work_dir;

/* The work dir a template names: {date} is today (20261206), {time} the
 * time (160512), {n} YOLOv5's run number: empty for the first run, then 2, 3,
 * ... (runs/exp, runs/exp2, ...): one more than the highest taken, or for a
 * resumed run the highest taken. At most one {n}. Returns 0, or 2 with the
 * reason in err (an unknown placeholder, a result too long). */
int wb_work_dir_name(const char *tmpl, int resumed, char *out, size_t out_size, char *err, size_t n);

/* Refuses paths too long to hold the run's files (before creating
 * anything), creates the folder (mkdir -p), refuses `/`, $HOME and a folder
 * where the effective config would overwrite a file cfg was read from, and
 * takes the lock. Returns 0, or an exit code (2: the path is refused, 1: it
 * cannot be made or another run holds it) with the reason in err. */
int wb_work_dir_open(wb_work_dir *w, const char *path, const wb_config *cfg, char *err, size_t n);

/* Writes the effective config as work_dir/config.conf (path gets its name).
 * 0, or an exit code with the reason in err. */
int wb_work_dir_write_config(const wb_work_dir *w, const wb_config *cfg, char *path, size_t path_size, char *err,
                             size_t n);

/* Releases the lock (the file stays: unlinking it would let a third run
 * lock a new file while a second still holds the old one). */
void wb_work_dir_close(wb_work_dir *w);

#endif
