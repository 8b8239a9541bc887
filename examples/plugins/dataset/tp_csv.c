/* tp_csv: a dataset read from one CSV file with a line per box,
 *     image,x1,y1,x2,y2,class
 * (an optional header line "image,x1,y1,x2,y2,class"; an image without
 * objects has one line with empty box fields: "img.jpg,,,,,"). Boxes are in
 * pixels of the image. Built out of tree against the installed SDK only.
 *
 * The dataset contract it follows (sdk/include/workbench/dataset.h):
 * - it declares `data_root`, so data.data_root fills it in; relative paths
 *   (ann_file, img_prefix and the images) resolve against it;
 * - open() builds every table and get() only reads them, so the loader's
 *   threads may call get() at once with no lock;
 * - images are sorted by path and image_id is the position in that order:
 *   unique within the split and independent of the line order;
 * - labels follow `classes` (or the sorted class names when it is empty);
 *   category ids are label + 1, COCO style. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <workbench/workbench.h>

typedef struct csv_box {
    char *image;    /* as written in the file */
    float xyxy[4];
    char *class_name;
    int line;       /* keeps lines of one image in file order */
} csv_box;

typedef struct csv_image {
    char *path;     /* resolved against img_prefix */
    int first, count; /* its boxes: [first, first + count) */
} csv_image;

typedef struct csv_dataset {
    csv_image *images;
    int n_images;
    float *boxes;   /* 4 per box, grouped by image */
    int *labels;
    char **classes;
    int n_classes;
} csv_dataset;

typedef struct csv_reader {
    wb_ctx *ctx;
    const char *file;
    csv_box *rows;
    int n_rows, cap_rows;
} csv_reader;

/* dir/name; name alone when it is absolute or dir is empty, dir alone when name is empty. */
static char *join_path(const char *dir, const char *name) {
    if (!name[0]) return strdup(dir);
    int keep = name[0] == '/' || !dir[0];
    size_t n = strlen(dir) + strlen(name) + 2;
    char *out = malloc(n);
    if (out) snprintf(out, n, "%s%s%s", keep ? "" : dir, keep ? "" : "/", name);
    return out;
}

static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n > 0 && strchr(" \t\r\n", s[n - 1])) s[--n] = '\0';
    return s;
}

/* Splits a line at commas into exactly 6 trimmed fields; returns the count seen. */
static int split_fields(char *line, char **field) {
    int n = 0;
    for (char *s = line;; n++) {
        char *comma = strchr(s, ',');
        if (comma) *comma = '\0';
        if (n < 6) field[n] = trim(s);
        if (!comma) return n + 1;
        s = comma + 1;
    }
}

static wb_status read_row(csv_reader *r, char *line, int line_no) {
    char *f[6];
    int n = split_fields(line, f);
    if (n == 1 && !f[0][0]) return WB_OK; /* blank line */
    if (n != 6)
        return wb_error(r->ctx, WB_ERR_IO, "tp_csv: %s:%d: %d fields, expected 6: image,x1,y1,x2,y2,class",
                        r->file, line_no, n);
    if (line_no == 1 && strcmp(f[0], "image") == 0) return WB_OK; /* header */
    if (!f[0][0]) return wb_error(r->ctx, WB_ERR_IO, "tp_csv: %s:%d: no image name", r->file, line_no);
    csv_box b = {.line = line_no};
    int empty = !f[1][0] && !f[2][0] && !f[3][0] && !f[4][0] && !f[5][0];
    for (int k = 0; k < 4 && !empty; k++) {
        char *end;
        errno = 0;
        b.xyxy[k] = strtof(f[1 + k], &end);
        if (end == f[1 + k] || *end || errno)
            return wb_error(r->ctx, WB_ERR_IO, "tp_csv: %s:%d: '%s' is not a number", r->file, line_no, f[1 + k]);
    }
    if (!empty && !(b.xyxy[2] > b.xyxy[0] && b.xyxy[3] > b.xyxy[1]))
        return wb_error(r->ctx, WB_ERR_IO, "tp_csv: %s:%d: box %s,%s,%s,%s has no area (needs x2 > x1 and y2 > y1)",
                        r->file, line_no, f[1], f[2], f[3], f[4]);
    if (!empty && !f[5][0]) return wb_error(r->ctx, WB_ERR_IO, "tp_csv: %s:%d: no class", r->file, line_no);
    if (r->n_rows == r->cap_rows) {
        int cap = r->cap_rows ? 2 * r->cap_rows : 256;
        csv_box *grown = realloc(r->rows, (size_t)cap * sizeof *grown);
        if (!grown) return wb_error(r->ctx, WB_ERR_NOMEM, "tp_csv: out of memory");
        r->rows = grown, r->cap_rows = cap;
    }
    b.image = strdup(f[0]);
    b.class_name = empty ? NULL : strdup(f[5]);
    if (!b.image || (!empty && !b.class_name)) {
        free(b.image), free(b.class_name);
        return wb_error(r->ctx, WB_ERR_NOMEM, "tp_csv: out of memory");
    }
    r->rows[r->n_rows++] = b;
    return WB_OK;
}

static int by_image_then_line(const void *a, const void *b) {
    const csv_box *x = a, *y = b;
    int c = strcmp(x->image, y->image);
    return c ? c : x->line - y->line;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void dataset_free(csv_dataset *d) {
    for (int i = 0; i < d->n_images; i++) free(d->images[i].path);
    for (int k = 0; k < d->n_classes; k++) free(d->classes[k]);
    free(d->images), free(d->boxes), free(d->labels), free(d->classes);
    free(d);
}

/* `classes` from the config, or every class name in the file, sorted. */
static wb_status make_classes(wb_ctx *ctx, const wb_params *p, csv_dataset *d, const csv_box *rows, int n) {
    const wb_host_api *h = WB_H(ctx);
    int given = h->param_list_len(p, "classes");
    d->classes = calloc((size_t)(given ? given : n) + 1, sizeof *d->classes);
    if (!d->classes) return wb_error(ctx, WB_ERR_NOMEM, "tp_csv: out of memory");
    for (int k = 0; k < given; k++)
        if (!(d->classes[d->n_classes++] = strdup(h->param_string_at(p, "classes", k))))
            return wb_error(ctx, WB_ERR_NOMEM, "tp_csv: out of memory");
    if (given) return WB_OK;
    for (int i = 0; i < n; i++) {
        if (!rows[i].class_name) continue;
        int seen = 0;
        for (int k = 0; k < d->n_classes && !seen; k++) seen = strcmp(d->classes[k], rows[i].class_name) == 0;
        if (!seen && !(d->classes[d->n_classes++] = strdup(rows[i].class_name)))
            return wb_error(ctx, WB_ERR_NOMEM, "tp_csv: out of memory");
    }
    if (d->n_classes == 0) return wb_error(ctx, WB_ERR_IO, "tp_csv: the file names no class; give `classes`");
    qsort(d->classes, (size_t)d->n_classes, sizeof *d->classes, by_name);
    return WB_OK;
}

static int label_of(const csv_dataset *d, const char *name) {
    for (int k = 0; k < d->n_classes; k++)
        if (strcmp(d->classes[k], name) == 0) return k;
    return -1;
}

/* Groups the rows (sorted by image) into images and their boxes. */
static wb_status make_tables(wb_ctx *ctx, const char *file, const char *img_dir, csv_dataset *d, const csv_box *rows,
                             int n) {
    d->images = calloc((size_t)n + 1, sizeof *d->images);
    d->boxes = malloc(((size_t)n + 1) * 4 * sizeof *d->boxes);
    d->labels = malloc(((size_t)n + 1) * sizeof *d->labels);
    if (!d->images || !d->boxes || !d->labels) return wb_error(ctx, WB_ERR_NOMEM, "tp_csv: out of memory");
    int n_boxes = 0;
    for (int i = 0; i < n; i++) {
        if (i == 0 || strcmp(rows[i].image, rows[i - 1].image) != 0) {
            csv_image *im = &d->images[d->n_images++];
            if (!(im->path = join_path(img_dir, rows[i].image))) return wb_error(ctx, WB_ERR_NOMEM, "tp_csv: out of memory");
            im->first = n_boxes;
        }
        if (!rows[i].class_name) continue; /* the line of an image without objects */
        int label = label_of(d, rows[i].class_name);
        if (label < 0)
            return wb_error(ctx, WB_ERR_IO, "tp_csv: %s:%d: class '%s' is not one of `classes`", file, rows[i].line,
                            rows[i].class_name);
        memcpy(d->boxes + 4 * n_boxes, rows[i].xyxy, sizeof rows[i].xyxy);
        d->labels[n_boxes++] = label;
        d->images[d->n_images - 1].count++;
    }
    return WB_OK;
}

static wb_status read_file(csv_reader *r) {
    FILE *f = fopen(r->file, "r");
    if (!f) return wb_error(r->ctx, WB_ERR_IO, "tp_csv: cannot read %s: %s", r->file, strerror(errno));
    char line[4096];
    wb_status st = WB_OK;
    for (int line_no = 1; st == WB_OK && fgets(line, sizeof line, f); line_no++) {
        if (!strchr(line, '\n') && !feof(f))
            st = wb_error(r->ctx, WB_ERR_IO, "tp_csv: %s:%d: line longer than %zu bytes", r->file, line_no,
                          sizeof line - 1);
        else
            st = read_row(r, line, line_no);
    }
    fclose(f);
    return st;
}

static wb_status csv_open(wb_ctx *ctx, const wb_params *p, void **out) {
    const wb_host_api *h = WB_H(ctx);
    const char *root = h->param_string(p, "data_root");
    char *file = join_path(root, h->param_string(p, "ann_file"));
    char *img_dir = join_path(root, h->param_string(p, "img_prefix"));
    csv_dataset *d = calloc(1, sizeof *d);
    csv_reader r = {ctx, file, NULL, 0, 0};
    wb_status st = file && img_dir && d ? read_file(&r) : wb_error(ctx, WB_ERR_NOMEM, "tp_csv: out of memory");
    if (st == WB_OK) {
        qsort(r.rows, (size_t)r.n_rows, sizeof *r.rows, by_image_then_line);
        st = make_classes(ctx, p, d, r.rows, r.n_rows);
    }
    if (st == WB_OK) st = make_tables(ctx, file, img_dir, d, r.rows, r.n_rows);
    for (int i = 0; i < r.n_rows; i++) free(r.rows[i].image), free(r.rows[i].class_name);
    free(r.rows), free(file), free(img_dir);
    if (st != WB_OK) {
        if (d) dataset_free(d);
        return st;
    }
    *out = d;
    return WB_OK;
}

static int64_t csv_length(void *ds) { return ((csv_dataset *)ds)->n_images; }

/* Points into the tables built by open: nothing is written, nothing to free. */
static wb_status csv_get(void *ds, wb_ctx *ctx, int64_t index, wb_sample *s) {
    const csv_dataset *d = ds;
    if (index < 0 || index >= d->n_images)
        return wb_error(ctx, WB_ERR_INVALID, "tp_csv: no image %lld (the file has %d)", (long long)index, d->n_images);
    const csv_image *im = &d->images[index];
    s->image_path = im->path;
    s->num_boxes = im->count;
    s->boxes = d->boxes + 4 * im->first;
    s->labels = d->labels + im->first;
    s->image_id = index;
    return WB_OK;
}

static void csv_release(void *ds, wb_sample *s) { (void)ds, (void)s; }

static int csv_num_classes(void *ds) { return ((csv_dataset *)ds)->n_classes; }

static const char *csv_class_name(void *ds, int label) {
    const csv_dataset *d = ds;
    return label >= 0 && label < d->n_classes ? d->classes[label] : "?";
}

static int64_t csv_category_id(void *ds, int label) {
    (void)ds;
    return (int64_t)label + 1;
}

static void csv_close(void *ds) { dataset_free(ds); }

static const wb_param_schema csv_params[] = {
    WB_P_STRING("ann_file", NULL, "the CSV file: image,x1,y1,x2,y2,class per line (relative to data_root)"),
    WB_P_STRING("img_prefix", "\"\"", "folder of the images named in the file (relative to data_root)"),
    WB_P_STRING("data_root", "\"\"", "folder ann_file and img_prefix are relative to; filled from data.data_root"),
    WB_P_STRING_LIST("classes", "[]", "class names in label order; empty: every name in the file, sorted"),
    WB_PARAM_END,
};

static const wb_dataset_vtable csv_vtable = {
    .struct_size = sizeof(wb_dataset_vtable),
    .open = csv_open,
    .length = csv_length,
    .get = csv_get,
    .release_sample = csv_release,
    .num_classes = csv_num_classes,
    .class_name = csv_class_name,
    .category_id = csv_category_id,
    .close = csv_close,
};

static const wb_module_desc csv_desc = {
    .struct_size = sizeof(wb_module_desc),
    .kind = WB_KIND_DATASET,
    .type_name = "tp_csv",
    .summary = "Boxes from a CSV file, one line per box: image,x1,y1,x2,y2,class (out-of-tree example)",
    .caps = WB_CAP_THREAD_SAFE_GET,
    .params = csv_params,
    .dataset = &csv_vtable,
};

WB_PLUGIN_DEFINE("tp_csv", "0.1.0", "MIT", &csv_desc)
