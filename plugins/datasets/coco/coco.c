/* COCO instances files. Categories become labels 0..C-1 in ascending id
 * order (names from the file; category_id(label) gives the id back for
 * results files); iscrowd boxes are kept with ignore = 1; bbox [x, y, w, h]
 * becomes [x, y, x + w, y + h] in pixels, as mmdetection's CocoDataset.
 * `classes` keeps a subset (labels follow id order within it). Annotations
 * naming an unknown image or category are skipped with a warning. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coco_json.h"
#include "ds_table.h"
#include "ds_text.h"

typedef struct coco_dataset {
    ds_table table;
    int64_t *category_ids; /* label -> COCO id */
} coco_dataset;

static const wb_param_schema coco_params[] = {
    WB_P_STRING("data_root", "\"\"", "folder the relative paths below are relative to (empty: the working "
                                      "directory); filled from data.data_root when not set here"),
    WB_P_REQUIRED("ann_file", WB_PARAM_STRING, "COCO instances JSON file"),
    WB_P_REQUIRED("img_dir", WB_PARAM_STRING, "folder the file_name values are relative to"),
    WB_P_STRING_LIST("classes", "[]", "keep only these category names (empty: all)"),
    WB_P_BOOL("filter_empty", "false", "drop images without any annotation of a kept class"),
    WB_P_INT("min_size", "0", 0, 1e9, "drop images whose shorter side is below this many pixels"),
    WB_PARAM_END,
};

static int cmp_category(const void *a, const void *b) {
    int64_t x = ((const coco_category *)a)->id, y = ((const coco_category *)b)->id;
    return (x > y) - (x < y);
}

typedef struct id_index {
    int64_t id, index;
} id_index;

static int cmp_id(const void *a, const void *b) {
    int64_t x = ((const id_index *)a)->id, y = ((const id_index *)b)->id;
    return (x > y) - (x < y);
}

static int64_t find_index(const id_index *map, int64_t n, int64_t id) {
    id_index key = {id, 0};
    const id_index *hit = bsearch(&key, map, (size_t)n, sizeof *map, cmp_id);
    return hit ? hit->index : -1;
}

static void coco_close(void *ds) {
    coco_dataset *d = ds;
    if (!d) return;
    ds_table_free(&d->table);
    free(d->category_ids);
    free(d);
}

/* Labels for the kept categories (id order); cat_label[k] = -1 when dropped. */
static wb_status choose_categories(wb_ctx *ctx, coco_dataset *d, coco_file *f, const wb_params *p, int *cat_label) {
    const wb_host_api *h = ctx->host;
    int n_sel = 0;
    char **sel = ds_param_strings(h, p, "classes", &n_sel);
    if (f->n_categories) qsort(f->categories, (size_t)f->n_categories, sizeof(coco_category), cmp_category);
    for (int s = 0; s < n_sel; s++) {
        int found = 0;
        for (int k = 0; k < f->n_categories && !found; k++) found = strcmp(f->categories[k].name, sel[s]) == 0;
        if (!found) {
            ds_free_strings(sel, n_sel);
            return h->set_error(ctx, WB_ERR_INVALID, "coco: class '%s' in `classes` is not a category of the file",
                                sel[s]);
        }
    }
    const char **names = calloc((size_t)f->n_categories + 1, sizeof(char *));
    d->category_ids = calloc((size_t)f->n_categories + 1, sizeof(int64_t));
    int n = 0;
    for (int k = 0; names && d->category_ids && k < f->n_categories; k++) {
        int keep = n_sel == 0;
        for (int s = 0; s < n_sel && !keep; s++) keep = strcmp(f->categories[k].name, sel[s]) == 0;
        if (k > 0 && f->categories[k].id == f->categories[k - 1].id) {
            free(names);
            ds_free_strings(sel, n_sel);
            return h->set_error(ctx, WB_ERR_INVALID, "coco: category id %lld appears twice",
                                (long long)f->categories[k].id);
        }
        cat_label[k] = keep ? n : -1;
        if (keep) {
            names[n] = f->categories[k].name;
            d->category_ids[n++] = f->categories[k].id;
        }
    }
    int ok = names && d->category_ids && ds_table_set_classes(&d->table, names, n);
    free(names);
    ds_free_strings(sel, n_sel);
    return ok ? WB_OK : h->set_error(ctx, WB_ERR_NOMEM, "coco: out of memory");
}

static wb_status build_table(wb_ctx *ctx, coco_dataset *d, coco_file *f, const wb_params *p,
                             const char *img_dir) {
    const wb_host_api *h = ctx->host;
    int filter_empty = h->param_has(p, "filter_empty") && h->param_bool(p, "filter_empty");
    int64_t min_size = h->param_has(p, "min_size") ? h->param_int(p, "min_size") : 0;
    int *cat_label = calloc((size_t)f->n_categories + 1, sizeof(int));
    id_index *cats = calloc((size_t)f->n_categories + 1, sizeof(id_index));
    id_index *imgs = calloc((size_t)f->n_images + 1, sizeof(id_index));
    int64_t *order = calloc((size_t)f->n_annotations + 1, sizeof(int64_t));
    int64_t *start = calloc((size_t)f->n_images + 2, sizeof(int64_t));
    uint8_t *keep = calloc((size_t)f->n_images + 1, 1);
    wb_status st = WB_OK;
    if (!cat_label || !cats || !imgs || !order || !start || !keep) {
        st = h->set_error(ctx, WB_ERR_NOMEM, "coco: out of memory");
        goto done;
    }
    if ((st = choose_categories(ctx, d, f, p, cat_label)) != WB_OK) goto done;
    for (int k = 0; k < f->n_categories; k++) cats[k] = (id_index){f->categories[k].id, k};
    for (int64_t i = 0; i < f->n_images; i++) imgs[i] = (id_index){f->images[i].id, i};
    qsort(imgs, (size_t)f->n_images, sizeof *imgs, cmp_id);
    for (int64_t i = 1; i < f->n_images; i++) {
        if (imgs[i].id == imgs[i - 1].id) {
            st = h->set_error(ctx, WB_ERR_INVALID, "coco: image id %lld appears twice", (long long)imgs[i].id);
            goto done;
        }
    }
    /* Group annotations by image, keeping file order within an image. */
    int64_t unknown = 0;
    for (int64_t a = 0; a < f->n_annotations; a++) {
        int64_t im = find_index(imgs, f->n_images, f->annotations[a].image_id);
        int64_t c = find_index(cats, f->n_categories, f->annotations[a].category_id);
        if (im < 0 || c < 0) {
            if (unknown++ == 0)
                h->log(ctx, WB_LOG_WARN, "coco: annotations[%lld] names unknown %s %lld; such annotations are skipped",
                       (long long)a, im < 0 ? "image_id" : "category_id",
                       (long long)(im < 0 ? f->annotations[a].image_id : f->annotations[a].category_id));
            order[a] = -1;
            continue;
        }
        f->annotations[a].category_id = cat_label[c]; /* reused: the label, -1 when not kept */
        order[a] = im;
        if (cat_label[c] >= 0) start[im + 1]++;
    }
    if (unknown) h->log(ctx, WB_LOG_WARN, "coco: %lld annotation(s) skipped in total", (long long)unknown);
    for (int64_t i = 0; i < f->n_images; i++) {
        const coco_image *im = &f->images[i];
        int small = (im->width < im->height ? im->width : im->height) < min_size;
        keep[i] = !small && !(filter_empty && start[i + 1] == 0);
        char *path = ds_path_join(img_dir, im->file_name ? im->file_name : "");
        if (!path || !ds_table_add_image(&d->table, path, im->width, im->height, im->id)) {
            free(path);
            st = h->set_error(ctx, WB_ERR_NOMEM, "coco: out of memory");
            goto done;
        }
        free(path);
    }
    {
        /* Boxes grouped by image with a counting sort (start[] holds the
         * per-image counts), in file order within an image. */
        for (int64_t i = 0; i < f->n_images; i++) start[i + 1] += start[i];
        int64_t total = start[f->n_images];
        int64_t *sorted = malloc(sizeof(int64_t) * (size_t)(total + 1));
        int64_t *fill = malloc(sizeof(int64_t) * (size_t)(f->n_images + 1));
        float *boxes = malloc(sizeof(float) * 4 * (size_t)(total + 1));
        int *labels = malloc(sizeof(int) * (size_t)(total + 1));
        uint8_t *ignore = malloc((size_t)total + 1);
        if (!sorted || !fill || !boxes || !labels || !ignore) {
            free(sorted), free(fill), free(boxes), free(labels), free(ignore);
            st = h->set_error(ctx, WB_ERR_NOMEM, "coco: out of memory");
            goto done;
        }
        memcpy(fill, start, sizeof(int64_t) * (size_t)f->n_images);
        for (int64_t a = 0; a < f->n_annotations; a++)
            if (order[a] >= 0 && f->annotations[a].category_id >= 0) sorted[fill[order[a]]++] = a;
        for (int64_t k = 0; k < total; k++) {
            const coco_annotation *an = &f->annotations[sorted[k]];
            const float *b = an->bbox;
            float xyxy[4] = {b[0], b[1], b[0] + b[2], b[1] + b[3]};
            memcpy(boxes + 4 * k, xyxy, sizeof xyxy);
            labels[k] = (int)an->category_id;
            ignore[k] = (uint8_t)an->iscrowd;
        }
        ds_table *t = &d->table;
        free(t->boxes), free(t->labels), free(t->ignore);
        t->boxes = boxes, t->labels = labels, t->ignore = ignore;
        t->n_boxes = t->cap_boxes = total;
        for (int64_t i = 0; i < f->n_images; i++) {
            t->images[i].first_box = start[i];
            t->images[i].num_boxes = (int)(start[i + 1] - start[i]);
        }
        free(sorted);
        free(fill);
    }
    ds_table_filter(&d->table, keep);
done:
    free(cat_label), free(cats), free(imgs), free(order), free(start), free(keep);
    return st;
}

static wb_status coco_open(wb_ctx *ctx, const wb_params *params, void **out) {
    const wb_host_api *h = ctx->host;
    *out = NULL;
    char *ann_file = ds_param_path(h, params, "ann_file"), *img_dir = ds_param_path(h, params, "img_dir");
    if (!ann_file || !img_dir) {
        free(ann_file), free(img_dir);
        return h->set_error(ctx, WB_ERR_INVALID, "coco: `ann_file` and `img_dir` are required");
    }
    coco_dataset *d = calloc(1, sizeof *d);
    coco_file f;
    char err[512];
    wb_status st = WB_OK;
    if (!d) {
        st = h->set_error(ctx, WB_ERR_NOMEM, "coco: out of memory");
    } else if (!coco_read(ann_file, &f, err, sizeof err)) {
        st = h->set_error(ctx, WB_ERR_IO, "coco: %s", err);
    } else {
        st = build_table(ctx, d, &f, params, img_dir);
        coco_file_free(&f);
    }
    if (st == WB_OK && d->table.n_images == 0)
        st = h->set_error(ctx, WB_ERR_INVALID, "coco: %s leaves no image (check `classes`, `filter_empty`, `min_size`)",
                          ann_file);
    if (st == WB_OK)
        h->log(ctx, WB_LOG_INFO, "coco: %lld images, %lld boxes, %d classes from %s", (long long)d->table.n_images,
               (long long)d->table.n_boxes, d->table.n_classes, ann_file);
    free(ann_file), free(img_dir);
    if (st != WB_OK) {
        coco_close(d);
        return st;
    }
    *out = d;
    return WB_OK;
}

static int64_t coco_length(void *ds) { return ((coco_dataset *)ds)->table.n_images; }

static wb_status coco_get(void *ds, wb_ctx *ctx, int64_t index, wb_sample *sample) {
    coco_dataset *d = ds;
    if (index < 0 || index >= d->table.n_images)
        return ctx->host->set_error(ctx, WB_ERR_INVALID, "coco: index %lld out of range [0, %lld)", (long long)index,
                                    (long long)d->table.n_images);
    wb_status st = ds_table_fill_sample(&d->table, index, sample);
    return st == WB_OK ? WB_OK : ctx->host->set_error(ctx, st, "coco: out of memory for sample %lld", (long long)index);
}

static void coco_release(void *ds, wb_sample *sample) {
    (void)ds;
    ds_table_release_sample(sample);
}

static int coco_num_classes(void *ds) { return ((coco_dataset *)ds)->table.n_classes; }

static const char *coco_class_name(void *ds, int label) {
    coco_dataset *d = ds;
    return label >= 0 && label < d->table.n_classes ? d->table.class_names[label] : NULL;
}

static int64_t coco_category_id(void *ds, int label) {
    coco_dataset *d = ds;
    return label >= 0 && label < d->table.n_classes ? d->category_ids[label] : -1;
}

static const wb_dataset_vtable coco_vtable = {
    sizeof(wb_dataset_vtable), coco_open, coco_length, coco_get, coco_release,
    coco_num_classes, coco_class_name, coco_category_id, coco_close,
};

static const wb_module_desc coco_desc = {
    sizeof(wb_module_desc), WB_KIND_DATASET, "coco", "COCO instances JSON (streaming parser)", 0,
    coco_params, NULL, &coco_vtable, NULL,
};

WB_PLUGIN_DEFINE("dataset_coco", "1.0.0", "MIT", &coco_desc)
