#define _GNU_SOURCE /* fopencookie */
#include "log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static wb_log_level g_min_level = WB_LOG_INFO;
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;

void wb_log_set_level(wb_log_level min_level) { g_min_level = min_level; }

static const char *level_name(wb_log_level l) {
    switch (l) {
    case WB_LOG_DEBUG: return "DEBUG";
    case WB_LOG_INFO: return "INFO ";
    case WB_LOG_WARN: return "WARN ";
    default: return "ERROR";
    }
}

static FILE *g_tee;

void wb_log_tee(FILE *f) {
    pthread_mutex_lock(&g_lock);
    g_tee = f;
    pthread_mutex_unlock(&g_lock);
}

static ssize_t write_block(void *cookie, const char *buf, size_t size) {
    (void)cookie;
    pthread_mutex_lock(&g_lock);
    fwrite(buf, 1, size, stderr);
    if (g_tee) {
        fwrite(buf, 1, size, g_tee);
        fflush(g_tee);
    }
    pthread_mutex_unlock(&g_lock);
    return (ssize_t)size;
}

FILE *wb_log_open_stream(void) {
    FILE *f = fopencookie(NULL, "w", (cookie_io_functions_t){.write = write_block});
    if (f) setvbuf(f, NULL, _IOLBF, 0); /* whole lines, between the log lines around them */
    return f;
}

/* One fprintf per line: stderr is unbuffered and the ranks of an MPI job
 * share it, so a line written in pieces can be split by another process's
 * line (glibc formats one call to an unbuffered stream in one write, up to
 * its 8 KiB buffer). */
static void write_line(FILE *out, const char *stamp, wb_log_level level, const char *who, const char *body) {
    if (who && *who)
        fprintf(out, "%s %s [%s] %s\n", stamp, level_name(level), who, body);
    else
        fprintf(out, "%s %s %s\n", stamp, level_name(level), body);
}

void wb_vlogf(wb_log_level level, const char *who, const char *fmt, va_list ap) {
    if (level < g_min_level) return;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    char *body = NULL;
    if (vasprintf(&body, fmt, ap) < 0) body = NULL;
    const char *text = body ? body : "(out of memory formatting a log line)";
    pthread_mutex_lock(&g_lock);
    write_line(stderr, stamp, level, who, text);
    if (g_tee) {
        write_line(g_tee, stamp, level, who, text);
        fflush(g_tee);
    }
    pthread_mutex_unlock(&g_lock);
    free(body);
}

void wb_logf(wb_log_level level, const char *who, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    wb_vlogf(level, who, fmt, ap);
    va_end(ap);
}

#define ONCE_MAX 64
static char *g_once[ONCE_MAX];
static int g_once_n;

void wb_log_once(const char *key, wb_log_level level, const char *who, const char *fmt, ...) {
    pthread_mutex_lock(&g_lock);
    for (int i = 0; i < g_once_n; i++) {
        if (strcmp(g_once[i], key) == 0) {
            pthread_mutex_unlock(&g_lock);
            return;
        }
    }
    if (g_once_n < ONCE_MAX) g_once[g_once_n++] = strdup(key);
    pthread_mutex_unlock(&g_lock);
    va_list ap;
    va_start(ap, fmt);
    wb_vlogf(level, who, fmt, ap);
    va_end(ap);
}
