/* The plugin registry: every plugin file the loader considered (ACCEPTED or
 * REJECTED with a reason) and every module type the accepted ones provide.
 *
 * A manifest is validated as a whole before any of its modules is
 * registered, so a plugin is either fully usable or not at all. Two accepted
 * plugins defining the same type of the same kind are both kept, but the type
 * is ambiguous: lookups fail with a message naming both files until
 * wb_registry_prefer_file() picks one (the experiment's `plugins.prefer`). */
#ifndef WB_CORE_REGISTRY_H
#define WB_CORE_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <workbench/plugin.h>

#define WB_REASON_MAX 512

typedef struct wb_search_path wb_search_path;

typedef struct wb_plugin_record {
    char *path;         /* file path, or the origin given to wb_registry_add_manifest */
    char *source;       /* where it was found: "--plugin-dir", "WB_PLUGIN_PATH", "static", ... */
    char *real_path;    /* resolved file path; NULL for static manifests */
    bool accepted;
    char reason[WB_REASON_MAX]; /* why it was rejected; empty when accepted */
    const wb_plugin_manifest *manifest; /* NULL when rejected */
} wb_plugin_record;

typedef struct wb_module_entry {
    const wb_module_desc *desc;
    int plugin;         /* index of the providing plugin record */
    bool preferred;     /* chosen by wb_registry_prefer among duplicates */
} wb_module_entry;

typedef struct wb_registry wb_registry;

wb_registry *wb_registry_new(void);
/* Frees the bookkeeping. Shared objects stay loaded: module code and static
 * descriptors may still be referenced by whoever looked them up. */
void wb_registry_free(wb_registry *reg);

/* Registers a manifest linked into the program (in-tree plugins in tests).
 * Validated like a loaded one; origin names it in messages. */
wb_status wb_registry_add_manifest(wb_registry *reg, const wb_plugin_manifest *manifest,
                                   const char *origin);

/* Loads one candidate file; source says which search-path entry found it.
 * Returns WB_OK when accepted. A file already loaded (same real path) is
 * skipped and returns WB_OK. */
wb_status wb_registry_load_file(wb_registry *reg, const char *path, const char *source);
/* Loads every `*.so` of every existing directory of the search path, each
 * directory in name order. A rejected file never stops the others. */
void wb_registry_scan(wb_registry *reg, const wb_search_path *sp);

/* For the loader: records a candidate file. add_loaded validates the
 * manifest (NULL manifest = rejected with `reason`); add_rejected records a
 * file that produced no manifest at all. */
wb_status wb_registry_add_loaded(wb_registry *reg, const char *path, const char *real_path,
                                 const char *source, const wb_plugin_manifest *manifest,
                                 const char *reason);
/* The record of a file already considered (same real path), or NULL. */
const wb_plugin_record *wb_registry_find_file(const wb_registry *reg, const char *real_path);

/* Records and entries stay valid until the next add or load. */
int wb_registry_num_plugins(const wb_registry *reg);
const wb_plugin_record *wb_registry_plugin(const wb_registry *reg, int i);
int wb_registry_num_modules(const wb_registry *reg);
const wb_module_entry *wb_registry_module(const wb_registry *reg, int i);

typedef enum wb_lookup_result {
    WB_LOOKUP_FOUND = 0,
    WB_LOOKUP_UNKNOWN = 1,   /* no accepted plugin defines it */
    WB_LOOKUP_AMBIGUOUS = 2  /* several files define it and none is preferred */
} wb_lookup_result;

/* Finds a module type of a kind. On AMBIGUOUS, msg (when not NULL) names every
 * file defining it and how to choose; on UNKNOWN it says so. */
wb_lookup_result wb_registry_lookup(const wb_registry *reg, wb_module_kind kind, const char *type,
                                    const wb_module_entry **found, char *msg, size_t msg_size);
/* The descriptor, or NULL when unknown or ambiguous. */
const wb_module_desc *wb_registry_find(const wb_registry *reg, wb_module_kind kind, const char *type);
/* wb_find_module_fn adapter for wb_session (user is the registry). */
const wb_module_desc *wb_registry_find_module(void *user, wb_module_kind kind, const char *type);
/* Writes up to max distinct type names of a kind (sorted), returns how many exist. */
int wb_registry_list(const wb_registry *reg, wb_module_kind kind, const char **names, int max);
/* Resolves a duplicate: the type (of any kind) comes from the plugin file at
 * path. Fails, with wb_registry_error() saying why, when no accepted plugin
 * loaded from that path defines the type. */
wb_status wb_registry_prefer(wb_registry *reg, const char *type, const char *path);

/* plugins.prefer: every type the accepted plugin `file` defines wins over
 * the other files defining it. file is a path (compared by real path) or a
 * bare file name ("tp_pafpn.so", compared with each plugin's file name).
 * Fails, with wb_registry_error() saying why, when it names no accepted
 * plugin or several. */
wb_status wb_registry_prefer_file(wb_registry *reg, const char *file);

/* Every "type defined twice" report, one line each, naming both files. */
int wb_registry_num_conflicts(const wb_registry *reg);
const char *wb_registry_conflict(const wb_registry *reg, int i);

/* Message of the last failed wb_registry_prefer / add_manifest / load_file. */
const char *wb_registry_error(const wb_registry *reg);

/* "backbone", "neck", "head", "loss", "dataset", "transform"; NULL for anything else. */
const char *wb_registry_kind_name(int kind);
/* Inverse of wb_registry_kind_name; 0 when unknown. */
int wb_registry_kind_from_name(const char *name);

#endif
