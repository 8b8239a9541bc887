/* The dynamic side of the registry: dlopen candidate files, find the entry
 * point, call it and hand the manifest to the registry. Handles are never
 * dlclose'd: descriptors and module code must outlive every lookup. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../runtime/context.h"
#include "plugin_guard.h"
#include "plugin_map.h"
#include "registry.h"
#include "search_path.h"

#define MAX_OTHER_MAJOR 9

/* Entry points get a copy of the host table whose set_error also accepts a
 * NULL context: that is how a plugin explains why it returns no manifest
 * (there is no context at load time). The message lands in t_load_error. */
static wb_host_api g_entry_host;
static pthread_once_t g_entry_host_once = PTHREAD_ONCE_INIT;
static __thread char t_load_error[WB_REASON_MAX];

static wb_status entry_set_error(wb_ctx *ctx, wb_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (ctx)
        wb_ctx_vfail(wb_ctx_impl(ctx), status, fmt, ap);
    else
        vsnprintf(t_load_error, sizeof(t_load_error), fmt, ap);
    va_end(ap);
    return status;
}

static void init_entry_host(void) {
    g_entry_host = *wb_host_api_table();
    g_entry_host.set_error = entry_set_error;
}

static wb_status reject(wb_registry *reg, const char *path, const char *real_path, const char *source,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static wb_status reject(wb_registry *reg, const char *path, const char *real_path, const char *source,
                        const char *fmt, ...) {
    char reason[WB_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    return wb_registry_add_loaded(reg, path, real_path, source, NULL, reason);
}

/* Explains a missing entry point, naming an entry of another ABI major when there is one. */
static wb_status reject_no_entry(wb_registry *reg, const char *path, const char *real, const char *source,
                                 void *handle) {
    for (int major = 0; major <= MAX_OTHER_MAJOR; major++) {
        char symbol[32];
        snprintf(symbol, sizeof(symbol), "wb_plugin_entry_v%d", major);
        if (major != WB_ABI_MAJOR && dlsym(handle, symbol))
            return reject(reg, path, real, source,
                          "no entry point %s; it exports %s, so it was built for ABI major %d and this host "
                          "implements ABI %d.%d; rebuild it against this SDK",
                          WB_ENTRY_NAME, symbol, major, WB_ABI_MAJOR, WB_ABI_MINOR);
    }
    return reject(reg, path, real, source,
                  "no entry point %s: not a workbench plugin (plugins export it with WB_PLUGIN_DEFINE)",
                  WB_ENTRY_NAME);
}

wb_status wb_registry_load_file(wb_registry *reg, const char *path, const char *source) {
    char real[PATH_MAX];
    if (!realpath(path, real))
        return reject(reg, path, NULL, source, "cannot resolve the path: %s", strerror(errno));
    if (wb_registry_find_file(reg, real)) return WB_OK; /* reached twice through the search path */
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return reject(reg, path, real, source, "not a regular file");

    /* dlopen runs the file's constructors: from here on, its code runs. */
    wb_plugin_guard_install();
    char found[96];
    snprintf(found, sizeof found, "while loading it from %s", source ? source : "the search path");
    wb_plugin_call call;
    wb_plugin_call_begin_file(&call, real, "constructors", found);
    dlerror();
    void *handle = dlopen(real, RTLD_NOW | RTLD_LOCAL);
    wb_plugin_call_end(&call);
    if (!handle) {
        const char *why = dlerror();
        return reject(reg, path, real, source, "not a loadable shared object: %s", why ? why : "unknown error");
    }
    wb_plugin_map_add(real);
    wb_plugin_entry_fn entry;
    *(void **)&entry = dlsym(handle, WB_ENTRY_NAME); /* POSIX's way to get a function pointer */
    if (!entry) return reject_no_entry(reg, path, real, source, handle);

    pthread_once(&g_entry_host_once, init_entry_host);
    t_load_error[0] = '\0';
    wb_plugin_call_begin_file(&call, real, "entry point " WB_ENTRY_NAME, found);
    const wb_plugin_manifest *manifest = entry(&g_entry_host);
    wb_plugin_call_end(&call);
    if (!manifest)
        return t_load_error[0]
                   ? reject(reg, path, real, source, "entry point returned no manifest: %s", t_load_error)
                   : reject(reg, path, real, source,
                            "entry point returned no manifest and gave no reason (a plugin explains with "
                            "host->set_error(NULL, status, \"...\") before returning NULL)");
    wb_status accepted = wb_registry_add_loaded(reg, path, real, source, manifest, NULL);
    if (accepted == WB_OK) wb_plugin_map_name(real, manifest->name);
    return accepted;
}

static int compare_strings(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_candidate(const char *name) {
    size_t n = strlen(name);
    return name[0] != '.' && n > 3 && strcmp(name + n - 3, ".so") == 0;
}

/* Candidates of one directory in name order, so results never depend on readdir order. */
static void scan_dir(wb_registry *reg, const wb_search_dir *dir) {
    DIR *d = opendir(dir->path);
    if (!d) return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        if (!is_candidate(e->d_name)) continue;
        if (n == cap) {
            size_t grown_cap = cap ? cap * 2 : 16;
            char **grown = realloc(names, grown_cap * sizeof(*grown));
            if (!grown) break;
            names = grown;
            cap = grown_cap;
        }
        if (!(names[n] = strdup(e->d_name))) break;
        n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof(*names), compare_strings);
    for (size_t i = 0; i < n; i++) {
        char path[PATH_MAX];
        size_t len = strlen(dir->path);
        const char *sep = len && dir->path[len - 1] == '/' ? "" : "/";
        snprintf(path, sizeof(path), "%s%s%s", dir->path, sep, names[i]);
        wb_registry_load_file(reg, path, dir->source);
        free(names[i]);
    }
    free(names);
}

void wb_registry_scan(wb_registry *reg, const wb_search_path *sp) {
    for (int i = 0; i < sp->n; i++)
        if (sp->dirs[i].exists) scan_dir(reg, &sp->dirs[i]);
}
