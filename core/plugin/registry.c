#include "registry.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "manifest_check.h"
#include "type_index.h"

struct wb_registry {
    wb_plugin_record *plugins;
    int n_plugins, cap_plugins;
    wb_module_entry *modules;
    int n_modules, cap_modules;
    wb_type_index types;
    char **conflicts;
    int n_conflicts, cap_conflicts;
    char error[WB_REASON_MAX];
};

/* array (of elem_size items) with room for item n: unchanged or grown.
 * NULL when out of memory (array is then still valid). */
static void *grow(void *array, int n, int *cap, size_t elem_size) {
    if (n < *cap) return array;
    int grown_cap = *cap ? *cap * 2 : 16;
    void *grown = realloc(array, (size_t)grown_cap * elem_size);
    if (grown) *cap = grown_cap;
    return grown;
}

static wb_status set_error(wb_registry *reg, wb_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static wb_status set_error(wb_registry *reg, wb_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reg->error, sizeof(reg->error), fmt, ap);
    va_end(ap);
    return status;
}

wb_registry *wb_registry_new(void) { return calloc(1, sizeof(wb_registry)); }

void wb_registry_free(wb_registry *reg) {
    if (!reg) return;
    for (int i = 0; i < reg->n_plugins; i++) {
        free(reg->plugins[i].path);
        free(reg->plugins[i].source);
        free(reg->plugins[i].real_path);
    }
    for (int i = 0; i < reg->n_conflicts; i++) free(reg->conflicts[i]);
    free(reg->plugins);
    free(reg->modules);
    wb_type_index_free(&reg->types);
    free(reg->conflicts);
    free(reg);
}

static const char *const g_kind_names[] = {NULL, "backbone", "neck", "head", "loss", "dataset", "transform"};

const char *wb_registry_kind_name(int kind) {
    return kind >= WB_KIND_BACKBONE && kind <= WB_KIND_TRANSFORM ? g_kind_names[kind] : NULL;
}

int wb_registry_kind_from_name(const char *name) {
    for (int k = WB_KIND_BACKBONE; name && k <= WB_KIND_TRANSFORM; k++)
        if (strcmp(g_kind_names[k], name) == 0) return k;
    return 0;
}

static const char *plugin_path(const wb_registry *reg, int plugin) { return reg->plugins[plugin].path; }

/* How a user resolves a type several files define (the experiment's key). */
#define PREFER_HINT "plugins.prefer = [\"<file>\"] (its path or file name)"

static wb_status add_conflict(wb_registry *reg, const wb_module_desc *d, int first, int second) {
    char line[2 * PATH_MAX];
    snprintf(line, sizeof(line),
             "%s '%s' is defined by both %s and %s; choose one with " PREFER_HINT,
             wb_registry_kind_name(d->kind), d->type_name, plugin_path(reg, first), plugin_path(reg, second));
    char *copy = strdup(line);
    char **conflicts = grow(reg->conflicts, reg->n_conflicts, &reg->cap_conflicts, sizeof(char *));
    if (!copy || !conflicts) {
        free(copy);
        return set_error(reg, WB_ERR_NOMEM, "plugin registry: out of memory");
    }
    reg->conflicts = conflicts;
    reg->conflicts[reg->n_conflicts++] = copy;
    return WB_OK;
}

/* Registers the modules of an accepted plugin, reporting duplicates of
 * types registered earlier by other plugins. */
static wb_status register_modules(wb_registry *reg, int plugin) {
    const wb_plugin_manifest *m = reg->plugins[plugin].manifest;
    for (int i = 0; i < m->num_modules; i++) {
        const wb_module_desc *d = m->modules[i];
        wb_module_entry *modules = grow(reg->modules, reg->n_modules, &reg->cap_modules, sizeof(*modules));
        if (!modules) return set_error(reg, WB_ERR_NOMEM, "plugin registry: out of memory");
        reg->modules = modules;
        reg->modules[reg->n_modules] = (wb_module_entry){.desc = d, .plugin = plugin, .preferred = false};
        int earlier;
        if (!wb_type_index_add(&reg->types, reg->modules, reg->n_modules, &earlier))
            return set_error(reg, WB_ERR_NOMEM, "plugin registry: out of memory");
        reg->n_modules++;
        if (earlier >= 0) {
            wb_status st = add_conflict(reg, d, reg->modules[earlier].plugin, plugin);
            if (st != WB_OK) return st;
        }
    }
    return WB_OK;
}

wb_status wb_registry_add_loaded(wb_registry *reg, const char *path, const char *real_path,
                                 const char *source, const wb_plugin_manifest *manifest,
                                 const char *reason) {
    wb_plugin_record *plugins = grow(reg->plugins, reg->n_plugins, &reg->cap_plugins, sizeof(*plugins));
    if (!plugins) return set_error(reg, WB_ERR_NOMEM, "plugin registry: out of memory");
    reg->plugins = plugins;
    wb_plugin_record *r = &reg->plugins[reg->n_plugins];
    memset(r, 0, sizeof(*r));
    r->path = strdup(path ? path : "(unnamed)");
    r->source = strdup(source ? source : "");
    r->real_path = real_path ? strdup(real_path) : NULL;
    if (!r->path || !r->source || (real_path && !r->real_path)) {
        free(r->path);
        free(r->source);
        free(r->real_path);
        return set_error(reg, WB_ERR_NOMEM, "plugin registry: out of memory");
    }
    int index = reg->n_plugins++;
    if (!manifest) {
        snprintf(r->reason, sizeof(r->reason), "%s", reason ? reason : "no manifest");
    } else if (wb_manifest_check(manifest, r->reason, sizeof(r->reason))) {
        r->accepted = true;
        r->manifest = manifest;
        return register_modules(reg, index);
    }
    return set_error(reg, WB_ERR_INVALID, "%s: %s", r->path, r->reason);
}

wb_status wb_registry_add_manifest(wb_registry *reg, const wb_plugin_manifest *manifest, const char *origin) {
    return wb_registry_add_loaded(reg, origin, NULL, "static", manifest, "manifest is NULL");
}

const wb_plugin_record *wb_registry_find_file(const wb_registry *reg, const char *real_path) {
    for (int i = 0; i < reg->n_plugins; i++)
        if (reg->plugins[i].real_path && strcmp(reg->plugins[i].real_path, real_path) == 0)
            return &reg->plugins[i];
    return NULL;
}

int wb_registry_num_plugins(const wb_registry *reg) { return reg->n_plugins; }
const wb_plugin_record *wb_registry_plugin(const wb_registry *reg, int i) { return &reg->plugins[i]; }
int wb_registry_num_modules(const wb_registry *reg) { return reg->n_modules; }
const wb_module_entry *wb_registry_module(const wb_registry *reg, int i) { return &reg->modules[i]; }
int wb_registry_num_conflicts(const wb_registry *reg) { return reg->n_conflicts; }
const char *wb_registry_conflict(const wb_registry *reg, int i) { return reg->conflicts[i]; }
const char *wb_registry_error(const wb_registry *reg) { return reg->error; }

/* The entries of a type of a kind, in registration order: i = first_of(...); i >= 0; i = next_of(...). */
static int first_of(const wb_registry *reg, int kind, const char *type) {
    return type ? wb_type_index_first(&reg->types, reg->modules, kind, type) : -1;
}

static int next_of(const wb_registry *reg, int i) { return wb_type_index_next(&reg->types, i); }

wb_lookup_result wb_registry_lookup(const wb_registry *reg, wb_module_kind kind, const char *type,
                                    const wb_module_entry **found, char *msg, size_t msg_size) {
    const wb_module_entry *first = NULL, *preferred = NULL;
    int count = 0;
    for (int i = first_of(reg, (int)kind, type); i >= 0; i = next_of(reg, i)) {
        const wb_module_entry *e = &reg->modules[i];
        if (!first) first = e;
        if (e->preferred) preferred = e;
        count++;
    }
    if (found) *found = NULL;
    if (count == 0) {
        if (msg) snprintf(msg, msg_size, "no accepted plugin defines %s type '%s'",
                          wb_registry_kind_name(kind) ? wb_registry_kind_name(kind) : "module",
                          type ? type : "(null)");
        return WB_LOOKUP_UNKNOWN;
    }
    if (count == 1 || preferred) {
        if (found) *found = preferred ? preferred : first;
        return WB_LOOKUP_FOUND;
    }
    if (msg) {
        int n = snprintf(msg, msg_size, "%s type '%s' is ambiguous: it is defined by",
                         wb_registry_kind_name(kind), type);
        for (int i = first_of(reg, (int)kind, type), k = 0; i >= 0 && n >= 0 && (size_t)n < msg_size;
             i = next_of(reg, i))
            n += snprintf(msg + n, msg_size - (size_t)n, "%s %s", k++ ? " and" : "",
                          plugin_path(reg, reg->modules[i].plugin));
        if (n >= 0 && (size_t)n < msg_size)
            snprintf(msg + n, msg_size - (size_t)n, "; choose one with " PREFER_HINT);
    }
    return WB_LOOKUP_AMBIGUOUS;
}

const wb_module_desc *wb_registry_find(const wb_registry *reg, wb_module_kind kind, const char *type) {
    const wb_module_entry *e = NULL;
    return wb_registry_lookup(reg, kind, type, &e, NULL, 0) == WB_LOOKUP_FOUND ? e->desc : NULL;
}

const wb_module_desc *wb_registry_find_module(void *user, wb_module_kind kind, const char *type) {
    return wb_registry_find((const wb_registry *)user, kind, type);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int wb_registry_list(const wb_registry *reg, wb_module_kind kind, const char **names, int max) {
    int distinct = 0;
    for (int i = 0; i < reg->n_modules; i++) {
        const wb_module_entry *e = &reg->modules[i];
        /* Each type once: at its first entry. */
        if (e->desc->kind != kind || first_of(reg, (int)kind, e->desc->type_name) != i) continue;
        if (distinct < max) names[distinct] = e->desc->type_name;
        distinct++;
    }
    if (names && max > 0) qsort(names, (size_t)(distinct < max ? distinct : max), sizeof(*names), compare_names);
    return distinct;
}

static bool same_file(const wb_plugin_record *r, const char *path, const char *resolved) {
    return strcmp(r->path, path) == 0 || (r->real_path && resolved && strcmp(r->real_path, resolved) == 0);
}

wb_status wb_registry_prefer(wb_registry *reg, const char *type, const char *path) {
    char resolved[PATH_MAX];
    const char *real = realpath(path, resolved);
    int matched = 0, defined = 0;
    for (int k = WB_KIND_BACKBONE; k <= WB_KIND_TRANSFORM; k++)
        for (int i = first_of(reg, k, type); i >= 0; i = next_of(reg, i)) {
            defined++;
            if (same_file(&reg->plugins[reg->modules[i].plugin], path, real)) matched++;
        }
    if (defined == 0)
        return set_error(reg, WB_ERR_INVALID, "plugins.prefer: no accepted plugin defines type '%s'", type);
    if (matched == 0)
        return set_error(reg, WB_ERR_INVALID,
                         "plugins.prefer: type '%s' is not defined by '%s' (see `workbench plugins` for the "
                         "files that define it)", type, path);
    for (int k = WB_KIND_BACKBONE; k <= WB_KIND_TRANSFORM; k++)
        for (int i = first_of(reg, k, type); i >= 0; i = next_of(reg, i))
            reg->modules[i].preferred = same_file(&reg->plugins[reg->modules[i].plugin], path, real);
    return WB_OK;
}

static const char *file_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static bool names_file(const wb_plugin_record *r, const char *file, const char *resolved) {
    if (!r->accepted) return false;
    return strchr(file, '/') ? same_file(r, file, resolved) : strcmp(file_name(r->path), file) == 0;
}

wb_status wb_registry_prefer_file(wb_registry *reg, const char *file) {
    char resolved[PATH_MAX];
    const char *real = strchr(file, '/') ? realpath(file, resolved) : NULL;
    int chosen = -1;
    for (int i = 0; i < reg->n_plugins; i++) {
        if (!names_file(&reg->plugins[i], file, real)) continue;
        if (chosen >= 0)
            return set_error(reg, WB_ERR_INVALID, "plugins.prefer: '%s' names both %s and %s; give the path of "
                             "the one to use", file, reg->plugins[chosen].path, reg->plugins[i].path);
        chosen = i;
    }
    if (chosen < 0)
        return set_error(reg, WB_ERR_INVALID, "plugins.prefer: no accepted plugin file is '%s' (`workbench "
                         "plugins` lists the files and why any was rejected)", file);
    const wb_plugin_manifest *m = reg->plugins[chosen].manifest;
    for (int i = 0; i < m->num_modules; i++) {
        wb_status st = wb_registry_prefer(reg, m->modules[i]->type_name, reg->plugins[chosen].path);
        if (st != WB_OK) return st;
    }
    return WB_OK;
}
