/* YOLO in and out: a data.yaml (names, split folders), images/SPLIT/ and
 * labels/SPLIT/NAME.txt with `class cx cy w h` normalised by the image size
 * (YOLOv5's layout: a label file sits where its image does, /images/ ->
 * /labels/). Polygon lines (segments) are read as their bounding box, as
 * YOLOv5's segments2boxes; sizes come from the image headers. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "../data/image.h"
#include "../formats/yolo/yolo_names.h"
#include "convert_dataset.h"

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = size >= 0 ? malloc((size_t)size + 1) : NULL;
    if (buf) {
        *len = fread(buf, 1, (size_t)size, f);
        buf[*len] = '\0';
    }
    fclose(f);
    return buf;
}

static int is_image(const struct dirent *e) {
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
    const char *dot = strrchr(e->d_name, '.');
    for (size_t i = 0; dot && i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0) return 1;
    return 0;
}

/* YOLOv5's img2label_paths: the last /images/ becomes /labels/, the extension .txt. */
static char *label_path(const char *image) {
    char *out = malloc(strlen(image) + 8);
    if (!out) return NULL;
    const char *at = NULL;
    for (const char *p = strstr(image, "/images/"); p; p = strstr(p + 1, "/images/")) at = p;
    if (at) sprintf(out, "%.*s/labels/%s", (int)(at - image), image, at + 8);
    else strcpy(out, image);
    char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
    if (dot && (!slash || dot > slash)) strcpy(dot, ".txt");
    return out;
}

static wb_status read_labels(const char *path, cv_image *im, int n_classes, char *err, size_t n) {
    size_t len;
    char *text = read_file(path, &len);
    if (!text) return WB_OK; /* no label file: an image of background */
    wb_status st = WB_OK;
    int line_no = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line && st == WB_OK;
         line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        double v[2049];
        int k = 0;
        char *p = line, *end;
        while (k < 2049 && (v[k] = strtod(p, &end), end != p)) p = end, k++;
        if (k == 0) continue;
        if (k < 5 || (k > 5 && (k - 1) % 2 != 0) || v[0] != floor(v[0]) || v[0] < 0 || v[0] >= n_classes) {
            snprintf(err, n, "%s:%d: expected `class cx cy w h` (or a polygon) with a class in 0..%d", path, line_no,
                     n_classes - 1);
            st = WB_ERR_IO;
            break;
        }
        double x1, y1, x2, y2;
        if (k == 5) {
            x1 = (v[1] - v[3] / 2) * im->width, x2 = (v[1] + v[3] / 2) * im->width;
            y1 = (v[2] - v[4] / 2) * im->height, y2 = (v[2] + v[4] / 2) * im->height;
        } else {
            x1 = y1 = INFINITY, x2 = y2 = -INFINITY;
            for (int i = 1; i + 1 < k; i += 2) {
                x1 = fmin(x1, v[i]), x2 = fmax(x2, v[i]), y1 = fmin(y1, v[i + 1]), y2 = fmax(y2, v[i + 1]);
            }
            x1 *= im->width, x2 *= im->width, y1 *= im->height, y2 *= im->height;
        }
        if (!cv_add_box(im, (int)v[0], x1, y1, x2, y2, false)) st = WB_ERR_NOMEM, snprintf(err, n, "out of memory");
    }
    free(text);
    return st;
}

wb_status cv_read_yolo(const char *src, const cv_options *o, cv_dataset *d, char *err, size_t n) {
    size_t len;
    char *text = read_file(src, &len);
    if (!text) {
        snprintf(err, n, "%s: cannot read the data.yaml", src);
        return WB_ERR_IO;
    }
    char **names = NULL, why[512];
    int n_names = yolo_names_parse(text, len, true, &names, why, sizeof why);
    char *dir = n_names > 0 ? yolo_data_split_images(text, len, src, o->split ? o->split : "train", why, sizeof why)
                            : NULL;
    free(text);
    if (!dir) {
        snprintf(err, n, "%s: %s", src, why);
        yolo_names_free(names, n_names);
        return WB_ERR_IO;
    }
    wb_status st = WB_OK;
    for (int i = 0; i < n_names && st == WB_OK; i++)
        if (cv_class(d, names[i], 0) != i) st = WB_ERR_IO, snprintf(err, n, "%s: name '%s' given twice", src, names[i]);
    yolo_names_free(names, n_names);
    struct dirent **list = NULL;
    int k = st == WB_OK ? scandir(dir, &list, is_image, alphasort) : 0;
    if (k < 0) st = WB_ERR_IO, snprintf(err, n, "%s: the image folder %s cannot be listed (list files are not read)",
                                        src, dir);
    for (int i = 0; i < k; i++) {
        char *path = cv_join(dir, list[i]->d_name), *labels = path ? label_path(path) : NULL;
        int w = 0, h = 0;
        cv_image *im = NULL;
        if (st == WB_OK && !labels) st = WB_ERR_NOMEM, snprintf(err, n, "out of memory");
        if (st == WB_OK && wb_image_probe_file(path, &w, &h, why, sizeof why) != WB_OK)
            st = WB_ERR_IO, snprintf(err, n, "%s", why);
        if (st == WB_OK && !(im = cv_add_image(d, list[i]->d_name, path, w, h, d->n_images)))
            st = WB_ERR_NOMEM, snprintf(err, n, "out of memory");
        if (st == WB_OK) st = read_labels(labels, im, d->n_classes, err, n);
        free(path), free(labels), free(list[i]);
    }
    free(list);
    free(dir);
    return st;
}

/* A YAML single-quoted scalar: quotes doubled. */
static void put_quoted(FILE *f, const char *s) {
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

wb_status cv_write_yolo(const cv_dataset *d, const char *dst, const cv_options *o, char *err, size_t n) {
    const char *split = o->split ? o->split : "train";
    char imgs[4096], labels[4096], path[8192];
    snprintf(imgs, sizeof imgs, "%s/images/%s", dst, split);
    snprintf(labels, sizeof labels, "%s/labels/%s", dst, split);
    if (!cv_mkdirs(imgs, err, n) || !cv_mkdirs(labels, err, n)) return WB_ERR_IO;
    int ignored = 0;
    for (int i = 0; i < d->n_images; i++) {
        const cv_image *im = &d->images[i];
        const char *slash = strrchr(im->name, '/');
        char *stem = cv_stem(im->name);
        snprintf(path, sizeof path, "%s/%s.txt", labels, stem ? stem : "");
        free(stem);
        FILE *f = fopen(path, "w");
        for (int k = 0; f && k < im->n_boxes; k++) {
            const cv_box *b = &im->boxes[k];
            ignored += b->ignore;
            fprintf(f, "%d %.10g %.10g %.10g %.10g\n", b->label, (b->x1 + b->x2) / 2 / im->width,
                    (b->y1 + b->y2) / 2 / im->height, (b->x2 - b->x1) / im->width, (b->y2 - b->y1) / im->height);
        }
        if (!f || fclose(f) != 0) {
            snprintf(err, n, "cannot write %s", path);
            return WB_ERR_IO;
        }
        snprintf(path, sizeof path, "%s/%s", imgs, slash ? slash + 1 : im->name);
        if (!cv_link(im->path, path, err, n)) return WB_ERR_IO;
    }
    snprintf(path, sizeof path, "%s/data.yaml", dst);
    FILE *f = fopen(path, "w");
    if (f) {
        fprintf(f, "path: .\n%s: images/%s\nnames:\n", strcmp(split, "val") == 0 || strcmp(split, "test") == 0
                                                              ? split : "train", split);
        for (int i = 0; i < d->n_classes; i++) {
            fprintf(f, "  %d: ", i);
            put_quoted(f, d->classes[i]);
            fputc('\n', f);
        }
    }
    if (!f || fclose(f) != 0) {
        snprintf(err, n, "cannot write %s", path);
        return WB_ERR_IO;
    }
    if (ignored)
        fprintf(stderr, "warning: YOLO labels have no ignore flag: %d crowd / difficult box%s written as plain "
                        "box%s\n", ignored, ignored == 1 ? "" : "es", ignored == 1 ? "" : "es");
    return WB_OK;
}
