/* Experiment configs: loading with bases, command-line overrides, schema
 * validation with defaults, the effective config and the reference doc.
 *
 * Layering (mmdetection's "base, then my changes"):
 *   - `@include "path"` lines name bases, resolved relative to the directory
 *     of the file that contains the line (so configs/retinanet/x.conf writes
 *     `@include "../_base_/models/retinanet.conf"`). They must come before the
 *     first setting of the file.
 *   - Each file is parsed on its own. Its bases are merged first, in order,
 *     then its own settings are merged over them: a group merges key by key,
 *     anything else (numbers, strings, lists) replaces the base value. A group
 *     whose `type` differs from the base group's `type` replaces it whole,
 *     since another module's keys would not apply.
 *   - `--set a.b.c=value` overrides come next, then validation fills defaults.
 *
 * Every problem is collected as one line `file:line: error: message`; the
 * caller prints them all (settings from `--set` report the file
 * "<command line>" and the position of the override as the line). */
#ifndef WB_CORE_CONFIG_H
#define WB_CORE_CONFIG_H

#include <stdio.h>
#include <libconfig.h>
#include <workbench/plugin.h>

/* How validation reaches the module registry (and the transform table) without
 * depending on it; tests pass hand-written schemas. Any function may be NULL. */
typedef struct wb_module_lookup {
    const wb_module_desc *(*find)(void *user, wb_module_kind kind, const char *type);
    /* Writes up to max type names of a kind, returns how many there are. */
    int (*list)(void *user, wb_module_kind kind, const char **names, int max);
    const wb_param_schema *(*find_transform)(void *user, const char *type);
    int (*list_transforms)(void *user, const char **names, int max);
    void *user;
    /* Why find() has no module for a type that exists (several plugin files
     * define it): writes the message and returns 1; 0 when it does not exist. */
    int (*why_unusable)(void *user, wb_module_kind kind, const char *type, char *msg, size_t size);
} wb_module_lookup;

typedef struct wb_config wb_config;

/* An empty config; NULL only when out of memory. */
wb_config *wb_config_new(void);
void wb_config_free(wb_config *cfg);

/* Reads path and its bases into cfg. Returns the number of errors so far;
 * stop there when it is not 0 (a broken base leaves keys missing, so
 * validation would only add follow-on errors). */
int wb_config_load(wb_config *cfg, const char *path);

/* Applies one `a.b.c=value` override. The value uses libconfig syntax (1,
 * 0.5, true, "text", [1, 2]); a bare word with no libconfig meaning is a
 * string (backend=cuda). Keys of core sections are checked against the core
 * schema here (with a did-you-mean); keys inside module sections are checked
 * by wb_config_validate, which knows the module's schema. Returns the number
 * of errors so far. */
int wb_config_override(wb_config *cfg, const char *assignment);

/* Checks the whole tree against the core schema and, through lookup, every
 * module section and pipeline step; fills defaults into the tree. Reports
 * every problem, not only the first. Returns the number of errors so far. */
int wb_config_validate(wb_config *cfg, const wb_module_lookup *lookup);

/* The same for commands that only read the data (check): the model section
 * may be left out, so a dataset config alone (configs/_base_/datasets/x.conf)
 * is complete; written, it is validated as usual. */
int wb_config_validate_data(wb_config *cfg, const wb_module_lookup *lookup);

/* Validates only the module group at `path` (e.g. one module given on the
 * command line) against the schema of its type, filling defaults. */
int wb_config_validate_module(wb_config *cfg, const char *path, int kind, const wb_module_lookup *lookup);

int wb_config_error_count(const wb_config *cfg);
const char *wb_config_error(const wb_config *cfg, int i);
void wb_config_print_errors(const wb_config *cfg, FILE *out);

/* Writes the effective config (call after validation passed) through a
 * temporary file renamed over path: a symlink at path is replaced, not
 * followed, and a crash leaves the old file whole. 0 on success, -1 with a
 * message in err. */
int wb_config_write(const wb_config *cfg, const char *path, char *err, size_t err_size);

/* The files the config was read from (the experiment, then its bases). */
int wb_config_file_count(const wb_config *cfg);
const char *wb_config_file(const wb_config *cfg, int i);

/* The libconfig tree (e.g. to read plugin_dirs before plugins are loaded). */
config_t *wb_config_tree(wb_config *cfg);
/* The params view of the group at a dotted path ("" = root, "optimizer",
 * "model.head"); NULL when there is no such group. */
const wb_params *wb_config_params(wb_config *cfg, const char *path);

/* Checks a plugin's schema table (NULL names, unknown types, defaults that
 * do not parse or fail their own type/range, ...). owner names the module in
 * messages ("backbone 'resnet'"). Writes the first problem into err and
 * returns -1, or returns 0. */
int wb_param_schema_check(const wb_param_schema *schema, const char *owner, char *err, size_t err_size);

/* Markdown reference of the core schema, the given modules and the transforms
 * the lookup lists (lookup may be NULL). */
int wb_config_write_reference(FILE *out, const wb_module_desc *const *modules, int n_modules,
                              const wb_module_lookup *lookup);

/* "backbone", "neck", "head", "loss", "dataset" ("module" when unknown). */
const char *wb_module_kind_name(int kind);

#endif
