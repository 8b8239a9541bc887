/* The ordered list of directories the loader scans for plugins:
 *   1. directories given explicitly (--plugin-dir, the experiment's plugin_dirs),
 *      in the order the caller adds them;
 *   2. $WB_PLUGIN_PATH, colon-separated;
 *   3. the host's own plugin directory: the first existing of
 *      <exe>/../lib/workbench/plugins (installed), <exe>/../plugins (build
 *      tree) and the compile-time install dir; only one, so a build tree
 *      never also picks up an older installed copy of the same plugins.
 * Never the current directory: loading a plugin runs its code (constructors
 * run inside dlopen, before any check), so only directories someone chose
 * are searched, not whatever directory a command happens to run in.
 * A directory reached twice (same real path) is kept once, at its first place. */
#ifndef WB_CORE_SEARCH_PATH_H
#define WB_CORE_SEARCH_PATH_H

#include <stdbool.h>

typedef struct wb_search_dir {
    char *path;
    char *source;   /* "--plugin-dir", "plugin_dirs", "WB_PLUGIN_PATH", "host" */
    bool exists;    /* a readable directory when it was added */
} wb_search_dir;

typedef struct wb_search_path {
    wb_search_dir *dirs;
    int n, cap;
} wb_search_path;

void wb_search_path_init(wb_search_path *sp);
void wb_search_path_free(wb_search_path *sp);
/* Appends dir unless it is already in the list. Returns false only when out of memory. */
bool wb_search_path_add(wb_search_path *sp, const char *dir, const char *source);
/* Appends each entry of a colon-separated list (empty entries are skipped). */
bool wb_search_path_add_list(wb_search_path *sp, const char *list, const char *source);
/* Appends entries 2 and 3 above. */
bool wb_search_path_add_defaults(wb_search_path *sp);

#endif
