#include "coco_json.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../runtime/errmsg.h"


static wb_status parse_file(const char *path, cJSON **root, char *err, size_t err_size) {
    FILE *f = fopen(path, "rb");
    if (!f) return wb_fail_msg(err, err_size, WB_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    char *text = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
        text = malloc((size_t)size + 1);
    bool read_ok = text && fread(text, 1, (size_t)size, f) == (size_t)size;
    fclose(f);
    if (!read_ok) {
        free(text);
        return wb_fail_msg(err, err_size, text ? WB_ERR_IO : WB_ERR_NOMEM, "%s: cannot read the file", path);
    }
    *root = cJSON_ParseWithLength(text, (size_t)size);
    if (!*root) {
        const char *at = cJSON_GetErrorPtr();
        long offset = at && at >= text && at <= text + size ? (long)(at - text) : -1;
        free(text);
        return wb_fail_msg(err, err_size, WB_ERR_IO, "%s: not valid JSON (error near byte %ld)", path, offset);
    }
    free(text);
    return WB_OK;
}

/* An integer id field (JSON numbers are doubles; ids must be whole). */
static bool get_id(const cJSON *obj, const char *key, int64_t *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 9007199254740992.0)
        return false;
    *out = (int64_t)v->valuedouble;
    return true;
}

static bool get_bbox(const cJSON *obj, double bbox[4]) {
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(obj, "bbox");
    if (!cJSON_IsArray(b) || cJSON_GetArraySize(b) != 4) return false;
    int i = 0;
    const cJSON *v;
    cJSON_ArrayForEach(v, b) {
        if (!cJSON_IsNumber(v)) return false;
        bbox[i++] = v->valuedouble;
    }
    return true;
}

static const cJSON *get_array(const cJSON *root, const char *key) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, key);
    return cJSON_IsArray(a) ? a : NULL;
}

static wb_status read_gt(const char *path, const cJSON *root, wb_coco_gt *gt, char *err, size_t err_size) {
    const cJSON *images = get_array(root, "images"), *cats = get_array(root, "categories");
    const cJSON *anns = get_array(root, "annotations");
    if (!images || !cats || !anns)
        return wb_fail_msg(err, err_size, WB_ERR_IO,
                    "%s: not a COCO instances file (needs the arrays \"images\", \"categories\" and \"annotations\")",
                    path);
    int n_img = cJSON_GetArraySize(images), n_cat = cJSON_GetArraySize(cats), n_ann = cJSON_GetArraySize(anns);
    gt->image_ids = malloc(((size_t)n_img + 1) * sizeof *gt->image_ids);
    gt->categories = calloc((size_t)n_cat + 1, sizeof *gt->categories);
    gt->annotations = malloc(((size_t)n_ann + 1) * sizeof *gt->annotations);
    if (!gt->image_ids || !gt->categories || !gt->annotations)
        return wb_fail_msg(err, err_size, WB_ERR_NOMEM, "%s: out of memory", path);

    const cJSON *item;
    cJSON_ArrayForEach(item, images) {
        if (!get_id(item, "id", &gt->image_ids[gt->n_images]))
            return wb_fail_msg(err, err_size, WB_ERR_IO, "%s: images[%d] has no integer \"id\"", path, gt->n_images);
        gt->n_images++;
    }
    cJSON_ArrayForEach(item, cats) {
        wb_coco_category *c = &gt->categories[gt->n_categories];
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(item, "name");
        if (!get_id(item, "id", &c->id))
            return wb_fail_msg(err, err_size, WB_ERR_IO, "%s: categories[%d] has no integer \"id\"", path,
                        gt->n_categories);
        c->name = strdup(cJSON_IsString(name) ? name->valuestring : "");
        if (!c->name) return wb_fail_msg(err, err_size, WB_ERR_NOMEM, "%s: out of memory", path);
        gt->n_categories++;
    }
    cJSON_ArrayForEach(item, anns) {
        int i = gt->n_annotations;
        wb_coco_annotation *a = &gt->annotations[i];
        if (!get_id(item, "id", &a->id) || !get_id(item, "image_id", &a->image_id) ||
            !get_id(item, "category_id", &a->category_id) || !get_bbox(item, a->bbox))
            return wb_fail_msg(err, err_size, WB_ERR_IO,
                        "%s: annotations[%d] needs integer \"id\", \"image_id\", \"category_id\" and a "
                        "\"bbox\" of 4 numbers",
                        path, i);
        const cJSON *area = cJSON_GetObjectItemCaseSensitive(item, "area");
        const cJSON *crowd = cJSON_GetObjectItemCaseSensitive(item, "iscrowd");
        a->area = cJSON_IsNumber(area) ? area->valuedouble : a->bbox[2] * a->bbox[3];
        a->iscrowd = (cJSON_IsNumber(crowd) && crowd->valuedouble != 0) || cJSON_IsTrue(crowd);
        gt->n_annotations++;
    }
    return WB_OK;
}

wb_status wb_coco_gt_load(const char *path, wb_coco_gt *gt, char *err, size_t err_size) {
    *gt = (wb_coco_gt){0};
    cJSON *root;
    wb_status st = parse_file(path, &root, err, err_size);
    if (st != WB_OK) return st;
    st = read_gt(path, root, gt, err, err_size);
    cJSON_Delete(root);
    if (st != WB_OK) wb_coco_gt_free(gt);
    return st;
}

wb_status wb_coco_results_load(const char *path, wb_coco_detection **dets, size_t *n_dets, char *err,
                               size_t err_size) {
    *dets = NULL;
    *n_dets = 0;
    cJSON *root;
    wb_status st = parse_file(path, &root, err, err_size);
    if (st != WB_OK) return st;
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        return wb_fail_msg(err, err_size, WB_ERR_IO, "%s: a COCO results file is a JSON array of detections", path);
    }
    size_t n = (size_t)cJSON_GetArraySize(root);
    wb_coco_detection *out = malloc((n + 1) * sizeof *out);
    if (!out) st = wb_fail_msg(err, err_size, WB_ERR_NOMEM, "%s: out of memory", path);
    size_t i = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, root) {
        if (st != WB_OK) break;
        wb_coco_detection *d = &out[i];
        double bbox[4];
        const cJSON *score = cJSON_GetObjectItemCaseSensitive(item, "score");
        if (!get_id(item, "image_id", &d->image_id) || !get_id(item, "category_id", &d->category_id) ||
            !get_bbox(item, bbox) || !cJSON_IsNumber(score)) {
            st = wb_fail_msg(err, err_size, WB_ERR_IO,
                      "%s: detection %zu needs integer \"image_id\" and \"category_id\", a \"bbox\" of 4 "
                      "numbers [x, y, w, h] and a numeric \"score\"",
                      path, i);
            break;
        }
        d->x = bbox[0], d->y = bbox[1], d->w = bbox[2], d->h = bbox[3];
        d->score = score->valuedouble;
        i++;
    }
    cJSON_Delete(root);
    if (st != WB_OK) {
        free(out);
        return st;
    }
    *dets = out;
    *n_dets = n;
    return WB_OK;
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

wb_status wb_coco_results_save(const char *path, const wb_coco_detection *dets, size_t n_dets, char *err,
                               size_t err_size) {
    cJSON *root = cJSON_CreateArray();
    bool ok = root != NULL;
    for (size_t i = 0; ok && i < n_dets; i++) {
        cJSON *d = detection_json(&dets[i]);
        ok = d && cJSON_AddItemToArray(root, d);
    }
    /* cJSON prints the shortest form that reads back to the same double. */
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) return wb_fail_msg(err, err_size, WB_ERR_NOMEM, "%s: out of memory while writing results", path);
    FILE *f = fopen(path, "wb");
    bool written = f && fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (f && fclose(f) != 0) written = false;
    free(text);
    if (!written) return wb_fail_msg(err, err_size, WB_ERR_IO, "%s: cannot write results (%s)", path, strerror(errno));
    return WB_OK;
}
