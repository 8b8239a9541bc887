#include "convert_dataset.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

cv_image *cv_add_image(cv_dataset *d, const char *name, const char *path, int width, int height, int64_t id) {
    if (d->n_images == d->cap) {
        int cap = d->cap ? 2 * d->cap : 64;
        cv_image *grown = realloc(d->images, (size_t)cap * sizeof *grown);
        if (!grown) return NULL;
        d->images = grown, d->cap = cap;
    }
    cv_image *im = &d->images[d->n_images];
    *im = (cv_image){strdup(name), strdup(path), width, height, id, NULL, 0, 0};
    if (!im->name || !im->path) {
        free(im->name), free(im->path);
        return NULL;
    }
    d->n_images++;
    return im;
}

bool cv_add_box(cv_image *im, int label, double x1, double y1, double x2, double y2, bool ignore) {
    if (im->n_boxes == im->cap) {
        int cap = im->cap ? 2 * im->cap : 8;
        cv_box *grown = realloc(im->boxes, (size_t)cap * sizeof *grown);
        if (!grown) return false;
        im->boxes = grown, im->cap = cap;
    }
    im->boxes[im->n_boxes++] = (cv_box){label, x1, y1, x2, y2, ignore};
    return true;
}

int cv_class(cv_dataset *d, const char *name, int64_t id) {
    for (int i = 0; i < d->n_classes; i++)
        if (strcmp(d->classes[i], name) == 0) return i;
    char **names = realloc(d->classes, (size_t)(d->n_classes + 1) * sizeof *names);
    if (names) d->classes = names;
    int64_t *ids = names ? realloc(d->class_ids, (size_t)(d->n_classes + 1) * sizeof *ids) : NULL;
    if (ids) d->class_ids = ids;
    char *copy = ids ? strdup(name) : NULL;
    if (!copy) return -1;
    d->classes[d->n_classes] = copy;
    d->class_ids[d->n_classes] = id > 0 ? id : d->n_classes + 1;
    return d->n_classes++;
}

void cv_dataset_free(cv_dataset *d) {
    for (int i = 0; i < d->n_classes; i++) free(d->classes[i]);
    for (int i = 0; i < d->n_images; i++) {
        free(d->images[i].name), free(d->images[i].path), free(d->images[i].boxes);
    }
    free(d->classes), free(d->class_ids), free(d->images);
    memset(d, 0, sizeof *d);
}

char *cv_join(const char *dir, const char *name) {
    size_t n = strlen(dir) + strlen(name) + 2;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%s%s%s", dir, dir[0] && dir[strlen(dir) - 1] != '/' ? "/" : "", name);
    return out;
}

bool cv_mkdirs(const char *path, char *err, size_t n) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1;; p++) {
        char c = *p;
        if (c != '/' && c != '\0') continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) {
            snprintf(err, n, "cannot create folder %s: %s", buf, strerror(errno));
            return false;
        }
        *p = c;
        if (!c) return true;
    }
}

bool cv_link(const char *src, const char *dst, char *err, size_t n) {
    char real[PATH_MAX];
    if (!realpath(src, real)) {
        snprintf(err, n, "image %s: %s", src, strerror(errno));
        return false;
    }
    unlink(dst); /* a link of an earlier conversion */
    if (symlink(real, dst) != 0) {
        snprintf(err, n, "cannot link %s to %s: %s", dst, real, strerror(errno));
        return false;
    }
    return true;
}

char *cv_stem(const char *name) {
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *out = malloc(len + 1);
    if (out) memcpy(out, base, len), out[len] = '\0';
    return out;
}
