#include "search_path.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "build_info.h"

void wb_search_path_init(wb_search_path *sp) { memset(sp, 0, sizeof(*sp)); }

void wb_search_path_free(wb_search_path *sp) {
    for (int i = 0; i < sp->n; i++) {
        free(sp->dirs[i].path);
        free(sp->dirs[i].source);
    }
    free(sp->dirs);
    memset(sp, 0, sizeof(*sp));
}

static bool is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Same directory written two ways ("build/plugins", "./build/plugins/")? */
static bool same_dir(const char *a, const char *b) {
    char ra[PATH_MAX], rb[PATH_MAX];
    if (realpath(a, ra) && realpath(b, rb)) return strcmp(ra, rb) == 0;
    return strcmp(a, b) == 0;
}

bool wb_search_path_add(wb_search_path *sp, const char *dir, const char *source) {
    for (int i = 0; i < sp->n; i++)
        if (same_dir(sp->dirs[i].path, dir)) return true;
    if (sp->n == sp->cap) {
        int cap = sp->cap ? sp->cap * 2 : 8;
        wb_search_dir *grown = realloc(sp->dirs, (size_t)cap * sizeof(*grown));
        if (!grown) return false;
        sp->dirs = grown;
        sp->cap = cap;
    }
    wb_search_dir *d = &sp->dirs[sp->n];
    d->path = strdup(dir);
    d->source = strdup(source);
    if (!d->path || !d->source) {
        free(d->path);
        free(d->source);
        return false;
    }
    d->exists = is_dir(dir);
    sp->n++;
    return true;
}

bool wb_search_path_add_list(wb_search_path *sp, const char *list, const char *source) {
    if (!list) return true;
    char *copy = strdup(list);
    if (!copy) return false;
    bool ok = true;
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && ok; dir = strtok_r(NULL, ":", &save))
        ok = wb_search_path_add(sp, dir, source);
    free(copy);
    return ok;
}

/* The host's own plugin directory (entry 3 of the search order). */
static bool add_host_dir(wb_search_path *sp) {
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        static const char *const relative[] = {"/../lib/workbench/plugins", "/../plugins"};
        for (size_t i = 0; i < sizeof(relative) / sizeof(relative[0]); i++) {
            char dir[PATH_MAX + 32];
            strcpy(dir, exe);
            strcat(dir, relative[i]);
            char resolved[PATH_MAX];
            if (is_dir(dir) && realpath(dir, resolved)) return wb_search_path_add(sp, resolved, "host");
        }
    }
    /* Listed even when missing, so `workbench plugins` shows where it looked. */
    return wb_search_path_add(sp, wb_build_plugin_install_dir(), "host");
}

bool wb_search_path_add_defaults(wb_search_path *sp) {
    return wb_search_path_add_list(sp, getenv("WB_PLUGIN_PATH"), "WB_PLUGIN_PATH") && add_host_dir(sp);
}
