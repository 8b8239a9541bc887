/* Pascal VOC in (the doctor's expat reader, core/check/voc_read.c) and out:
 * ROOT/Annotations/ID.xml, ROOT/ImageSets/Main/SPLIT.txt, ROOT/JPEGImages/
 * (links to the images) and ROOT/classes.txt, the class order (VOC files
 * carry names only; the reader takes classes.txt when it is there, else the
 * order names first appear in). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../check/voc_read.h"
#include "../data/image.h"
#include "convert_dataset.h"

static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap + 1);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *grown = realloc(buf, 2 * cap + 1);
            if (!grown) free(buf);
            buf = grown, cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0', *len = n;
    return buf;
}

/* Ids of the split file, or those of every Annotations/ID.xml (sorted) without one. */
static char **image_ids(const char *root, const char *split, int *n_ids, char *err, size_t n) {
    char path[8192];
    snprintf(path, sizeof path, "%s/ImageSets/Main/%s.txt", root, split ? split : "trainval");
    size_t len;
    char *text = read_text(path, &len);
    char **ids = NULL;
    int count = 0;
    if (text) {
        for (char *save = NULL, *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
            char id[1024];
            if (sscanf(line, "%1023s", id) != 1) continue;
            char **grown = realloc(ids, (size_t)(count + 1) * sizeof *ids);
            if (!grown || !(grown[count] = strdup(id))) break;
            ids = grown, count++;
        }
        free(text);
    } else if (split) {
        snprintf(err, n, "%s: cannot read the split file", path);
        return NULL;
    } else {
        snprintf(path, sizeof path, "%s/Annotations", root);
        struct dirent **list;
        int k = scandir(path, &list, NULL, alphasort);
        if (k < 0) {
            snprintf(err, n, "%s: neither ImageSets/Main/trainval.txt nor an Annotations folder", root);
            return NULL;
        }
        for (int i = 0; i < k; i++) {
            const char *dot = strrchr(list[i]->d_name, '.');
            if (dot && strcmp(dot, ".xml") == 0) {
                char **grown = realloc(ids, (size_t)(count + 1) * sizeof *ids);
                if (grown) ids = grown, ids[count++] = cv_stem(list[i]->d_name);
            }
            free(list[i]);
        }
        free(list);
    }
    *n_ids = count;
    return ids;
}

/* classes.txt (one name per line) fixes the label order when present. */
static bool read_classes(const char *root, cv_dataset *d) {
    char path[8192];
    snprintf(path, sizeof path, "%s/classes.txt", root);
    size_t len;
    char *text = read_text(path, &len);
    bool ok = true;
    for (char *save = NULL, *line = text ? strtok_r(text, "\r\n", &save) : NULL; line && ok;
         line = strtok_r(NULL, "\r\n", &save))
        if (line[0]) ok = cv_class(d, line, 0) >= 0;
    free(text);
    return ok;
}

/* --classes "a,b,c": the order the experiment's `classes` gives. */
static wb_status given_classes(const char *list, cv_dataset *d) {
    char *copy = strdup(list);
    wb_status st = copy ? WB_OK : WB_ERR_NOMEM;
    for (char *save = NULL, *name = copy ? strtok_r(copy, ",", &save) : NULL; name && st == WB_OK;
         name = strtok_r(NULL, ",", &save))
        if (cv_class(d, name, 0) < 0) st = WB_ERR_NOMEM;
    free(copy);
    return st;
}

static wb_status read_one(const char *root, const char *id, cv_dataset *d, char *err, size_t n) {
    char xml[8192], img[8192], name[1024];
    snprintf(xml, sizeof xml, "%s/Annotations/%s.xml", root, id);
    /* VOC's images are JPEGs; a converted dataset may link others under the same id */
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
    for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++) {
        snprintf(name, sizeof name, "%s%s", id, exts[k]);
        snprintf(img, sizeof img, "%s/JPEGImages/%s", root, name);
        if (access(img, F_OK) == 0) break;
        snprintf(name, sizeof name, "%s.jpg", id);
        snprintf(img, sizeof img, "%s/JPEGImages/%s", root, name);
    }
    voc_doc doc;
    if (!voc_doc_read(xml, &doc, err, n)) return WB_ERR_IO;
    int w = doc.has_size ? atoi(doc.width) : 0, h = doc.has_size ? atoi(doc.height) : 0;
    char why[512];
    if ((w <= 0 || h <= 0) && wb_image_probe_file(img, &w, &h, why, sizeof why) != WB_OK) {
        snprintf(err, n, "%s: no <size> and the image's header cannot tell: %s", xml, why);
        voc_doc_free(&doc);
        return WB_ERR_IO;
    }
    cv_image *im = cv_add_image(d, name, img, w, h, d->n_images);
    wb_status st = im ? WB_OK : WB_ERR_NOMEM;
    for (int i = 0; st == WB_OK && i < doc.n_objects; i++) {
        const voc_doc_object *o = &doc.objects[i];
        double c[4];
        for (int k = 0; k < 4; k++) {
            char *end;
            c[k] = strtod(o->coord[k], &end);
            if (end == o->coord[k]) {
                snprintf(err, n, "%s:%d: object '%s' has no number in its bndbox", xml, o->line, o->name);
                st = WB_ERR_IO;
            }
        }
        int label = st == WB_OK ? cv_class(d, o->name, 0) : 0;
        if (st == WB_OK && (label < 0 || !cv_add_box(im, label, c[0], c[1], c[2], c[3], o->difficult)))
            st = WB_ERR_NOMEM;
    }
    if (st == WB_ERR_NOMEM) snprintf(err, n, "out of memory");
    voc_doc_free(&doc);
    return st;
}

wb_status cv_read_voc(const char *src, const cv_options *o, cv_dataset *d, char *err, size_t n) {
    int n_ids = 0;
    char **ids = image_ids(src, o->split, &n_ids, err, n);
    if (!ids && n_ids == 0 && err[0]) return WB_ERR_IO;
    wb_status st = o->classes ? given_classes(o->classes, d) : read_classes(src, d) ? WB_OK : WB_ERR_NOMEM;
    int fixed = o->classes ? d->n_classes : 0;
    for (int i = 0; st == WB_OK && i < n_ids; i++) st = read_one(src, ids[i], d, err, n);
    if (st == WB_OK && fixed && d->n_classes > fixed) {
        snprintf(err, n, "%s: objects of class '%s' are not in --classes", src, d->classes[fixed]);
        st = WB_ERR_INVALID;
    }
    for (int i = 0; i < n_ids; i++) free(ids[i]);
    free(ids);
    return st;
}

static void put_escaped(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '&') fputs("&amp;", f);
        else if (*s == '<') fputs("&lt;", f);
        else if (*s == '>') fputs("&gt;", f);
        else fputc(*s, f);
    }
}

static bool write_xml(const cv_dataset *d, const cv_image *im, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return false;
    fputs("<annotation>\n\t<folder>JPEGImages</folder>\n\t<filename>", f);
    put_escaped(f, im->name);
    fprintf(f, "</filename>\n\t<size>\n\t\t<width>%d</width>\n\t\t<height>%d</height>\n\t\t<depth>3</depth>\n"
               "\t</size>\n",
            im->width, im->height);
    for (int k = 0; k < im->n_boxes; k++) {
        const cv_box *b = &im->boxes[k];
        fputs("\t<object>\n\t\t<name>", f);
        put_escaped(f, d->classes[b->label]);
        fprintf(f, "</name>\n\t\t<difficult>%d</difficult>\n\t\t<bndbox>\n\t\t\t<xmin>%.10g</xmin>\n"
                   "\t\t\t<ymin>%.10g</ymin>\n\t\t\t<xmax>%.10g</xmax>\n\t\t\t<ymax>%.10g</ymax>\n\t\t</bndbox>\n"
                   "\t</object>\n",
                b->ignore, b->x1, b->y1, b->x2, b->y2);
    }
    fputs("</annotation>\n", f);
    bool ok = !ferror(f);
    return fclose(f) == 0 && ok;
}

wb_status cv_write_voc(const cv_dataset *d, const char *dst, const cv_options *o, char *err, size_t n) {
    char ann[4096], imgs[4096], sets[4096], path[8192];
    snprintf(ann, sizeof ann, "%s/Annotations", dst);
    snprintf(imgs, sizeof imgs, "%s/JPEGImages", dst);
    snprintf(sets, sizeof sets, "%s/ImageSets/Main", dst);
    if (!cv_mkdirs(ann, err, n) || !cv_mkdirs(imgs, err, n) || !cv_mkdirs(sets, err, n)) return WB_ERR_IO;
    snprintf(path, sizeof path, "%s/%s.txt", sets, o->split ? o->split : "trainval");
    FILE *list = fopen(path, "w");
    snprintf(path, sizeof path, "%s/classes.txt", dst);
    FILE *classes = fopen(path, "w");
    wb_status st = list && classes ? WB_OK : WB_ERR_IO;
    if (st != WB_OK) snprintf(err, n, "cannot write %s", list ? path : "the split file");
    for (int i = 0; st == WB_OK && i < d->n_classes; i++) fprintf(classes, "%s\n", d->classes[i]);
    for (int i = 0; st == WB_OK && i < d->n_images; i++) {
        const cv_image *im = &d->images[i];
        char *stem = cv_stem(im->name);
        const char *slash = strrchr(im->name, '/');
        snprintf(path, sizeof path, "%s/%s.xml", ann, stem ? stem : "");
        if (!stem || !write_xml(d, im, path)) {
            snprintf(err, n, "cannot write %s", path);
            st = WB_ERR_IO;
        } else {
            fprintf(list, "%s\n", stem);
            snprintf(path, sizeof path, "%s/%s", imgs, slash ? slash + 1 : im->name);
            if (!cv_link(im->path, path, err, n)) st = WB_ERR_IO;
        }
        free(stem);
    }
    if (list && fclose(list) != 0 && st == WB_OK) st = WB_ERR_IO, snprintf(err, n, "cannot write the split file");
    if (classes && fclose(classes) != 0 && st == WB_OK) st = WB_ERR_IO, snprintf(err, n, "cannot write classes.txt");
    return st;
}
