/* What the config files share: the wb_config object and error reporting. */
#ifndef WB_CORE_CONFIG_INTERNAL_H
#define WB_CORE_CONFIG_INTERNAL_H

#include "config.h"

struct wb_config {
    config_t tree;          /* the effective config being built */
    char **errors;          /* "file:line: error: message" */
    int n_errors, cap_errors;
    char **files;           /* every file read; settings point at these names */
    int n_files, cap_files;
    int n_overrides;        /* --set assignments applied so far */
};

/* The file name settings created by --set carry (their line is the override's position). */
#define WB_CONFIG_CMDLINE "<command line>"

/* Adds an error located at a file and line (line 0: no line known). */
void wb_cfg_error_file(wb_config *cfg, const char *file, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Adds an error located where setting s came from (its nearest ancestor with a
 * source file when s itself was filled in as a default). */
void wb_cfg_error_at(wb_config *cfg, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Keeps a copy of a file name for the lifetime of cfg; NULL when out of memory. */
const char *wb_cfg_intern_file(wb_config *cfg, const char *name);
/* The experiment file (the first file loaded), or "<config>" before any. */
const char *wb_cfg_main_file(const wb_config *cfg);

#endif
