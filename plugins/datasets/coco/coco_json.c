#include "coco_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coco_reader.h"

/* Growable array helper: 0 when out of memory. */
static int reserve(void **items, int64_t *cap, int64_t need, size_t elem) {
    if (need <= *cap) return 1;
    int64_t n = *cap ? 2 * *cap : 1024;
    while (n < need) n *= 2;
    void *p = realloc(*items, (size_t)n * elem);
    if (!p) return 0;
    *items = p;
    *cap = n;
    return 1;
}

typedef struct collector {
    coco_file *f;
    int64_t cap_images, cap_categories, cap_annotations;
} collector;

static bool add_image(void *user, int64_t index, const coco_image_entry *e) {
    collector *c = user;
    coco_file *f = c->f;
    (void)index;
    if (!reserve((void **)&f->images, &c->cap_images, f->n_images + 1, sizeof(coco_image))) return false;
    char *name = strdup(e->file_name);
    if (!name) return false;
    f->images[f->n_images++] = (coco_image){e->id, name, e->width, e->height};
    return true;
}

static bool add_category(void *user, int64_t index, const coco_category_entry *e) {
    collector *c = user;
    coco_file *f = c->f;
    (void)index;
    if (f->n_categories == INT32_MAX ||
        !reserve((void **)&f->categories, &c->cap_categories, f->n_categories + 1, sizeof(coco_category)))
        return false;
    char *name = strdup(e->name);
    if (!name) return false;
    f->categories[f->n_categories++] = (coco_category){e->id, name};
    return true;
}

static bool add_annotation(void *user, int64_t index, const coco_annotation_entry *e) {
    collector *c = user;
    coco_file *f = c->f;
    (void)index;
    if (!reserve((void **)&f->annotations, &c->cap_annotations, f->n_annotations + 1, sizeof(coco_annotation)))
        return false;
    coco_annotation *a = &f->annotations[f->n_annotations++];
    *a = (coco_annotation){e->image_id, e->category_id, {0}, e->iscrowd};
    for (int k = 0; k < 4; k++) a->bbox[k] = (float)e->bbox[k]; /* within +-1e9: the reader's rule */
    return true;
}

int coco_read(const char *path, coco_file *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    collector c = {.f = out};
    const coco_visitor v = {&c, COCO_NEED_FILE_NAME, add_image, add_category, add_annotation, NULL};
    coco_problem problem;
    int have = coco_parse_file(path, &v, &problem);
    if (have >= 0 && (~have & (COCO_HAVE_IMAGES | COCO_HAVE_CATEGORIES))) {
        snprintf(err, err_size, "%s: %s: missing top-level key", path, have & COCO_HAVE_IMAGES ? "categories" : "images");
        have = -1;
    } else if (have < 0) {
        char text[512];
        coco_problem_text(&problem, text, sizeof text);
        /* A file that cannot be read names itself. */
        if (problem.line > 0) snprintf(err, err_size, "%s: %s", path, text);
        else snprintf(err, err_size, "%s", text);
    }
    if (have < 0) coco_file_free(out);
    return have >= 0;
}

void coco_file_free(coco_file *f) {
    for (int64_t i = 0; i < f->n_images; i++) free(f->images[i].file_name);
    for (int i = 0; i < f->n_categories; i++) free(f->categories[i].name);
    free(f->images);
    free(f->categories);
    free(f->annotations);
    memset(f, 0, sizeof *f);
}
