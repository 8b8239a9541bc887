/* COCO instances JSON in (core/formats/coco's streaming reader) and out (cJSON). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../formats/coco/coco_reader.h"
#include "convert_dataset.h"

typedef struct coco_cat {
    int64_t id;
    char *name;
} coco_cat;

typedef struct coco_ann {
    int64_t image_id, category_id;
    double bbox[4];
    bool iscrowd;
} coco_ann;

typedef struct coco_read {
    cv_dataset *d;
    const char *img_dir;
    coco_cat *cats;
    int n_cats, cap_cats;
    coco_ann *anns;
    int n_anns, cap_anns;
} coco_read;

static bool on_image(void *user, int64_t index, const coco_image_entry *e) {
    (void)index;
    coco_read *r = user;
    char *path = cv_join(r->img_dir, e->file_name);
    bool ok = path && cv_add_image(r->d, e->file_name, path, e->width, e->height, e->id);
    free(path);
    return ok;
}

static bool on_category(void *user, int64_t index, const coco_category_entry *e) {
    (void)index;
    coco_read *r = user;
    if (!coco_grow((void **)&r->cats, &r->cap_cats, r->n_cats, sizeof *r->cats)) return false;
    r->cats[r->n_cats] = (coco_cat){e->id, strdup(e->name)};
    return r->cats[r->n_cats++].name != NULL;
}

static bool on_annotation(void *user, int64_t index, const coco_annotation_entry *e) {
    (void)index;
    coco_read *r = user;
    if (!coco_grow((void **)&r->anns, &r->cap_anns, r->n_anns, sizeof *r->anns)) return false;
    r->anns[r->n_anns++] = (coco_ann){e->image_id, e->category_id, {e->bbox[0], e->bbox[1], e->bbox[2], e->bbox[3]},
                                      e->iscrowd};
    return true;
}

static int by_cat_id(const void *a, const void *b) {
    int64_t x = ((const coco_cat *)a)->id, y = ((const coco_cat *)b)->id;
    return (x > y) - (x < y);
}

static int by_image_id(const void *a, const void *b) {
    int64_t x = ((const cv_image *)a)->id, y = ((const cv_image *)b)->id;
    return (x > y) - (x < y);
}

/* COCO's layout: annotations/instances_NAME.json beside images/NAME/. */
static char *default_images(const char *json) {
    char dir[4096], stem[256];
    snprintf(dir, sizeof dir, "%s", json);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    char *s = cv_stem(json);
    snprintf(stem, sizeof stem, "%s", s && strncmp(s, "instances_", 10) == 0 ? s + 10 : s ? s : "");
    free(s);
    char guess[8192];
    struct stat st;
    snprintf(guess, sizeof guess, "%s/../images/%s", dir, stem);
    if (stat(guess, &st) == 0 && S_ISDIR(st.st_mode)) return strdup(guess);
    snprintf(guess, sizeof guess, "%s/../%s", dir, stem);
    if (stat(guess, &st) == 0 && S_ISDIR(st.st_mode)) return strdup(guess);
    return strdup(dir);
}

wb_status cv_read_coco(const char *src, const cv_options *o, cv_dataset *d, char *err, size_t n) {
    char *img_dir = o->images ? strdup(o->images) : default_images(src);
    coco_read r = {d, img_dir, NULL, 0, 0, NULL, 0, 0};
    coco_visitor v = {&r, COCO_NEED_FILE_NAME | COCO_NEED_SIZE, on_image, on_category, on_annotation, NULL};
    coco_problem fatal;
    wb_status st = WB_OK;
    if (!img_dir) {
        snprintf(err, n, "out of memory");
        return WB_ERR_NOMEM;
    }
    if (coco_parse_file(src, &v, &fatal) < 0) {
        char text[512];
        coco_problem_text(&fatal, text, sizeof text);
        snprintf(err, n, "%s: %s", src, text);
        st = WB_ERR_IO;
    }
    /* labels in category id order, as YOLO's 80 classes follow COCO's ids */
    if (st == WB_OK) qsort(r.cats, (size_t)r.n_cats, sizeof *r.cats, by_cat_id);
    for (int i = 0; st == WB_OK && i < r.n_cats; i++)
        if (cv_class(d, r.cats[i].name, r.cats[i].id) != i) {
            snprintf(err, n, "%s: category name '%s' is given twice (ids %lld and another)", src, r.cats[i].name,
                     (long long)r.cats[i].id);
            st = WB_ERR_IO;
        }
    if (st == WB_OK) qsort(d->images, (size_t)d->n_images, sizeof *d->images, by_image_id);
    for (int i = 0; st == WB_OK && i < r.n_anns; i++) {
        const coco_ann *a = &r.anns[i];
        cv_image key = {.id = a->image_id};
        cv_image *im = bsearch(&key, d->images, (size_t)d->n_images, sizeof *d->images, by_image_id);
        coco_cat ckey = {a->category_id, NULL};
        coco_cat *c = bsearch(&ckey, r.cats, (size_t)r.n_cats, sizeof *r.cats, by_cat_id);
        if (!im || !c) {
            snprintf(err, n, "%s: annotation %d names %s %lld, which the file does not have", src, i,
                     !im ? "image" : "category", (long long)(!im ? a->image_id : a->category_id));
            st = WB_ERR_IO;
        } else if (!cv_add_box(im, (int)(c - r.cats), a->bbox[0], a->bbox[1], a->bbox[0] + a->bbox[2],
                               a->bbox[1] + a->bbox[3], a->iscrowd)) {
            snprintf(err, n, "out of memory");
            st = WB_ERR_NOMEM;
        }
    }
    for (int i = 0; i < r.n_cats; i++) free(r.cats[i].name);
    free(r.cats), free(r.anns), free(img_dir);
    return st;
}

wb_status cv_write_coco(const cv_dataset *d, const char *dst, const cv_options *o, char *err, size_t n) {
    (void)o;
    cJSON *root = cJSON_CreateObject(), *images = cJSON_AddArrayToObject(root, "images");
    cJSON *anns = cJSON_AddArrayToObject(root, "annotations"), *cats = cJSON_AddArrayToObject(root, "categories");
    int64_t ann_id = 1;
    for (int i = 0; images && i < d->n_images; i++) {
        const cv_image *im = &d->images[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "id", (double)im->id);
        cJSON_AddStringToObject(e, "file_name", im->name);
        cJSON_AddNumberToObject(e, "width", im->width);
        cJSON_AddNumberToObject(e, "height", im->height);
        cJSON_AddItemToArray(images, e);
        for (int k = 0; anns && k < im->n_boxes; k++) {
            const cv_box *b = &im->boxes[k];
            double xywh[4] = {b->x1, b->y1, b->x2 - b->x1, b->y2 - b->y1};
            cJSON *a = cJSON_CreateObject();
            cJSON_AddNumberToObject(a, "id", (double)ann_id++);
            cJSON_AddNumberToObject(a, "image_id", (double)im->id);
            cJSON_AddNumberToObject(a, "category_id", (double)d->class_ids[b->label]);
            cJSON_AddItemToObject(a, "bbox", cJSON_CreateDoubleArray(xywh, 4));
            cJSON_AddNumberToObject(a, "area", xywh[2] * xywh[3]);
            cJSON_AddNumberToObject(a, "iscrowd", b->ignore);
            cJSON_AddItemToArray(anns, a);
        }
    }
    for (int i = 0; cats && i < d->n_classes; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddNumberToObject(c, "id", (double)d->class_ids[i]);
        cJSON_AddStringToObject(c, "name", d->classes[i]);
        cJSON_AddItemToArray(cats, c);
    }
    char *text = images && anns && cats ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) {
        snprintf(err, n, "out of memory writing %s", dst);
        return WB_ERR_NOMEM;
    }
    FILE *f = fopen(dst, "w");
    bool ok = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    ok = f && fclose(f) == 0 && ok;
    free(text);
    if (!ok) {
        snprintf(err, n, "cannot write %s", dst);
        return WB_ERR_IO;
    }
    return WB_OK;
}
