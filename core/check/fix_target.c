#include "fix_target.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The real path of a path that may not exist yet: its deepest existing
 * ancestor through realpath, the missing rest appended with . and ..
 * applied (nothing in it exists, so no symlink can change their meaning). */
static bool resolve(const char *path, char out[PATH_MAX]) {
    char head[PATH_MAX];
    if (snprintf(head, sizeof head, "%s", *path ? path : ".") >= PATH_MAX) return false;
    size_t cut = strlen(head);
    char *real;
    while (!(real = realpath(head, NULL))) {
        char *slash = strrchr(head, '/');
        if (strcmp(head, ".") == 0) return false;
        if (!slash) {
            strcpy(head, ".");
            cut = 0;
        } else {
            cut = slash == head ? 1 : (size_t)(slash - head);
            head[cut] = '\0';
        }
    }
    snprintf(out, PATH_MAX, "%s", real);
    free(real);
    for (const char *p = *path ? path + cut : ""; *(p += strspn(p, "/"));) {
        size_t len = strcspn(p, "/"), n = strlen(out);
        if (len == 2 && p[0] == '.' && p[1] == '.') {
            char *last = strrchr(out, '/');
            last[last == out] = '\0';
        } else if (!(len == 1 && p[0] == '.')) {
            if (n + 1 + len >= PATH_MAX) return false;
            snprintf(out + n, PATH_MAX - n, "%s%.*s", out[n - 1] == '/' ? "" : "/", (int)len, p);
        }
        p += len;
    }
    return true;
}

/* a is b or lies under it. */
static bool within(const char *a, const char *b) {
    size_t n = strlen(b);
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/' || b[n - 1] == '/');
}

/* How out overlaps the existing input in (a real path), or NULL. */
static const char *overlap(const char *out, const char *in) {
    struct stat st;
    if (stat(in, &st) != 0) return NULL;
    if (within(in, out)) return "holds";
    return S_ISDIR(st.st_mode) && within(out, in) ? "lies inside" : NULL;
}

/* value as the dataset reads it: absolute, or under base. */
static bool input_path(const char *base, const char *value, char real[PATH_MAX]) {
    char joined[PATH_MAX];
    if (!*value) return false;
    if (value[0] == '/' || !*base) snprintf(joined, sizeof joined, "%s", value);
    else if (snprintf(joined, sizeof joined, "%s/%s", base, value) >= (int)sizeof joined) return false;
    char *r = realpath(joined, NULL);
    if (r) snprintf(real, PATH_MAX, "%s", r);
    free(r);
    return r != NULL;
}

static bool refuse(const char *out, const char *real_out, const char *in, const char *key, char *err,
                   size_t err_size) {
    const char *how = overlap(real_out, in);
    if (!how) return false;
    snprintf(err, err_size, "--fix-to: %s %s %s (the dataset's %s); the cleaned files could overwrite the originals: "
             "choose a folder outside the dataset", out, how, in, key);
    return true;
}

bool wb_fix_target_ok(const char *out, const wb_params *p, char *err, size_t err_size) {
    char real_out[PATH_MAX], in[PATH_MAX];
    if (!resolve(out, real_out)) {
        snprintf(err, err_size, "--fix-to: cannot resolve %s", out);
        return false;
    }
    const char *root = wb_params_has(p, "data_root") ? wb_params_string(p, "data_root") : "";
    /* VOC-like datasets resolve their files against `root` under data_root. */
    char nested[PATH_MAX] = "";
    if (wb_params_has(p, "root") && wb_params_string(p, "root")[0])
        snprintf(nested, sizeof nested, "%s%s%s", root, *root ? "/" : "", wb_params_string(p, "root"));
    if (*root && input_path("", root, in) && refuse(out, real_out, in, "data_root", err, err_size)) return false;
    config_setting_t *g = p->group;
    for (int i = 0; i < config_setting_length(g); i++) {
        config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
        const char *key = config_setting_name(s);
        if (config_setting_type(s) != CONFIG_TYPE_STRING || strcmp(key, "type") == 0) continue;
        const char *v = config_setting_get_string(s);
        if (input_path(root, v, in) && refuse(out, real_out, in, key, err, err_size)) return false;
        if (*nested && input_path(nested, v, in) && refuse(out, real_out, in, key, err, err_size)) return false;
    }
    return true;
}
