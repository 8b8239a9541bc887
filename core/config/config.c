/* The wb_config object: its tree, the files it read and the errors found. */
#include "config_internal.h"
#include "params.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

wb_config *wb_config_new(void) {
    wb_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg) return NULL;
    config_init(&cfg->tree);
    /* wb_params_of() hangs a malloc'd view on groups; libconfig frees it with them. */
    config_set_destructor(&cfg->tree, free);
    return cfg;
}

void wb_config_free(wb_config *cfg) {
    if (!cfg) return;
    config_destroy(&cfg->tree);
    for (int i = 0; i < cfg->n_errors; i++) free(cfg->errors[i]);
    for (int i = 0; i < cfg->n_files; i++) free(cfg->files[i]);
    free(cfg->errors);
    free(cfg->files);
    free(cfg);
}

static int grow(void *arrayp, int *cap, int need, size_t elem) {
    if (need <= *cap) return 0;
    int cap2 = *cap ? *cap * 2 : 8;
    void *p = realloc(*(void **)arrayp, (size_t)cap2 * elem);
    if (!p) return -1;
    *(void **)arrayp = p;
    *cap = cap2;
    return 0;
}

/* A hostile file can produce thousands of errors (an include cycle reached
 * from every base); the first ones are what the user can act on. */
#define WB_MAX_CONFIG_ERRORS 100

static void add_error(wb_config *cfg, const char *file, unsigned line, const char *fmt, va_list ap) {
    char msg[1024];
    if (cfg->n_errors > WB_MAX_CONFIG_ERRORS) return;
    if (cfg->n_errors == WB_MAX_CONFIG_ERRORS) {
        file = wb_cfg_main_file(cfg);
        line = 0;
        snprintf(msg, sizeof msg, "more than %d errors; fix the ones above first", WB_MAX_CONFIG_ERRORS);
    } else {
        vsnprintf(msg, sizeof msg, fmt, ap);
    }
    if (grow(&cfg->errors, &cfg->cap_errors, cfg->n_errors + 1, sizeof(char *)) != 0) return;
    size_t n = strlen(file) + strlen(msg) + 32;
    char *e = malloc(n);
    if (!e) return;
    if (line)
        snprintf(e, n, "%s:%u: error: %s", file, line, msg);
    else
        snprintf(e, n, "%s: error: %s", file, msg);
    cfg->errors[cfg->n_errors++] = e;
}

void wb_cfg_error_file(wb_config *cfg, const char *file, unsigned line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    add_error(cfg, file ? file : wb_cfg_main_file(cfg), line, fmt, ap);
    va_end(ap);
}

void wb_cfg_error_at(wb_config *cfg, const config_setting_t *s, const char *fmt, ...) {
    while (s && !config_setting_source_file(s)) s = config_setting_parent(s);
    va_list ap;
    va_start(ap, fmt);
    if (s)
        add_error(cfg, config_setting_source_file(s), config_setting_source_line(s), fmt, ap);
    else
        add_error(cfg, wb_cfg_main_file(cfg), 0, fmt, ap);
    va_end(ap);
}

const char *wb_cfg_intern_file(wb_config *cfg, const char *name) {
    for (int i = 0; i < cfg->n_files; i++)
        if (strcmp(cfg->files[i], name) == 0) return cfg->files[i];
    if (grow(&cfg->files, &cfg->cap_files, cfg->n_files + 1, sizeof(char *)) != 0) return NULL;
    char *copy = strdup(name);
    if (copy) cfg->files[cfg->n_files++] = copy;
    return copy;
}

const char *wb_cfg_main_file(const wb_config *cfg) {
    return cfg->n_files ? cfg->files[0] : "<config>";
}

int wb_config_error_count(const wb_config *cfg) { return cfg->n_errors; }

const char *wb_config_error(const wb_config *cfg, int i) {
    return i >= 0 && i < cfg->n_errors ? cfg->errors[i] : NULL;
}

void wb_config_print_errors(const wb_config *cfg, FILE *out) {
    for (int i = 0; i < cfg->n_errors; i++) fprintf(out, "%s\n", cfg->errors[i]);
}

int wb_config_write(const wb_config *cfg, const char *path, char *err, size_t err_size) {
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        snprintf(err, err_size, "cannot write the effective config to %s: the path is too long", path);
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd >= 0) fchmod(fd, 0644); /* mkstemp's 0600 would hide it from the rest of the team */
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(err, err_size, "cannot write the effective config to %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(tmp);
        }
        return -1;
    }
    errno = 0;
    /* config_write takes a non-const config but only reads it. */
    config_write((config_t *)&cfg->tree, f);
    int failed = ferror(f);
    failed |= fclose(f) != 0;
    if (!failed && rename(tmp, path) == 0) return 0;
    snprintf(err, err_size, "cannot write the effective config to %s: %s", path, errno ? strerror(errno) : "write failed");
    unlink(tmp);
    return -1;
}

int wb_config_file_count(const wb_config *cfg) { return cfg->n_files; }

const char *wb_config_file(const wb_config *cfg, int i) { return i >= 0 && i < cfg->n_files ? cfg->files[i] : NULL; }

config_t *wb_config_tree(wb_config *cfg) { return &cfg->tree; }

const wb_params *wb_config_params(wb_config *cfg, const char *path) {
    config_setting_t *g = path[0] ? config_lookup(&cfg->tree, path) : config_root_setting(&cfg->tree);
    return g && config_setting_is_group(g) ? wb_params_of(g) : NULL;
}

const char *wb_module_kind_name(int kind) {
    switch (kind) {
    case WB_KIND_BACKBONE: return "backbone";
    case WB_KIND_NECK: return "neck";
    case WB_KIND_HEAD: return "head";
    case WB_KIND_LOSS: return "loss";
    case WB_KIND_DATASET: return "dataset";
    case WB_KIND_TRANSFORM: return "transform";
    default: return "module";
    }
}
