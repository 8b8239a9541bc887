#include "yolo_labels.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ds_table.h"
#include "ds_text.h"

char *yolo_label_path(const char *image_path) {
    size_t n = strlen(image_path);
    char *out = malloc(n + 8);
    if (!out) return NULL;
    strcpy(out, image_path);
    char *hit = NULL;
    for (char *p = strstr(out, "/images/"); p; p = strstr(p + 1, "/images/")) hit = p;
    if (hit) memcpy(hit, "/labels/", 8);
    char *slash = strrchr(out, '/'), *dot = strrchr(out, '.');
    if (dot && (!slash || dot > slash)) *dot = '\0';
    strcat(out, ".txt");
    return out;
}

int yolo_parse_line(char *line, int num_classes, int *cls, float box[4], const char **why) {
    double v[256];
    int n = 0;
    char *p = line;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        double x = strtod(p, &end);
        if (end == p || errno || !isfinite(x)) {
            *why = "a value is not a finite number";
            return -1;
        }
        if (n == (int)(sizeof v / sizeof v[0])) {
            *why = "too many values on the line";
            return -1;
        }
        v[n++] = x;
        p = end;
    }
    if (n == 0) return 0;
    if (n != 5 && (n < 7 || n % 2 == 0)) {
        *why = "expected 5 values (class cx cy w h) or a polygon (class x1 y1 x2 y2 x3 y3 ...)";
        return -1;
    }
    if (v[0] != floor(v[0]) || v[0] < 0 || v[0] >= num_classes) {
        *why = "class is not an integer in [0, number of names)";
        return -1;
    }
    *cls = (int)v[0];
    if (n == 5) {
        for (int k = 0; k < 4; k++) box[k] = (float)v[1 + k];
    } else {
        double x1 = v[1], y1 = v[2], x2 = v[1], y2 = v[2];
        for (int k = 1; k < n; k += 2) {
            x1 = fmin(x1, v[k]), x2 = fmax(x2, v[k]);
            y1 = fmin(y1, v[k + 1]), y2 = fmax(y2, v[k + 1]);
        }
        box[0] = (float)((x1 + x2) / 2), box[1] = (float)((y1 + y2) / 2);
        box[2] = (float)(x2 - x1), box[3] = (float)(y2 - y1);
    }
    if (box[2] <= 0 || box[3] <= 0) {
        *why = "width or height is zero or negative";
        return -1;
    }
    return 1;
}

static int append(char ***names, int *n, int *cap, int index, const char *name) {
    if (index >= *cap) {
        int c = *cap ? *cap : 16;
        while (c <= index) c *= 2;
        char **grown = realloc(*names, sizeof(char *) * (size_t)c);
        if (!grown) return 0;
        memset(grown + *cap, 0, sizeof(char *) * (size_t)(c - *cap));
        *names = grown;
        *cap = c;
    }
    free((*names)[index]);
    (*names)[index] = strdup(name);
    if (index >= *n) *n = index + 1;
    return (*names)[index] != NULL;
}

/* Strips YAML quotes around a scalar. */
static char *unquote(char *s) {
    size_t n = strlen(s);
    if (n >= 2 && (s[0] == '\'' || s[0] == '"') && s[n - 1] == s[0]) {
        s[n - 1] = '\0';
        return s + 1;
    }
    return s;
}

char **yolo_read_names(const char *path, int *n) {
    *n = 0;
    char *text = ds_read_text(path, NULL);
    if (!text) return NULL;
    char **names = NULL;
    int cap = 0, in_block = 0, ok = 1;
    size_t len = strlen(path);
    int yaml = (len > 5 && strcmp(path + len - 5, ".yaml") == 0) || (len > 4 && strcmp(path + len - 4, ".yml") == 0);
    char *cursor = text, *line;
    while (ok && (line = ds_next_line(&cursor)) != NULL) {
        if (!yaml) {
            if (*line) ok = append(&names, n, &cap, *n, line);
            continue;
        }
        if (strncmp(line, "names:", 6) == 0) {
            char *rest = line + 6;
            while (*rest == ' ') rest++;
            if (*rest == '[') { /* names: [a, 'b c', d] */
                for (char *tok = strtok(rest + 1, ",]"); ok && tok; tok = strtok(NULL, ",]")) {
                    while (*tok == ' ') tok++;
                    char *end = tok + strlen(tok);
                    while (end > tok && end[-1] == ' ') *--end = '\0';
                    if (*tok) ok = append(&names, n, &cap, *n, unquote(tok));
                }
            }
            in_block = *rest == '\0';
            continue;
        }
        if (!in_block) continue;
        char *colon = strchr(line, ':'), *end;
        long idx = strtol(line, &end, 10);
        if (colon && end == colon && end != line && idx >= 0 && idx < 100000) {
            char *name = colon + 1;
            while (*name == ' ') name++;
            ok = append(&names, n, &cap, (int)idx, unquote(name));
        } else if (*line && line[0] != '#') {
            in_block = 0; /* the next top-level key */
        }
    }
    free(text);
    for (int i = 0; ok && i < *n; i++) ok = names[i] != NULL; /* gaps in the numbering */
    if (!ok) {
        ds_free_strings(names, *n);
        *n = 0;
        return NULL;
    }
    return names;
}
