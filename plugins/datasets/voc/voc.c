/* Pascal VOC datasets: <root>/<split> lists image ids; each id has
 * <root>/<ann_dir>/<id>.xml and <root>/<img_dir>/<id><img_suffix>.
 *
 * Box convention: coordinates are used as written, no "- 1" for VOC's 1-based
 * pixels, like mmdetection 2.x/3.x XMLDataset (which also truncates them with
 * int(float(x)); we keep fractional values). Objects whose class is not in
 * `classes` are skipped, as mmdetection does; `difficult` objects are kept
 * with ignore = 1; `truncated` is read but does not change the sample.
 * An annotation that is missing or does not parse drops its image with a
 * warning (count and first file logged); `workbench check` reports each. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds_table.h"
#include "ds_text.h"
#include "voc_xml.h"

typedef struct voc_dataset {
    ds_table table;
    int64_t truncated, skipped_objects, bad_files;
} voc_dataset;

static const wb_param_schema voc_params[] = {
    WB_P_STRING("data_root", "\"\"", "folder the relative paths below are relative to (empty: the working "
                                      "directory); filled from data.data_root when not set here"),
    WB_P_STRING("root", "\"\"", "dataset root holding Annotations/, JPEGImages/, ImageSets/ (empty: data_root)"),
    WB_P_STRING("split", "\"ImageSets/Main/trainval.txt\"", "image id list, relative to root"),
    WB_P_REQUIRED("classes", WB_PARAM_STRING_LIST, "class names; label i is classes[i]"),
    WB_P_STRING("ann_dir", "\"Annotations\"", "annotation folder, relative to root"),
    WB_P_STRING("img_dir", "\"JPEGImages\"", "image folder, relative to root"),
    WB_P_STRING("img_suffix", "\".jpg\"", "image file name = id + img_suffix"),
    WB_PARAM_END,
};

static void voc_close(void *ds) {
    voc_dataset *d = ds;
    if (!d) return;
    ds_table_free(&d->table);
    free(d);
}

static const char *param_or(const wb_host_api *h, const wb_params *p, const char *key, const char *def) {
    const char *v = h->param_has(p, key) ? h->param_string(p, key) : NULL;
    return v ? v : def;
}

/* Adds one image and its objects; 0 only when out of memory. */
static int add_image(wb_ctx *ctx, voc_dataset *d, const char *img_path, const voc_annotation *a, int64_t id) {
    ds_table *t = &d->table;
    if (!ds_table_add_image(t, img_path, a->width, a->height, id)) return 0;
    for (int k = 0; k < a->n_objects; k++) {
        const voc_object *o = &a->objects[k];
        int label = ds_table_class_index(t, o->name);
        if (label < 0) {
            if (d->skipped_objects++ == 0)
                ctx->host->log(ctx, WB_LOG_WARN, "voc: class '%s' in %s is not in `classes`; such objects are skipped",
                               o->name, img_path);
            continue;
        }
        d->truncated += o->truncated;
        if (!ds_table_add_box(t, o->box, label, o->difficult)) return 0;
    }
    return 1;
}

static wb_status voc_load(wb_ctx *ctx, voc_dataset *d, const wb_params *p) {
    const wb_host_api *h = ctx->host;
    int n_classes = 0;
    char **classes = ds_param_strings(h, p, "classes", &n_classes);
    if (n_classes == 0)
        return h->set_error(ctx, WB_ERR_INVALID, "voc: `classes` is empty; list the class names, e.g. "
                                                 "classes = [\"RBC\", \"WBC\", \"Platelets\"]");
    int ok = ds_table_set_classes(&d->table, (const char *const *)classes, n_classes);
    ds_free_strings(classes, n_classes);
    if (!ok) return h->set_error(ctx, WB_ERR_NOMEM, "voc: out of memory");
    /* an absent or empty root is data_root itself */
    char *root = ds_path_join(param_or(h, p, "data_root", ""), param_or(h, p, "root", ""));
    if (!root || !*root || !ds_is_dir(root)) {
        wb_status st = h->set_error(ctx, WB_ERR_IO,
                                    "voc: root '%s' is not a folder (set `root` or `data_root` to the VOC dataset folder)",
                                    root ? root : "(unset)");
        free(root);
        return st;
    }

    char *split = ds_path_join(root, param_or(h, p, "split", "ImageSets/Main/trainval.txt"));
    char *ann_dir = ds_path_join(root, param_or(h, p, "ann_dir", "Annotations"));
    char *img_dir = ds_path_join(root, param_or(h, p, "img_dir", "JPEGImages"));
    const char *suffix = param_or(h, p, "img_suffix", ".jpg");
    char why[512] = "out of memory";
    char *text = split ? ds_read_text(split, DS_MAX_TEXT, NULL, why, sizeof why) : NULL;
    wb_status st = WB_OK;
    if (!text) st = h->set_error(ctx, WB_ERR_IO, "voc: cannot read split file %s", why);
    char *cursor = text, *line, first_bad[512] = "";
    int64_t line_no = 0;
    while (st == WB_OK && (line = ds_next_line(&cursor)) != NULL) {
        line_no++;
        if (!*line) continue;
        /* ImageSets/Main/<class>_train.txt style lines carry "id  1": keep the id. */
        line[strcspn(line, " \t")] = '\0';
        size_t n = strlen(ann_dir) + strlen(img_dir) + strlen(line) + strlen(suffix) + 8;
        char *xml = malloc(n), *img = malloc(n);
        if (!xml || !img) st = h->set_error(ctx, WB_ERR_NOMEM, "voc: out of memory");
        voc_annotation a;
        char err[512];
        if (st == WB_OK) {
            snprintf(xml, n, "%s/%s.xml", ann_dir, line);
            snprintf(img, n, "%s/%s%s", img_dir, line, suffix);
            if (!voc_parse_file(xml, &a, err, sizeof err)) {
                if (d->bad_files++ == 0) snprintf(first_bad, sizeof first_bad, "%s", err);
            } else {
                if (!add_image(ctx, d, img, &a, line_no - 1)) st = h->set_error(ctx, WB_ERR_NOMEM, "voc: out of memory");
                voc_annotation_free(&a);
            }
        }
        free(xml);
        free(img);
    }
    if (d->bad_files)
        h->log(ctx, WB_LOG_WARN, "voc: %lld annotation file(s) skipped (run `workbench check`); first: %s",
               (long long)d->bad_files, first_bad);
    if (st == WB_OK && d->table.n_images == 0)
        st = h->set_error(ctx, WB_ERR_INVALID, "voc: split %s lists no usable image", split);
    free(text);
    free(split);
    free(ann_dir);
    free(img_dir);
    free(root);
    return st;
}

static wb_status voc_open(wb_ctx *ctx, const wb_params *params, void **out) {
    *out = NULL;
    voc_dataset *d = calloc(1, sizeof *d);
    if (!d) return ctx->host->set_error(ctx, WB_ERR_NOMEM, "voc: out of memory");
    wb_status st = voc_load(ctx, d, params);
    if (st != WB_OK) {
        voc_close(d);
        return st;
    }
    ctx->host->log(ctx, WB_LOG_INFO, "voc: %lld images, %lld boxes (%lld truncated), %d classes",
                   (long long)d->table.n_images, (long long)d->table.n_boxes, (long long)d->truncated,
                   d->table.n_classes);
    *out = d;
    return WB_OK;
}

static int64_t voc_length(void *ds) { return ((voc_dataset *)ds)->table.n_images; }

static wb_status voc_get(void *ds, wb_ctx *ctx, int64_t index, wb_sample *sample) {
    voc_dataset *d = ds;
    if (index < 0 || index >= d->table.n_images)
        return ctx->host->set_error(ctx, WB_ERR_INVALID, "voc: index %lld out of range [0, %lld)",
                                    (long long)index, (long long)d->table.n_images);
    wb_status st = ds_table_fill_sample(&d->table, index, sample);
    if (st != WB_OK) return ctx->host->set_error(ctx, st, "voc: out of memory for sample %lld", (long long)index);
    return WB_OK;
}

static void voc_release(void *ds, wb_sample *sample) {
    (void)ds;
    ds_table_release_sample(sample);
}

static int voc_num_classes(void *ds) { return ((voc_dataset *)ds)->table.n_classes; }

static const char *voc_class_name(void *ds, int label) {
    voc_dataset *d = ds;
    return label >= 0 && label < d->table.n_classes ? d->table.class_names[label] : NULL;
}

/* The format has no ids of its own: 1..K in class order, COCO's convention, so a
 * results file matches a COCO conversion of the annotations (ids start at 1). */
static int64_t voc_category_id(void *ds, int label) {
    (void)ds;
    return (int64_t)label + 1;
}

static const wb_dataset_vtable voc_vtable = {
    sizeof(wb_dataset_vtable), voc_open, voc_length, voc_get, voc_release,
    voc_num_classes, voc_class_name, voc_category_id, voc_close,
};

static const wb_module_desc voc_desc = {
    sizeof(wb_module_desc), WB_KIND_DATASET, "voc", "Pascal VOC XML annotations (expat)", 0,
    voc_params, NULL, &voc_vtable, NULL,
};

WB_PLUGIN_DEFINE("dataset_voc", "1.0.0", "MIT", &voc_desc)
