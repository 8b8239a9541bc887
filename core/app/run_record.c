#include "run_record.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "../config/params.h"
#include "../io/file_read.h"
#include "../runtime/log.h"
#include "../tblog/tb_pictures.h"
#include "../tblog/tb_run.h"
#include "run_env.h"

/* The records of one run, in the order they are moved aside. */
static const char *const k_records[] = {"log.json", "run.log", WB_TB_DIR, NULL};

static FILE *g_run_log;

/* A record of a run: a regular file or a real folder. A symlink planted in its place stays where it is, and the
 * writers (O_NOFOLLOW, tb_run.c's lstat) refuse it with a warning. */
static int is_record(const char *path, struct stat *st) {
    return lstat(path, st) == 0 && (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode));
}

/* history/<stamp>[_k]/: the first name not taken. */
static int make_history_dir(const char *work_dir, time_t when, char *dir, size_t size, char *err, size_t n) {
    char base[4096], stamp[32];
    struct tm tm;
    localtime_r(&when, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d_%H%M%S", &tm);
    snprintf(base, sizeof base, "%s/" WB_RUN_HISTORY_DIR, work_dir);
    struct stat st;
    if (mkdir(base, 0755) != 0 && errno != EEXIST) {
        snprintf(err, n, "cannot create %s: %s", base, strerror(errno));
        return -1;
    }
    if (lstat(base, &st) != 0 || !S_ISDIR(st.st_mode)) { /* a planted symlink would move the records elsewhere */
        snprintf(err, n, "%s is not a folder (a symlink?); the previous run's records stay where they are", base);
        return -1;
    }
    for (int k = 1; k < 1000; k++) {
        if (k == 1) snprintf(dir, size, "%s/%s", base, stamp);
        else snprintf(dir, size, "%s/%s_%d", base, stamp, k);
        if (mkdir(dir, 0755) == 0) return 0;
        if (errno != EEXIST) break;
    }
    snprintf(err, n, "cannot create a folder for the previous run's records under %s: %s", base, strerror(errno));
    return -1;
}

/* A new run where another one left records: they go to history/<stamp>/. */
static int move_previous(const char *work_dir, char *err, size_t n) {
    char path[4096], dir[4200], to[4400];
    struct stat st;
    int any = 0;
    time_t when = 0;
    for (int i = 0; k_records[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", work_dir, k_records[i]);
        if (!is_record(path, &st)) continue;
        any = 1;
        if (st.st_mtime > when) when = st.st_mtime;
    }
    if (!any) return 0;
    if (make_history_dir(work_dir, when, dir, sizeof dir, err, n) != 0) return -1;
    for (int i = 0; k_records[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", work_dir, k_records[i]);
        snprintf(to, sizeof to, "%s/%s", dir, k_records[i]);
        if (is_record(path, &st) && rename(path, to) != 0) {
            snprintf(err, n, "cannot move the previous run's %s to %s: %s", path, to, strerror(errno));
            return -1;
        }
    }
    wb_logf(WB_LOG_INFO, NULL, "a new run in %s: the previous run's log.json, run.log and %s/ are now in %s/",
            work_dir, WB_TB_DIR, dir);
    return 0;
}

static void open_run_log(const char *work_dir, wb_config *cfg, int resumed, int threads) {
    char path[4096];
    snprintf(path, sizeof path, "%s/run.log", work_dir);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    g_run_log = fd >= 0 ? fdopen(fd, "a") : NULL;
    if (!g_run_log) {
        if (fd >= 0) close(fd);
        wb_logf(WB_LOG_WARN, NULL, "cannot write %s: %s; the run goes on without it", path, strerror(errno));
        return;
    }
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    fprintf(g_run_log, "%s# %s %s\n", ftell(g_run_log) > 0 ? "\n" : "", resumed ? "resumed" : "run started", stamp);
    wb_run_env_write(g_run_log, cfg, threads);
    fflush(g_run_log);
    wb_log_tee(g_run_log);
}

/* The effective config as a TensorBoard text summary (Markdown: a code block keeps its layout). */
void wb_run_record_config(const char *config_path) {
    wb_event_file *tb = wb_tb_run_events();
    char err[512];
    size_t len = 0;
    char *text = tb ? wb_read_file(config_path, 16u << 20, "config", &len, err, sizeof err) : NULL;
    if (!text) return;
    size_t size = len + 16;
    char *md = malloc(size);
    if (md) {
        snprintf(md, size, "```\n%s\n```", text);
        wb_event_file_text(tb, "config", 0, md);
        wb_event_file_flush(tb);
    }
    free(md);
    free(text);
}

int wb_run_record_begin(const char *work_dir, wb_config *cfg, int resumed, int threads, char *err, size_t n) {
    if (!resumed && move_previous(work_dir, err, n) != 0) {
        size_t len = strlen(err);
        snprintf(err + len, n - len, "; move or remove it, or choose another --work-dir");
        return 1;
    }
    open_run_log(work_dir, cfg, resumed, threads);
    const wb_params *log = wb_config_params(cfg, "log");
    if (log && wb_params_bool(log, "tensorboard")) wb_tb_run_open(work_dir);
    return 0;
}

void wb_run_record_val_pictures(const wb_val_record *rec, const char *const *names, int num_classes, int64_t step) {
    wb_event_file *tb = wb_tb_run_events();
    if (tb && rec) wb_tb_pictures(tb, &rec->batch_pred, names, num_classes, step);
}

void wb_run_record_end(void) {
    wb_tb_run_close();
    wb_log_tee(NULL);
    if (g_run_log) fclose(g_run_log);
    g_run_log = NULL;
}
