/* Which loaded plugin file an address (code or data) belongs to. Readable
 * from a signal handler: entries are only ever added, never moved or freed,
 * and each is complete before it is published. */
#ifndef WB_CORE_PLUGIN_MAP_H
#define WB_CORE_PLUGIN_MAP_H

#include <stdint.h>

typedef struct wb_mapped_plugin {
    uintptr_t lo, hi;          /* [lo, hi): every loaded segment of the file */
    const char *path;          /* the resolved file path */
    const char *volatile name; /* the manifest's name once accepted, else NULL */
    struct wb_mapped_plugin *next;
} wb_mapped_plugin;

/* Records a file dlopen has just loaded (by the real path given to dlopen). */
void wb_plugin_map_add(const char *real_path);
/* Names the recorded file once its manifest is accepted (name must outlive the process: it is the plugin's). */
void wb_plugin_map_name(const char *real_path, const char *name);
/* The plugin file whose segments contain addr, or NULL. Async-signal-safe. */
const wb_mapped_plugin *wb_plugin_map_find(const void *addr);
/* The record of a file by its real path, or NULL. Async-signal-safe. */
const wb_mapped_plugin *wb_plugin_map_file(const char *real_path);

#endif
