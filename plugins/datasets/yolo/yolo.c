/* YOLO txt datasets: `images` is a folder or a list file of image paths;
 * each image's labels come from the images/ -> labels/ convention. Boxes
 * are stored normalized and turned into pixels in `get` with the image's
 * real size, read from its header once and cached (thread-safe).
 *
 * Real-world mess is tolerated and reported: an image without a label file
 * is a background image (no boxes); a label file without an image is
 * ignored; a malformed line is skipped. Each kind is counted and logged at
 * open with its first example; `workbench check` lists them all. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ds_table.h"
#include "ds_text.h"
#include "image_header.h"
#include "yolo_labels.h"
#include "yolo_names.h"

typedef struct yolo_dataset {
    ds_table table;
    uint64_t *sizes;         /* per image: width << 32 | height, 0 = not probed yet */
    int64_t no_label, orphan_labels, bad_lines;
} yolo_dataset;

static const wb_param_schema yolo_params[] = {
    WB_P_STRING("data_root", "\"\"", "folder the relative paths below are relative to (empty: the working "
                                      "directory); filled from data.data_root when not set here"),
    WB_P_STRING("images", "\"\"", "folder of images, or a text file listing image paths; empty: the `split` "
                                    "of the data.yaml names_file"),
    WB_P_STRING_LIST("names", "[]", "class names; label i is names[i]"),
    WB_P_STRING("names_file", "\"\"", "file with the names (one per line, or a YOLO data.yaml)"),
    WB_P_STRING("split", "\"\"", "train, val or test: with images empty, the images are that entry of the "
                                   "data.yaml names_file, under its `path` (relative to the data.yaml's folder)"),
    WB_PARAM_END,
};

static int is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    /* the formats the core decodes (YOLOv5's IMG_FORMATS less dng, mpo, pfm) */
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        if (strcasecmp(dot, exts[i]) == 0) return 1;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted paths of the images in dir, or of the .txt files when labels is set. */
static char **list_dir(const char *dir, int labels, int64_t *n) {
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **out = NULL;
    int64_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        int want = labels ? len > 4 && strcmp(e->d_name + len - 4, ".txt") == 0 : is_image_name(e->d_name);
        if (!want) continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            char **grown = realloc(out, sizeof(char *) * (size_t)cap);
            if (!grown) break;
            out = grown;
        }
        if (!(out[*n] = ds_path_join(dir, e->d_name))) break;
        (*n)++;
    }
    closedir(d);
    if (out) qsort(out, (size_t)*n, sizeof(char *), cmp_str);
    return out;
}

/* Image paths from a list file; relative ones are relative to its folder. */
static char **read_list(const char *list_file, int64_t *n, char *why, size_t why_size) {
    *n = 0;
    char *text = ds_read_text(list_file, DS_MAX_TEXT, NULL, why, why_size);
    if (!text) return NULL;
    char *dir = strdup(list_file);
    char *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash) *slash = '\0';
    else if (dir) dir[0] = '\0';
    char **out = NULL, *cursor = text, *line;
    int64_t cap = 0;
    while (dir && (line = ds_next_line(&cursor)) != NULL) {
        if (!*line || line[0] == '#') continue;
        if (strncmp(line, "./", 2) == 0) line += 2;
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            char **grown = realloc(out, sizeof(char *) * (size_t)cap);
            if (!grown) break;
            out = grown;
        }
        if (!(out[*n] = ds_path_join(dir, line))) break;
        (*n)++;
    }
    free(dir);
    free(text);
    return out;
}

static void free_paths(char **paths, int64_t n) {
    for (int64_t i = 0; paths && i < n; i++) free(paths[i]);
    free(paths);
}

static void yolo_close(void *ds) {
    yolo_dataset *d = ds;
    if (!d) return;
    ds_table_free(&d->table);
    free(d->sizes);
    free(d);
}

static wb_status load_names(wb_ctx *ctx, yolo_dataset *d, const wb_params *p) {
    const wb_host_api *h = ctx->host;
    int n = 0;
    char **names = ds_param_strings(h, p, "names", &n);
    const char *given = h->param_has(p, "names_file") ? h->param_string(p, "names_file") : NULL;
    if (n == 0 && given && *given) {
        char *file = ds_param_path(h, p, "names_file"), why[600] = "out of memory";
        names = file ? yolo_read_names(file, &n, why, sizeof why) : NULL;
        wb_status st = n == 0 ? h->set_error(ctx, WB_ERR_IO, "yolo: no class names in names_file %s", why) : WB_OK;
        free(file);
        if (st != WB_OK) return st;
    }
    if (n == 0) return h->set_error(ctx, WB_ERR_INVALID, "yolo: give the class names with `names` or `names_file`");
    int ok = ds_table_set_classes(&d->table, (const char *const *)names, n);
    ds_free_strings(names, n);
    return ok ? WB_OK : h->set_error(ctx, WB_ERR_NOMEM, "yolo: out of memory");
}

/* Adds one image and the boxes of its label file (normalized cx cy w h). A
 * missing label file means no objects; one that exists but cannot be read
 * (a FIFO, a folder, too large) is an error, not an empty image. */
static wb_status add_image(wb_ctx *ctx, yolo_dataset *d, const char *img_path, int64_t id) {
    const wb_host_api *h = ctx->host;
    ds_table *t = &d->table;
    char *label_path = ds_table_add_image(t, img_path, 0, 0, id) ? yolo_label_path(img_path) : NULL;
    if (!label_path) return h->set_error(ctx, WB_ERR_NOMEM, "yolo: out of memory");
    if (access(label_path, F_OK) != 0) {
        if (d->no_label++ == 0)
            h->log(ctx, WB_LOG_WARN, "yolo: no label file %s; the image is used without objects", label_path);
        free(label_path);
        return WB_OK;
    }
    char why_read[512];
    char *text = ds_read_text(label_path, YOLO_MAX_LABEL_BYTES, NULL, why_read, sizeof why_read);
    free(label_path);
    if (!text) return h->set_error(ctx, WB_ERR_IO, "yolo: label file %s", why_read);
    char *cursor = text, *line;
    int ok = 1, line_no = 0;
    while (ok && (line = ds_next_line(&cursor)) != NULL) {
        line_no++;
        int cls;
        float box[4];
        const char *why = NULL;
        int r = yolo_parse_line(line, t->n_classes, &cls, box, &why);
        if (r < 0 && d->bad_lines++ == 0)
            h->log(ctx, WB_LOG_WARN, "yolo: %s:%d skipped: %s", t->images[t->n_images - 1].path, line_no, why);
        if (r > 0) ok = ds_table_add_box(t, box, cls, 0);
    }
    free(text);
    return ok ? WB_OK : h->set_error(ctx, WB_ERR_NOMEM, "yolo: out of memory");
}

/* Label files in the labels folder whose image is not in the dataset. */
static void count_orphan_labels(wb_ctx *ctx, yolo_dataset *d, const char *images_dir) {
    char *probe = ds_path_join(images_dir, "x.jpg");
    char *labels_x = probe ? yolo_label_path(probe) : NULL;
    free(probe);
    if (!labels_x) return;
    *strrchr(labels_x, '/') = '\0';
    int64_t n = 0;
    char **labels = list_dir(labels_x, 1, &n);
    char **expected = malloc(sizeof(char *) * (size_t)(d->table.n_images + 1));
    for (int64_t i = 0; expected && i < d->table.n_images; i++) expected[i] = yolo_label_path(d->table.images[i].path);
    if (expected) qsort(expected, (size_t)d->table.n_images, sizeof(char *), cmp_str);
    for (int64_t k = 0; expected && k < n; k++) {
        if (bsearch(&labels[k], expected, (size_t)d->table.n_images, sizeof(char *), cmp_str)) continue;
        if (d->orphan_labels++ == 0)
            ctx->host->log(ctx, WB_LOG_WARN, "yolo: label file %s has no image; it is ignored", labels[k]);
    }
    free_paths(expected, expected ? d->table.n_images : 0);
    free_paths(labels, n);
    free(labels_x);
}

/* `images`, or the `split` entry of the data.yaml names_file; NULL with the error set. */
static char *images_of(wb_ctx *ctx, const wb_params *p) {
    const wb_host_api *h = ctx->host;
    const char *given = h->param_has(p, "images") ? h->param_string(p, "images") : "";
    const char *split = h->param_has(p, "split") ? h->param_string(p, "split") : "";
    if (given[0] || !split[0]) {
        char *images = given[0] ? ds_param_path(h, p, "images") : NULL;
        if (!images)
            h->set_error(ctx, given[0] ? WB_ERR_NOMEM : WB_ERR_INVALID, "yolo: %s",
                         given[0] ? "out of memory" : "give `images` (a folder or list file), or `split` with a "
                                                      "data.yaml names_file");
        return images;
    }
    char *yaml = ds_param_path(h, p, "names_file"), why[700] = "give `names_file` = a data.yaml with the splits";
    size_t len = 0;
    char *text = yaml && yolo_names_is_yaml(yaml) ? ds_read_text(yaml, DS_MAX_TEXT, &len, why, sizeof why) : NULL;
    char *images = text ? yolo_data_split_images(text, len, yaml, split, why, sizeof why) : NULL;
    if (!images) h->set_error(ctx, WB_ERR_INVALID, "yolo: split = \"%s\": %s", split, why);
    free(text);
    free(yaml);
    return images;
}

static wb_status yolo_load(wb_ctx *ctx, yolo_dataset *d, const wb_params *p) {
    const wb_host_api *h = ctx->host;
    wb_status st = load_names(ctx, d, p);
    if (st != WB_OK) return st;
    char *images = images_of(ctx, p);
    if (!images) return WB_ERR_INVALID;
    int is_dir = images && ds_is_dir(images);
    if (!images || (!is_dir && !ds_is_file(images))) {
        st = h->set_error(ctx, WB_ERR_IO, "yolo: images '%s' is neither a folder nor a list file",
                          images ? images : "(unset)");
        free(images);
        return st;
    }
    int64_t n = 0;
    char why[512] = "";
    char **paths = is_dir ? list_dir(images, 0, &n) : read_list(images, &n, why, sizeof why);
    if (why[0]) st = h->set_error(ctx, WB_ERR_IO, "yolo: image list %s", why);
    for (int64_t i = 0; st == WB_OK && i < n; i++) st = add_image(ctx, d, paths[i], i);
    free_paths(paths, n);
    if (st == WB_OK && d->table.n_images == 0) st = h->set_error(ctx, WB_ERR_INVALID, "yolo: no image found in %s", images);
    if (st == WB_OK && is_dir) count_orphan_labels(ctx, d, images);
    free(images);
    if (st != WB_OK) return st;
    d->sizes = calloc((size_t)d->table.n_images, sizeof(uint64_t));
    if (!d->sizes) return h->set_error(ctx, WB_ERR_NOMEM, "yolo: out of memory");
    if (d->no_label || d->orphan_labels || d->bad_lines)
        h->log(ctx, WB_LOG_WARN, "yolo: %lld image(s) without label file, %lld label file(s) without image, "
               "%lld malformed line(s) skipped (run `workbench check` for the list)", (long long)d->no_label,
               (long long)d->orphan_labels, (long long)d->bad_lines);
    return WB_OK;
}

static wb_status yolo_open(wb_ctx *ctx, const wb_params *params, void **out) {
    *out = NULL;
    yolo_dataset *d = calloc(1, sizeof *d);
    if (!d) return ctx->host->set_error(ctx, WB_ERR_NOMEM, "yolo: out of memory");
    wb_status st = yolo_load(ctx, d, params);
    if (st != WB_OK) {
        yolo_close(d);
        return st;
    }
    ctx->host->log(ctx, WB_LOG_INFO, "yolo: %lld images, %lld boxes, %d classes", (long long)d->table.n_images,
                   (long long)d->table.n_boxes, d->table.n_classes);
    *out = d;
    return WB_OK;
}

static int64_t yolo_length(void *ds) { return ((yolo_dataset *)ds)->table.n_images; }

static wb_status yolo_get(void *ds, wb_ctx *ctx, int64_t index, wb_sample *sample) {
    yolo_dataset *d = ds;
    const wb_host_api *h = ctx->host;
    if (index < 0 || index >= d->table.n_images)
        return h->set_error(ctx, WB_ERR_INVALID, "yolo: index %lld out of range [0, %lld)", (long long)index,
                            (long long)d->table.n_images);
    const char *path = d->table.images[index].path;
    /* Two threads may probe the same image at once; both store the same value. */
    uint64_t size = __atomic_load_n(&d->sizes[index], __ATOMIC_RELAXED);
    if (size == 0) {
        wb_image_header hdr;
        const char *why = NULL;
        if (wb_image_header_read_file(path, &hdr, &why) != WB_HDR_OK)
            return h->set_error(ctx, WB_ERR_IO, "yolo: %s: %s", path, why);
        size = (uint64_t)hdr.width << 32 | (uint32_t)hdr.height;
        __atomic_store_n(&d->sizes[index], size, __ATOMIC_RELAXED);
    }
    wb_status st = ds_table_fill_sample(&d->table, index, sample);
    if (st != WB_OK) return h->set_error(ctx, st, "yolo: out of memory for sample %lld", (long long)index);
    float w = (float)(size >> 32), hh = (float)(uint32_t)size;
    sample->width = (int)w;
    sample->height = (int)hh;
    for (int k = 0; k < sample->num_boxes; k++) {
        float *b = sample->boxes + 4 * k;
        float cx = b[0] * w, cy = b[1] * hh, bw = b[2] * w, bh = b[3] * hh;
        b[0] = cx - bw / 2, b[1] = cy - bh / 2, b[2] = cx + bw / 2, b[3] = cy + bh / 2;
    }
    return WB_OK;
}

static void yolo_release(void *ds, wb_sample *sample) {
    (void)ds;
    ds_table_release_sample(sample);
}

static int yolo_num_classes(void *ds) { return ((yolo_dataset *)ds)->table.n_classes; }

static const char *yolo_class_name(void *ds, int label) {
    yolo_dataset *d = ds;
    return label >= 0 && label < d->table.n_classes ? d->table.class_names[label] : NULL;
}

/* The format has no ids of its own: 1..K in class order, COCO's convention, so a
 * results file matches a COCO conversion of the annotations (ids start at 1). */
static int64_t yolo_category_id(void *ds, int label) {
    (void)ds;
    return (int64_t)label + 1;
}

static const wb_dataset_vtable yolo_vtable = {
    sizeof(wb_dataset_vtable), yolo_open, yolo_length, yolo_get, yolo_release,
    yolo_num_classes, yolo_class_name, yolo_category_id, yolo_close,
};

static const wb_module_desc yolo_desc = {
    sizeof(wb_module_desc), WB_KIND_DATASET, "yolo", "YOLO txt labels (images/ -> labels/)", 0,
    yolo_params, NULL, &yolo_vtable, NULL,
};

WB_PLUGIN_DEFINE("dataset_yolo", "1.0.0", "MIT", &yolo_desc)
