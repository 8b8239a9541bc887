/* Reading an experiment file and its bases.
 *
 * libconfig 1.5 splices `@include` text in place and resolves every include
 * against one directory, and it rejects a key set twice, so a derived file
 * could not change a base value. Instead each file is parsed on its own with
 * its `@include` lines blanked (line numbers stay true), its bases are loaded
 * and merged first, relative to the including file's directory, and its own
 * settings are merged over them (see config.h for the merge rule). */
#include "config_internal.h"
#include "config_text.h"
#include "config_tree.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include "../io/file_read.h"

#define WB_MAX_INCLUDE_DEPTH 16
#define WB_MAX_INCLUDES_PER_FILE 32
/* Bounds on one experiment with all its bases: a base included from many
 * files is read each time, so a few files including each other many times
 * would otherwise be read exponentially often. */
#define WB_MAX_FILES_READ 256
#define WB_MAX_FILE_BYTES ((size_t)16 << 20)
#define WB_MAX_TOTAL_BYTES ((size_t)64 << 20)
/* libconfig looks for a duplicate name in the whole group at every new
 * setting: 50000 settings take a minute. Real experiments have hundreds. */
#define WB_MAX_SETTINGS 10000

typedef struct include_line {
    char *target; /* as written */
    unsigned line;
} include_line;

typedef struct load_stack {
    char *canonical[WB_MAX_INCLUDE_DEPTH + 1];
    const char *shown[WB_MAX_INCLUDE_DEPTH + 1];
    int depth;
    int files_read;
    size_t bytes_read;
    int over_budget; /* reported once; every later read is refused quietly */
    size_t settings_left;
} load_stack;

/* Parses `@include "path"` at the start of a line (libconfig's own rule),
 * blanks the line and records the target. Returns -1 on a malformed line. */
static int parse_include(char *line_start, char *line_end, include_line *out) {
    char *p = line_start;
    while (p < line_end && (*p == ' ' || *p == '\t')) p++;
    p += strlen("@include");
    if (p >= line_end || (*p != ' ' && *p != '\t')) return -1;
    while (p < line_end && (*p == ' ' || *p == '\t')) p++;
    if (p >= line_end || *p != '"') return -1;
    char *start = ++p;
    while (p < line_end && *p != '"') p++;
    if (p >= line_end || p == start) return -1;
    char *end = p++;
    while (p < line_end && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
    if (p < line_end && *p != '#' && strncmp(p, "//", 2) != 0) return -1;
    out->target = strndup(start, (size_t)(end - start));
    memset(line_start, ' ', (size_t)(line_end - line_start));
    return out->target ? 0 : -1;
}

static int is_include_line(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    return (size_t)(end - p) >= strlen("@include") && strncmp(p, "@include", strlen("@include")) == 0;
}

/* Collects and blanks the include lines of text; reports problems. */
static int take_includes(wb_config *cfg, const char *file, char *text, include_line *incs, int *n_incs) {
    int bad = 0;
    unsigned line = 1;
    for (char *p = text; *p; line++) {
        char *end = strchr(p, '\n');
        if (!end) end = p + strlen(p);
        if (is_include_line(p, end)) {
            if (*n_incs == WB_MAX_INCLUDES_PER_FILE) {
                wb_cfg_error_file(cfg, file, line, "more than %d @include lines in one file",
                                  WB_MAX_INCLUDES_PER_FILE);
                bad = 1;
            } else if (parse_include(p, end, &incs[*n_incs]) != 0) {
                wb_cfg_error_file(cfg, file, line, "malformed @include; write @include \"relative/path.conf\"");
                bad = 1;
            } else {
                incs[(*n_incs)++].line = line;
            }
        }
        p = *end ? end + 1 : end;
    }
    return bad ? -1 : 0;
}

/* libconfig's messages are terse; say how to fix the common ones. */
static const char *parse_hint(const char *msg) {
    if (strstr(msg, "mismatched element type"))
        return " (all elements of an array [...] must have one type: write floats with a decimal point, "
               "[0.5, 1.0, 2.0])";
    if (strstr(msg, "memory exhausted")) /* bison's parser stack, not the machine's memory */
        return " (groups and lists are nested too deeply for the config parser)";
    if (strstr(msg, "duplicate setting"))
        return " (a file sets each key once; to change a value of a base, set it in the file that "
               "@includes the base)";
    return "";
}

static char *resolve_include(const char *including, const char *target) {
    const char *slash = strrchr(including, '/');
    if (target[0] == '/' || !slash) return strdup(target);
    size_t dir_len = (size_t)(slash - including) + 1;
    char *path = malloc(dir_len + strlen(target) + 1);
    if (!path) return NULL;
    memcpy(path, including, dir_len);
    strcpy(path + dir_len, target);
    return path;
}

static unsigned first_setting_line(const config_t *tmp) {
    unsigned first = 0;
    const config_setting_t *root = config_root_setting(tmp);
    for (int i = 0; i < config_setting_length(root); i++) {
        unsigned l = config_setting_source_line(config_setting_get_elem(root, (unsigned)i));
        if (!first || l < first) first = l;
    }
    return first;
}

static void report_cycle(wb_config *cfg, const load_stack *st, int from, const char *name,
                         const char *inc_file, unsigned inc_line) {
    char chain[2048] = "";
    size_t n = 0;
    for (int i = from; i < st->depth && n < sizeof chain; i++)
        n += (size_t)snprintf(chain + n, sizeof chain - n, "%s -> ", st->shown[i]);
    wb_cfg_error_file(cfg, inc_file, inc_line, "include cycle: %s%s", chain, name);
}

static int load_layer(wb_config *cfg, const char *path, load_stack *st, const char *inc_file,
                      unsigned inc_line);

static int load_bases(wb_config *cfg, const char *name, include_line *incs, int n_incs, unsigned first,
                      load_stack *st) {
    int rc = 0;
    for (int i = 0; i < n_incs; i++) {
        if (first && incs[i].line > first) {
            wb_cfg_error_file(cfg, name, incs[i].line,
                              "@include must come before the first setting of the file (bases are "
                              "merged first, then this file's settings override them)");
            rc = -1;
            continue;
        }
        char *base = resolve_include(name, incs[i].target);
        if (!base || load_layer(cfg, base, st, name, incs[i].line) != 0) rc = -1;
        free(base);
    }
    return rc;
}

/* "why" of wb_read_file's "PATH: why" (messages name the file already). */
static const char *reason(const char *err, const char *path) {
    size_t n = strlen(path);
    return strncmp(err, path, n) == 0 && strncmp(err + n, ": ", 2) == 0 ? err + n + 2 : err;
}

typedef struct text_origin {
    wb_config *cfg;
    const char *file;
} text_origin;

static void report_text(void *user, unsigned line, const char *msg) {
    text_origin *o = user;
    wb_cfg_error_file(o->cfg, o->file, line, "%s", msg);
}

static int over_budget(wb_config *cfg, load_stack *st, const char *inc_file, unsigned inc_line) {
    if (st->files_read < WB_MAX_FILES_READ && st->bytes_read <= WB_MAX_TOTAL_BYTES) return 0;
    if (!st->over_budget)
        wb_cfg_error_file(cfg, inc_file, inc_line,
                          "the experiment reads more than %d files or %zu MiB with its @include bases (a base "
                          "counts each time it is included); include each base once", WB_MAX_FILES_READ,
                          WB_MAX_TOTAL_BYTES >> 20);
    st->over_budget = 1;
    return 1;
}

/* The file's text ready for libconfig, or NULL (reported). */
static char *read_layer(wb_config *cfg, const char *name, load_stack *st, const char *inc_file,
                        unsigned inc_line) {
    char err[PATH_MAX + 256];
    size_t size = 0;
    char *raw = wb_read_file(name, WB_MAX_FILE_BYTES, "config", &size, err, sizeof err);
    if (!raw) {
        if (inc_file)
            wb_cfg_error_file(cfg, inc_file, inc_line, "cannot read included file '%s': %s", name, reason(err, name));
        else
            wb_cfg_error_file(cfg, name, 0, "cannot read the config file: %s", reason(err, name));
        return NULL;
    }
    st->files_read++;
    st->bytes_read += size;
    text_origin origin = { cfg, name };
    char *text = wb_config_text_prepare(raw, size, &st->settings_left, report_text, &origin);
    free(raw);
    return text;
}

static int load_layer(wb_config *cfg, const char *path, load_stack *st, const char *inc_file,
                      unsigned inc_line) {
    const char *name = wb_cfg_intern_file(cfg, path);
    if (!name || over_budget(cfg, st, inc_file, inc_line)) return -1;
    char *text = read_layer(cfg, name, st, inc_file, inc_line);
    char *canonical = text ? realpath(path, NULL) : NULL;
    if (!canonical) {
        if (text) wb_cfg_error_file(cfg, name, 0, "cannot resolve the path of the config file");
        free(text);
        return -1;
    }
    for (int i = 0; i < st->depth; i++) {
        if (strcmp(st->canonical[i], canonical) == 0) {
            report_cycle(cfg, st, i, name, inc_file, inc_line);
            free(canonical);
            free(text);
            return -1;
        }
    }
    if (st->depth == WB_MAX_INCLUDE_DEPTH) {
        wb_cfg_error_file(cfg, inc_file, inc_line, "includes nested deeper than %d files", WB_MAX_INCLUDE_DEPTH);
        free(canonical);
        free(text);
        return -1;
    }

    include_line incs[WB_MAX_INCLUDES_PER_FILE];
    int n_incs = 0, rc = take_includes(cfg, name, text, incs, &n_incs);
    config_t tmp;
    config_init(&tmp);
    if (!config_read_string(&tmp, text)) {
        const char *msg = config_error_text(&tmp);
        wb_cfg_error_file(cfg, name, (unsigned)config_error_line(&tmp), "%s%s", msg, parse_hint(msg));
        rc = -1;
    } else {
        st->canonical[st->depth] = canonical;
        st->shown[st->depth++] = name;
        if (load_bases(cfg, name, incs, n_incs, first_setting_line(&tmp), st) != 0) rc = -1;
        st->depth--;
        config_setting_t *root = config_root_setting(&tmp);
        wb_tree_set_origin(root, name, 0);
        if (wb_tree_merge(config_root_setting(&cfg->tree), root) != 0) {
            wb_cfg_error_file(cfg, name, 0, "out of memory while merging the file");
            rc = -1;
        }
    }
    config_destroy(&tmp);
    for (int i = 0; i < n_incs; i++) free(incs[i].target);
    free(canonical);
    free(text);
    return rc;
}

int wb_config_load(wb_config *cfg, const char *path) {
    load_stack st = { .settings_left = WB_MAX_SETTINGS };
    load_layer(cfg, path, &st, NULL, 0);
    return cfg->n_errors;
}
