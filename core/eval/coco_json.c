#include "coco_json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../formats/coco/coco_reader.h"
#include "../formats/coco/json_map.h"
#include "../formats/coco/json_pull.h"
#include "../runtime/errmsg.h"

/* Ground truth, collected from the shared COCO reader. */
typedef struct gt_collector {
    wb_coco_gt *gt;
    int cap_images, cap_categories, cap_annotations;
} gt_collector;

static bool gt_image(void *user, int64_t index, const coco_image_entry *e) {
    gt_collector *c = user;
    (void)index;
    if (!coco_grow((void **)&c->gt->image_ids, &c->cap_images, c->gt->n_images, sizeof *c->gt->image_ids)) return false;
    c->gt->image_ids[c->gt->n_images++] = e->id;
    return true;
}

static bool gt_category(void *user, int64_t index, const coco_category_entry *e) {
    gt_collector *c = user;
    (void)index;
    if (!coco_grow((void **)&c->gt->categories, &c->cap_categories, c->gt->n_categories, sizeof *c->gt->categories))
        return false;
    char *name = strdup(e->name);
    if (!name) return false;
    c->gt->categories[c->gt->n_categories++] = (wb_coco_category){e->id, name};
    return true;
}

static bool gt_annotation(void *user, int64_t index, const coco_annotation_entry *e) {
    gt_collector *c = user;
    (void)index;
    if (!coco_grow((void **)&c->gt->annotations, &c->cap_annotations, c->gt->n_annotations, sizeof *c->gt->annotations))
        return false;
    wb_coco_annotation *a = &c->gt->annotations[c->gt->n_annotations++];
    *a = (wb_coco_annotation){e->id, e->image_id, e->category_id, {e->bbox[0], e->bbox[1], e->bbox[2], e->bbox[3]},
                              e->has_area ? e->area : e->bbox[2] * e->bbox[3], e->iscrowd};
    return true;
}

static wb_status read_gt(const char *path, wb_coco_gt *gt, char *err, size_t err_size) {
    gt_collector c = {.gt = gt};
    /* pycocotools indexes annotations by id: it is required here. */
    const coco_visitor v = {&c, COCO_NEED_ANNOTATION_ID, gt_image, gt_category, gt_annotation, NULL};
    coco_problem problem;
    int have = coco_parse_file(path, &v, &problem);
    if (have < 0 && problem.section == COCO_TOP && strcmp(problem.what, "expected an object") == 0)
        return wb_fail_msg(err, err_size, WB_ERR_IO,
                           "%s: not a COCO instances file (the top level is not an object; a results file?)", path);
    if (have < 0) {
        char text[512];
        coco_problem_text(&problem, text, sizeof text);
        return problem.line > 0 ? wb_fail_msg(err, err_size, WB_ERR_IO, "%s: %s", path, text)
                                : wb_fail_msg(err, err_size, WB_ERR_IO, "%s", text);
    }
    if (have != (COCO_HAVE_IMAGES | COCO_HAVE_CATEGORIES | COCO_HAVE_ANNOTATIONS))
        return wb_fail_msg(err, err_size, WB_ERR_IO,
                           "%s: not a COCO instances file (needs the arrays \"images\", \"categories\" and "
                           "\"annotations\")",
                           path);
    return WB_OK;
}

wb_status wb_coco_gt_load(const char *path, wb_coco_gt *gt, char *err, size_t err_size) {
    *gt = (wb_coco_gt){0};
    wb_status st = read_gt(path, gt, err, err_size);
    if (st != WB_OK) wb_coco_gt_free(gt);
    return st;
}

/* One detection object of a results file; false with a message in what. */
static bool read_detection(json_pull *j, wb_coco_detection *d, char *what, size_t n) {
    static const char *const keys[] = {"image_id", "category_id", "bbox", "score"};
    unsigned seen = 0;
    char key[32];
    if (!json_object_begin(j)) return false;
    while (json_next_key(j, key, sizeof key)) {
        int k = 0;
        while (k < 4 && strcmp(key, keys[k]) != 0) k++;
        if (k < 4 && (seen & 1u << k)) return snprintf(what, n, "repeated key \"%s\"", key), false;
        if (k < 4) seen |= 1u << k;
        const char *tok;
        size_t len;
        int64_t *id = k == 0 ? &d->image_id : &d->category_id;
        double *box[4] = {&d->x, &d->y, &d->w, &d->h};
        if (k < 2) {
            if (!json_number_token(j, &tok, &len)) return false;
            if (!json_token_id(tok, len, id))
                return snprintf(what, n, "\"%s\": %.*s is not an integer id (a whole number of at most 2^53)", key,
                                len > 40 ? 40 : (int)len, tok), false;
        } else if (k == 2) {
            int i = 0;
            if (!json_array_begin(j)) return false;
            while (json_array_next(j))
                if (i == 4 || !json_number(j, box[i++])) return false;
            if (json_failed(j) || i != 4) return false;
        } else if (k == 3) {
            if (!json_number(j, &d->score)) return false;
        } else if (!json_skip(j)) {
            return false;
        }
    }
    return !json_failed(j) && seen == 15u;
}

static wb_status read_results(const char *path, const json_map *m, wb_coco_detection **dets, size_t *n_dets,
                              char *err, size_t err_size) {
    json_pull j;
    json_init(&j, m->text, m->length);
    size_t n = 0, cap = 0;
    if (!json_array_begin(&j))
        return wb_fail_msg(err, err_size, WB_ERR_IO, "%s: a COCO results file is a JSON array of detections", path);
    while (json_array_next(&j)) {
        if (n == cap) {
            size_t next = cap ? 2 * cap : 1024;
            wb_coco_detection *p = realloc(*dets, next * sizeof *p);
            if (!p) return wb_fail_msg(err, err_size, WB_ERR_NOMEM, "%s: out of memory", path);
            *dets = p, cap = next;
        }
        char what[256] = "";
        if (!read_detection(&j, &(*dets)[n], what, sizeof what)) {
            if (!what[0] && json_failed(&j)) snprintf(what, sizeof what, "%s", j.err);
            return wb_fail_msg(err, err_size, WB_ERR_IO,
                               "%s: detection %zu needs integer \"image_id\" and \"category_id\", a \"bbox\" of 4 "
                               "numbers [x, y, w, h] and a numeric \"score\" (%s)",
                               path, n, what[0] ? what : "one is missing");
        }
        n++;
    }
    if (!json_failed(&j) && json_peek(&j) != JSON_NONE) json_fail(&j, "text after the array");
    if (json_failed(&j)) return wb_fail_msg(err, err_size, WB_ERR_IO, "%s: not valid JSON: %s", path, j.err);
    *n_dets = n;
    return WB_OK;
}

/* The same reading rules as ground truth (core/formats/coco/): grammar,
 * depth limit, exact ids, finite numbers, no key twice. */
wb_status wb_coco_results_load(const char *path, wb_coco_detection **dets, size_t *n_dets, char *err,
                               size_t err_size) {
    *dets = NULL;
    *n_dets = 0;
    json_map m;
    if (!json_map_open(&m, path, err, err_size)) return WB_ERR_IO;
    wb_status st = read_results(path, &m, dets, n_dets, err, err_size);
    json_map_close(&m);
    if (st != WB_OK) {
        free(*dets);
        *dets = NULL;
        *n_dets = 0;
    }
    return st;
}

static cJSON *detection_json(const wb_coco_detection *d) {
    cJSON *o = cJSON_CreateObject();
    const double bbox[4] = {d->x, d->y, d->w, d->h};
    if (o && cJSON_AddNumberToObject(o, "image_id", (double)d->image_id) &&
        cJSON_AddNumberToObject(o, "category_id", (double)d->category_id) &&
        cJSON_AddItemToObject(o, "bbox", cJSON_CreateDoubleArray(bbox, 4)) &&
        cJSON_AddNumberToObject(o, "score", d->score))
        return o;
    cJSON_Delete(o);
    return NULL;
}

bool wb_coco_detection_push(wb_coco_detection_list *l, wb_coco_detection d) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 1024;
        wb_coco_detection *grown = realloc(l->d, cap * sizeof *grown);
        if (!grown) return false;
        l->d = grown;
        l->cap = cap;
    }
    l->d[l->n++] = d;
    return true;
}

/* Writes root (consumed) to path, compact, with a final newline. */
static wb_status save_json(const char *path, cJSON *root, bool ok, const char *what, char *err, size_t err_size) {
    /* cJSON prints the shortest form that reads back to the same double. */
    char *text = ok && root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) return wb_fail_msg(err, err_size, WB_ERR_NOMEM, "%s: out of memory while writing %s", path, what);
    FILE *f = fopen(path, "wb");
    bool written = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) written = false;
    free(text);
    if (!written) return wb_fail_msg(err, err_size, WB_ERR_IO, "%s: cannot write %s (%s)", path, what, strerror(errno));
    return WB_OK;
}

wb_status wb_coco_results_save(const char *path, const wb_coco_detection *dets, size_t n_dets, char *err,
                               size_t err_size) {
    cJSON *root = cJSON_CreateArray();
    bool ok = root != NULL;
    for (size_t i = 0; ok && i < n_dets; i++) {
        cJSON *d = detection_json(&dets[i]);
        ok = d && cJSON_AddItemToArray(root, d);
    }
    return save_json(path, root, ok, "results", err, err_size);
}

void wb_coco_companion_path(const char *results_path, const char *what, char *out, size_t out_size) {
    size_t len = strlen(results_path);
    if (len >= 5 && strcmp(results_path + len - 5, ".json") == 0) len -= 5;
    snprintf(out, out_size, "%.*s.%s.json", (int)len, results_path, what);
}

wb_status wb_coco_images_save(const char *path, const wb_coco_image_info *images, size_t n_images, char *err,
                              size_t err_size) {
    cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray();
    bool ok = root && list && cJSON_AddItemToObject(root, "images", list);
    if (!ok) cJSON_Delete(list);
    for (size_t i = 0; ok && i < n_images; i++) {
        const wb_coco_image_info *im = &images[i];
        cJSON *c = cJSON_CreateObject();
        ok = c && cJSON_AddItemToArray(list, c);
        if (!ok) cJSON_Delete(c);
        ok = ok && cJSON_AddNumberToObject(c, "id", (double)im->id) &&
             cJSON_AddStringToObject(c, "file_name", im->file_name) && cJSON_AddNumberToObject(c, "width", im->width) &&
             cJSON_AddNumberToObject(c, "height", im->height);
    }
    return save_json(path, root, ok, "the image list", err, err_size);
}

wb_status wb_coco_categories_save(const char *path, const wb_coco_category *cats, int n_cats, char *err,
                                  size_t err_size) {
    cJSON *root = cJSON_CreateObject(), *list = cJSON_CreateArray();
    bool ok = root && list && cJSON_AddItemToObject(root, "categories", list);
    if (!ok) cJSON_Delete(list);
    for (int k = 0; ok && k < n_cats; k++) {
        cJSON *c = cJSON_CreateObject();
        ok = c && cJSON_AddItemToArray(list, c);
        if (!ok) cJSON_Delete(c);
        ok = ok && cJSON_AddNumberToObject(c, "id", (double)cats[k].id) &&
             cJSON_AddStringToObject(c, "name", cats[k].name);
    }
    return save_json(path, root, ok, "the categories", err, err_size);
}
