#include "work_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The highest {n} of a work_dir template (each is one stat() when naming a run). */
#define WB_WORK_DIR_MAX_RUNS 9999

/* Every component fits NAME_MAX and the whole leaves room for the files: checked
 * before mkdir -p, which would otherwise leave the part it managed behind. */
static int check_length(const char *path, char *err, size_t n) {
    size_t len = strlen(path);
    if (len + WB_WORK_DIR_NAME_ROOM >= PATH_MAX) {
        snprintf(err, n, "work_dir is %zu characters long; with the file names under it that passes the "
                 "system's limit of %d (PATH_MAX); choose a shorter work_dir", len, PATH_MAX);
        return -1;
    }
    for (const char *p = path; *p;) {
        size_t part = strcspn(p, "/");
        if (part > NAME_MAX) {
            snprintf(err, n, "work_dir %s: a folder name of %zu characters passes the system's limit of %d "
                     "(NAME_MAX); choose a shorter work_dir", path, part, NAME_MAX);
            return -1;
        }
        p += part;
        p += strspn(p, "/");
    }
    return 0;
}

static int make_dirs(const char *path) {
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path); /* fits: check_length ran first */
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* `/` or the home folder would get checkpoints, logs and config.conf
 * scattered in it (and `rm -r work_dir` would be a disaster). */
static int refused_place(const char *real, const char *path, char *err, size_t n) {
    const char *home = getenv("HOME");
    char *real_home = home && *home ? realpath(home, NULL) : NULL;
    int is_home = real_home && strcmp(real, real_home) == 0;
    free(real_home);
    if (strcmp(real, "/") != 0 && !is_home) return 0;
    snprintf(err, n, "work_dir %s is %s; a run fills its work dir with checkpoints and logs: choose a folder of "
             "its own (e.g. work_dirs/NAME)", path, is_home ? "your home folder" : "the root folder");
    return -1;
}

/* Another run's pid from its lock file, or 0. */
static long lock_owner(int fd) {
    char buf[32] = "";
    ssize_t got = pread(fd, buf, sizeof buf - 1, 0);
    return got > 0 ? strtol(buf, NULL, 10) : 0;
}

static int take_lock(wb_work_dir *w, char *err, size_t n) {
    char lock[PATH_MAX];
    snprintf(lock, sizeof lock, "%s/%s", w->path, WB_WORK_DIR_LOCK);
    int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        snprintf(err, n, "cannot create the lock file %s: %s", lock, strerror(errno));
        return 1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        long pid = busy ? lock_owner(fd) : 0; /* 0: the other run has not written it yet */
        char who[48] = "";
        if (pid > 0) snprintf(who, sizeof who, " (pid %ld)", pid);
        if (busy)
            snprintf(err, n, "work_dir %s is in use by another run%s; wait for it to end or choose another "
                     "--work-dir", w->path, who);
        else
            snprintf(err, n, "cannot lock work_dir %s (%s): %s", w->path, lock, strerror(errno));
        close(fd);
        return 1;
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
        snprintf(err, n, "cannot write the lock file %s: %s", lock, strerror(errno));
        close(fd);
        return 1;
    }
    w->lock_fd = fd;
    return 0;
}

/* Same file: the same inode on the same device (hard links, symlinks, ./x and x alike). */
static int same_file(const struct stat *a, const char *path) {
    struct stat b;
    return stat(path, &b) == 0 && a->st_dev == b.st_dev && a->st_ino == b.st_ino;
}

/* work_dir/config.conf must not be a file the experiment is read from
 * (an experiment named config.conf run with work_dir = "."). */
static int overwrites_input(const char *work_dir, const wb_config *cfg, char *err, size_t n) {
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/" WB_WORK_DIR_CONFIG, work_dir);
    struct stat out;
    for (int i = 0; stat(path, &out) == 0 && i < wb_config_file_count(cfg); i++) {
        if (!same_file(&out, wb_config_file(cfg, i))) continue;
        snprintf(err, n, "the effective config %s would overwrite %s, a file the experiment is read from; choose "
                 "another work_dir (e.g. --work-dir work_dirs/NAME)", path, wb_config_file(cfg, i));
        return 1;
    }
    return 0;
}

/* tmpl with {date} and {time} filled in, and {n} replaced by number k (1: empty). */
static int expand(const char *tmpl, const struct tm *tm, int k, char *out, size_t size, char *err, size_t n) {
    size_t at = 0, len_all = 0;
    int n_count = 0;
    for (const char *p = tmpl; *p;) {
        char piece[64];
        size_t used = 1;
        if (*p != '{') {
            snprintf(piece, sizeof piece, "%c", *p);
        } else if (strncmp(p, "{date}", 6) == 0) {
            strftime(piece, sizeof piece, "%Y%m%d", tm), used = 6;
        } else if (strncmp(p, "{time}", 6) == 0) {
            strftime(piece, sizeof piece, "%H%M%S", tm), used = 6;
        } else if (strncmp(p, "{n}", 3) == 0) {
            if (k > 1) snprintf(piece, sizeof piece, "%d", k);
            else piece[0] = '\0';
            used = 3, n_count++;
        } else {
            snprintf(err, n, "work_dir \"%s\": unknown placeholder %.*s; work_dir may hold {date}, {time} and one {n}",
                     tmpl, (int)(strchr(p, '}') ? strchr(p, '}') - p + 1 : (ptrdiff_t)strlen(p)), p);
            return 2;
        }
        size_t len = strlen(piece);
        len_all += len, p += used;
        if (at + len >= size) continue; /* measured on: the message gives the whole length */
        memcpy(out + at, piece, len);
        at += len;
    }
    out[at] = '\0';
    if (len_all >= size) {
        /* check_length's words and limit (wb_work_dir_open): a buffer of WB_WORK_DIR_MAX holds what it accepts */
        snprintf(err, n, "work_dir is %zu characters long%s; with the file names under it that passes the system's "
                 "limit of %d (PATH_MAX); choose a shorter work_dir", len_all,
                 strchr(tmpl, '{') ? " once its placeholders are filled in" : "", PATH_MAX);
        return 2;
    }
    if (n_count > 1) {
        snprintf(err, n, "work_dir \"%s\" holds {n} %d times; one run number is enough", tmpl, n_count);
        return 2;
    }
    return 0;
}

int wb_work_dir_name(const char *tmpl, int resumed, char *out, size_t size, char *err, size_t n) {
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    int rc = expand(tmpl, &tm, 1, out, size, err, n);
    if (rc != 0 || !strstr(tmpl, "{n}")) return rc;
    /* YOLOv5's increment_path: the highest number taken decides, gaps stay gaps. */
    int highest = 0;
    struct stat st;
    for (int k = 1; k <= WB_WORK_DIR_MAX_RUNS; k++)
        if (expand(tmpl, &tm, k, out, size, err, n) == 0 && stat(out, &st) == 0) highest = k;
    int k = resumed ? (highest ? highest : 1) : highest + 1;
    if (k > WB_WORK_DIR_MAX_RUNS) {
        snprintf(err, n, "work_dir \"%s\": run numbers up to %d are taken; clean up or choose another work_dir", tmpl,
                 WB_WORK_DIR_MAX_RUNS);
        return 2;
    }
    return expand(tmpl, &tm, k, out, size, err, n);
}

int wb_work_dir_open(wb_work_dir *w, const char *path, const wb_config *cfg, char *err, size_t n) {
    *w = (wb_work_dir){path, -1};
    if (!path[0]) {
        snprintf(err, n, "work_dir is empty; set work_dir or --work-dir");
        return 2;
    }
    if (check_length(path, err, n) != 0) return 2;
    if (make_dirs(path) != 0) {
        snprintf(err, n, "cannot create work_dir %s: %s", path, strerror(errno));
        return 1;
    }
    char *real = realpath(path, NULL);
    struct stat st;
    if (!real || stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, n, "work_dir %s: %s", path, real ? "exists and is not a folder" : strerror(errno));
        free(real);
        return 1;
    }
    int refused = refused_place(real, path, err, n) != 0 || overwrites_input(path, cfg, err, n);
    free(real);
    return refused ? 2 : take_lock(w, err, n);
}

int wb_work_dir_write_config(const wb_work_dir *w, const wb_config *cfg, char *path, size_t path_size, char *err,
                             size_t n) {
    snprintf(path, path_size, "%s/" WB_WORK_DIR_CONFIG, w->path);
    return wb_config_write(cfg, path, err, n) == 0 ? 0 : 1;
}

void wb_work_dir_close(wb_work_dir *w) {
    if (w->lock_fd >= 0) close(w->lock_fd);
    w->lock_fd = -1;
}
