#include "yolo_names.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

/* YOLO's data.yaml is two levels deep; anything far deeper is refused
 * before libyaml's state stacks grow with it. */
#define YOLO_YAML_MAX_DEPTH 64

bool yolo_names_is_yaml(const char *path) {
    size_t n = strlen(path);
    return (n > 5 && strcmp(path + n - 5, ".yaml") == 0) || (n > 4 && strcmp(path + n - 4, ".yml") == 0);
}

void yolo_names_free(char **names, int n) {
    for (int i = 0; names && i < n; i++) free(names[i]);
    free(names);
}

typedef struct names_out {
    char **names;
    int n, cap;
} names_out;

/* Stores name at index (growing the array, gaps NULL); false when out of memory. */
static bool put(names_out *o, int index, const char *name, size_t len) {
    if (index >= o->cap) {
        int cap = o->cap ? o->cap : 16;
        while (cap <= index) cap *= 2;
        char **grown = realloc(o->names, sizeof(char *) * (size_t)cap);
        if (!grown) return false;
        memset(grown + o->cap, 0, sizeof(char *) * (size_t)(cap - o->cap));
        o->names = grown, o->cap = cap;
    }
    if (!(o->names[index] = strndup(name, len))) return false;
    if (index >= o->n) o->n = index + 1;
    return true;
}

static int fail(names_out *o, char *err, size_t err_size, const char *why, size_t line) {
    snprintf(err, err_size, "%s (line %zu)", why, line + 1);
    yolo_names_free(o->names, o->n);
    o->names = NULL;
    return 0;
}

static int plain_names(const char *text, size_t len, names_out *o, char *err, size_t err_size) {
    size_t line = 0;
    for (const char *p = text, *end = text + len; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *stop = nl ? nl : end, *q = stop;
        while (p < q && (*p == ' ' || *p == '\t')) p++;
        while (q > p && (q[-1] == ' ' || q[-1] == '\t' || q[-1] == '\r')) q--;
        if (memchr(p, '\0', (size_t)(q - p))) return fail(o, err, err_size, "a NUL byte in a name", line);
        if (q > p && o->n == YOLO_MAX_NAMES) return fail(o, err, err_size, "more than 100000 names", line);
        if (q > p && !put(o, o->n, p, (size_t)(q - p))) return fail(o, err, err_size, "out of memory", line);
        p = stop + 1;
    }
    return o->n;
}

/* A scalar event's value as a name index; -1 when it is not 0..YOLO_MAX_NAMES-1. */
static int index_of(const yaml_event_t *e) {
    const char *s = (const char *)e->data.scalar.value;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    bool digits = *s >= '0' && *s <= '9';
    return digits && !*end && !errno && v < YOLO_MAX_NAMES ? (int)v : -1;
}

/* Reads the value of `names` (the parser is just past its key): "" when
 * read, NULL on a YAML error, else what is wrong. */
static const char *read_names_value(yaml_parser_t *p, names_out *o, size_t *line) {
    yaml_event_t e;
    if (!yaml_parser_parse(p, &e)) return NULL;
    *line = e.start_mark.line;
    yaml_event_type_t kind = e.type;
    yaml_event_delete(&e);
    if (kind != YAML_SEQUENCE_START_EVENT && kind != YAML_MAPPING_START_EVENT)
        return "`names` must be a list of names or a mapping {index: name}";
    for (int i = 0;; i++) {
        int index = i;
        if (kind == YAML_MAPPING_START_EVENT) {
            if (!yaml_parser_parse(p, &e)) return NULL;
            *line = e.start_mark.line;
            if (e.type == YAML_MAPPING_END_EVENT) return yaml_event_delete(&e), "";
            index = e.type == YAML_SCALAR_EVENT ? index_of(&e) : -1;
            yaml_event_delete(&e);
            if (index < 0) return "a `names` key is not an index from 0 to 99999";
            if (index < o->n && o->names[index]) return "a `names` index appears twice";
        }
        if (!yaml_parser_parse(p, &e)) return NULL;
        *line = e.start_mark.line;
        if (kind == YAML_SEQUENCE_START_EVENT && e.type == YAML_SEQUENCE_END_EVENT)
            return yaml_event_delete(&e), "";
        bool ok = e.type == YAML_SCALAR_EVENT;
        bool stored = ok && e.data.scalar.length > 0 && i < YOLO_MAX_NAMES &&
                      !memchr(e.data.scalar.value, '\0', e.data.scalar.length) &&
                      put(o, index, (const char *)e.data.scalar.value, e.data.scalar.length);
        yaml_event_delete(&e);
        if (!ok) return "a name in `names` is not a plain text value";
        if (!stored) return "a name in `names` is empty, holds a NUL byte, or there are too many";
    }
}

/* Skips one value (the parser is just past its key) without recursion. */
static const char *skip_value(yaml_parser_t *p, size_t *line) {
    int depth = 0;
    do {
        yaml_event_t e;
        if (!yaml_parser_parse(p, &e)) return NULL;
        *line = e.start_mark.line;
        if (e.type == YAML_SEQUENCE_START_EVENT || e.type == YAML_MAPPING_START_EVENT) depth++;
        if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT) depth--;
        yaml_event_delete(&e);
        if (depth > YOLO_YAML_MAX_DEPTH) return "nesting deeper than 64 levels";
    } while (depth > 0);
    return "";
}

/* The folders of data.yaml: path, train, val, test (NULL when absent). */
typedef struct folders {
    char *at[4];
} folders;
static const char *const g_folder_keys[4] = {"path", "train", "val", "test"};

/* A folder key's value (the parser is just past the key): one text value. */
static const char *read_folder(yaml_parser_t *p, char **out, size_t *line) {
    yaml_event_t e;
    if (!yaml_parser_parse(p, &e)) return NULL;
    *line = e.start_mark.line;
    bool scalar = e.type == YAML_SCALAR_EVENT, nested = e.type == YAML_SEQUENCE_START_EVENT ||
                                                       e.type == YAML_MAPPING_START_EVENT;
    if (scalar && !*out && !memchr(e.data.scalar.value, '\0', e.data.scalar.length))
        *out = strndup((const char *)e.data.scalar.value, e.data.scalar.length);
    yaml_event_delete(&e);
    if (nested) return "a split (path, train, val, test) lists several folders; give one folder or image-list file";
    if (!scalar || !*out) return "a split (path, train, val, test) is not a folder name, or appears twice";
    return "";
}

/* The top-level mapping's `names` (and `nc`, which must agree) and folders. */
static const char *read_yaml(yaml_parser_t *p, names_out *o, long *nc, folders *f, size_t *line) {
    yaml_event_t e;
    int state = 0; /* 0: before the mapping, 1: in it */
    for (;;) {
        if (!yaml_parser_parse(p, &e)) return NULL;
        *line = e.start_mark.line;
        yaml_event_type_t kind = e.type;
        if (kind == YAML_STREAM_END_EVENT || (state == 1 && kind == YAML_MAPPING_END_EVENT)) {
            yaml_event_delete(&e);
            return "";
        }
        if (state == 0) {
            bool start = kind == YAML_MAPPING_START_EVENT;
            bool ignorable = kind == YAML_STREAM_START_EVENT || kind == YAML_DOCUMENT_START_EVENT;
            yaml_event_delete(&e);
            if (start) state = 1;
            else if (!ignorable) return "a data.yaml is a mapping with a `names` key";
            continue;
        }
        bool is_names = kind == YAML_SCALAR_EVENT && strcmp((const char *)e.data.scalar.value, "names") == 0;
        bool is_nc = kind == YAML_SCALAR_EVENT && strcmp((const char *)e.data.scalar.value, "nc") == 0;
        int folder = -1;
        for (int k = 0; kind == YAML_SCALAR_EVENT && k < 4; k++)
            if (strcmp((const char *)e.data.scalar.value, g_folder_keys[k]) == 0) folder = k;
        yaml_event_delete(&e);
        if (folder >= 0) {
            const char *why = read_folder(p, &f->at[folder], line);
            if (!why || *why) return why;
            continue;
        }
        if (is_names && o->n) return "`names` appears twice";
        if (is_names) {
            const char *why = read_names_value(p, o, line);
            if (!why || *why) return why;
            if (!o->n) return "`names` is empty";
            continue;
        }
        if (is_nc) {
            if (!yaml_parser_parse(p, &e)) return NULL;
            *line = e.start_mark.line;
            char *end = NULL;
            errno = 0;
            *nc = e.type == YAML_SCALAR_EVENT ? strtol((const char *)e.data.scalar.value, &end, 10) : -1;
            bool whole = end && end != (char *)e.data.scalar.value && !*end && !errno && *nc >= 0;
            yaml_event_delete(&e);
            if (!whole) return "`nc` is not a whole number";
            continue;
        }
        if (kind != YAML_SCALAR_EVENT) return "a key of data.yaml is not plain text";
        const char *why = skip_value(p, line);
        if (!why || *why) return why;
    }
}

static int yaml_names(const char *text, size_t len, names_out *o, folders *f, char *err, size_t err_size) {
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) return fail(o, err, err_size, "out of memory", 0);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    long nc = -1;
    size_t line = 0;
    const char *why = read_yaml(&p, o, &nc, f, &line);
    char buf[200];
    if (!why) { /* libyaml's own error */
        snprintf(buf, sizeof buf, "not valid YAML: %s", p.problem ? p.problem : "parse error");
        why = buf;
        line = p.problem_mark.line;
    }
    yaml_parser_delete(&p);
    if (*why) return fail(o, err, err_size, why, line);
    if (o->n == 0) return fail(o, err, err_size, "no `names` key", line);
    for (int i = 0; i < o->n; i++)
        if (!o->names[i]) {
            snprintf(buf, sizeof buf, "`names` has no index %d (indices run from 0 without gaps)", i);
            return fail(o, err, err_size, buf, line);
        }
    if (nc >= 0 && nc != o->n) {
        snprintf(buf, sizeof buf, "`nc` is %ld but `names` has %d names", nc, o->n);
        return fail(o, err, err_size, buf, line);
    }
    return o->n;
}

static void free_folders(folders *f) {
    for (int k = 0; k < 4; k++) free(f->at[k]);
}

int yolo_names_parse(const char *text, size_t len, bool yaml, char ***names, char *err, size_t err_size) {
    names_out o = {0};
    folders f = {{0}};
    err[0] = '\0';
    int n = yaml ? yaml_names(text, len, &o, &f, err, err_size) : plain_names(text, len, &o, err, err_size);
    free_folders(&f);
    if (n == 0 && !err[0]) snprintf(err, err_size, "no names");
    *names = n ? o.names : NULL;
    return n;
}

/* dir + "/" + name, or name when it is absolute or dir is empty, or dir when name is empty or ".". */
static char *join(const char *dir, const char *name) {
    if (name[0] == '/' || !dir[0]) return strdup(name);
    if (!name[0] || strcmp(name, ".") == 0) return strdup(dir);
    size_t a = strlen(dir), b = strlen(name);
    char *out = malloc(a + b + 2);
    if (out) snprintf(out, a + b + 2, "%s/%s", dir, name);
    return out;
}

char *yolo_data_split_images(const char *text, size_t len, const char *yaml_path, const char *split, char *err,
                             size_t err_size) {
    names_out o = {0};
    folders f = {{0}};
    int which = -1;
    for (int k = 1; k < 4; k++)
        if (strcmp(split, g_folder_keys[k]) == 0) which = k;
    char *out = NULL;
    err[0] = '\0';
    if (which < 0) {
        snprintf(err, err_size, "split '%s' is none of train, val, test", split);
    } else if (yaml_names(text, len, &o, &f, err, err_size) > 0 && !f.at[which]) {
        snprintf(err, err_size, "%s has no `%s` (the data.yaml names the splits it has)", yaml_path, split);
    } else if (f.at[which]) {
        /* `path` is the dataset root; relative, it is relative to the data.yaml's folder */
        char *dir = strdup(yaml_path), *slash = dir ? strrchr(dir, '/') : NULL;
        if (dir) *(slash ? slash : dir) = '\0';
        char *root = dir ? join(dir, f.at[0] ? f.at[0] : "") : NULL;
        out = root ? join(root, f.at[which]) : NULL;
        if (!out) snprintf(err, err_size, "out of memory");
        free(dir), free(root);
    }
    yolo_names_free(o.names, o.n);
    free_folders(&f);
    return out;
}
