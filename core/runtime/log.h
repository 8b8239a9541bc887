/* Logging for the core and, through the host table, for plugins. Lines go to
 * stderr as "2026-11-22 05:30:01 INFO  [backbone] message". */
#ifndef WB_CORE_LOG_H
#define WB_CORE_LOG_H

#include <stdarg.h>
#include <stdio.h>
#include <workbench/types.h>

void wb_log_set_level(wb_log_level min_level);
void wb_logf(wb_log_level level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void wb_vlogf(wb_log_level level, const char *who, const char *fmt, va_list ap);
/* Also writes every line logged from now on to f (timestamped as on stderr,
 * flushed per line), e.g. work_dir/run.log; NULL stops. The caller owns f. */
void wb_log_tee(FILE *f);
/* A stream for text that belongs in the log as written, without time stamps
 * (evaluation tables): each line goes to stderr and to the tee file, if any,
 * in order with the log lines. fclose it when done; NULL when out of memory. */
FILE *wb_log_open_stream(void);
/* Logs `message` once per process for `key` (loud fallbacks, not noisy ones). */
void wb_log_once(const char *key, wb_log_level level, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
