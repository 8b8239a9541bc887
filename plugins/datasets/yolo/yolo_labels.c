#include "yolo_labels.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_table.h"
#include "ds_text.h"
#include "yolo_names.h"

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
    for (int k = 1; k < n; k++)
        if (fabs(v[k]) > YOLO_MAX_COORD) {
            *why = "a coordinate is beyond +-1e6 (YOLO coordinates are fractions of the image size)";
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

char **yolo_read_names(const char *path, int *n, char *err, size_t err_size) {
    *n = 0;
    size_t len = 0;
    char why[512];
    char *text = ds_read_text(path, DS_MAX_TEXT, &len, err, err_size);
    if (!text) return NULL;
    char **names = NULL;
    *n = yolo_names_parse(text, len, yolo_names_is_yaml(path), &names, why, sizeof why);
    free(text);
    if (!*n) snprintf(err, err_size, "%s: %s", path, why);
    return names;
}
