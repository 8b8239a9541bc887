#include "infer.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../config/params.h"
#include "../data/collate.h"
#include "../data/image.h"
#include "../data/image_write.h"
#include "../data/transforms.h"
#include "../eval/coco_json.h"
#include "../plugin/plugin_guard.h"
#include "../render/canvas.h"
#include "data_split.h"
#include "trained_model.h"

typedef struct path_list {
    char **p;
    int n, cap;
} path_list;

static bool add_path(path_list *l, const char *p) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **grown = realloc(l->p, (size_t)cap * sizeof *grown);
        if (!grown) return false;
        l->p = grown;
        l->cap = cap;
    }
    return (l->p[l->n++] = strdup(p)) != NULL;
}

static bool is_image_name(const char *name) {
    const char *dot = strrchr(name, '.');
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"};
    for (size_t i = 0; dot && i < sizeof exts / sizeof exts[0]; i++)
        if (!strcasecmp(dot, exts[i])) return true;
    return false;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Files as given; folders expanded to their images in name order. */
static bool collect(const wb_infer_opts *o, path_list *l, FILE *log) {
    for (int i = 0; i < o->n_inputs; i++) {
        struct stat st;
        if (stat(o->inputs[i], &st) != 0) {
            fprintf(log, "error: %s: %s\n", o->inputs[i], strerror(errno));
            return false;
        }
        if (!S_ISDIR(st.st_mode)) {
            if (!add_path(l, o->inputs[i])) return false;
            continue;
        }
        DIR *d = opendir(o->inputs[i]);
        if (!d) {
            fprintf(log, "error: %s: %s\n", o->inputs[i], strerror(errno));
            return false;
        }
        int first = l->n;
        for (struct dirent *de; (de = readdir(d));) {
            if (!is_image_name(de->d_name)) continue;
            char full[8192];
            snprintf(full, sizeof full, "%s/%s", o->inputs[i], de->d_name);
            if (!add_path(l, full)) break;
        }
        closedir(d);
        qsort(l->p + first, (size_t)(l->n - first), sizeof *l->p, by_name);
    }
    return true;
}

/* Class names of the experiment's data (test, else val, else train). */
typedef struct class_names {
    const wb_dataset_vtable *vt;
    void *ds;
} class_names;

/* The test pipeline is the first split written (test, val, train); the class
 * names are the checkpoint's when it stores them (training does), else come
 * from the first of those splits whose dataset opens, since a test split may
 * be held back (BCCD's test.txt) while its config is shipped. */
static bool open_names(wb_experiment *e, wb_session *s, const char *checkpoint, class_names *cn, const char **split,
                       FILE *log) {
    static const char *const splits[] = {"test", "val", "train"};
    char first_failure[1100] = "";
    bool stored = checkpoint && wb_stored_class_names(e, checkpoint, &cn->vt, &cn->ds, log);
    *split = NULL;
    for (int i = 0; i < 3; i++) {
        char path[64];
        snprintf(path, sizeof path, "data.%s.dataset", splits[i]);
        const wb_params *p = wb_config_params(e->cfg, path);
        if (!p) continue;
        if (!*split) *split = splits[i];
        if (stored) return true; /* no annotation file is read */
        const wb_module_desc *d = wb_registry_find(e->reg, WB_KIND_DATASET, wb_params_string(p, "type"));
        wb_context c;
        wb_context_init(&c, s, path, false);
        wb_status opened = WB_ERR_INVALID;
        if (d) WB_PLUGIN_CALL(d, "open", path, opened = d->dataset->open(&c.pub, p, &cn->ds));
        if (opened == WB_OK) {
            if (first_failure[0]) fprintf(log, "note: class names from %s (%s)\n", path, first_failure);
            cn->vt = d->dataset;
            return true;
        }
        if (!first_failure[0])
            snprintf(first_failure, sizeof first_failure, "%s: %s", path,
                     c.msg[0] ? c.msg : "cannot open the dataset for its class names");
    }
    if (first_failure[0]) fprintf(log, "error: %s\n", first_failure);
    else fprintf(log, "error: the experiment has no data section to take class names and the test pipeline from\n");
    return false;
}

static const char *base_name(const char *p) { return strrchr(p, '/') ? strrchr(p, '/') + 1 : p; }

/* Draws dets on the decoded original and writes OUT/<name>.jpg. */
static wb_status draw_and_save(const wb_infer_opts *o, const char *path, wb_image *img, const wb_detections *det,
                               const class_names *cn, char *err, size_t n) {
    wb_canvas c = {img->rgb, img->width, img->height};
    int thickness = img->width > 1000 ? 3 : 2;
    for (int k = det->num - 1; k >= 0; k--) { /* best last, so it is drawn on top */
        if (det->scores[k] < o->score_thr) continue;
        const float *b = det->boxes + 4 * k;
        wb_rgb color = wb_class_color(det->labels[k]);
        wb_draw_rect(&c, b[0], b[1], b[2], b[3], thickness, color);
        char label[128];
        snprintf(label, sizeof label, "%s %.2f", cn->vt->class_name(cn->ds, det->labels[k]), det->scores[k]);
        wb_draw_label(&c, (int)b[0], (int)b[1], label, color);
    }
    char out[8192], stem[4096];
    snprintf(stem, sizeof stem, "%s", base_name(path));
    char *dot = strrchr(stem, '.');
    if (dot) *dot = '\0';
    snprintf(out, sizeof out, "%s/%s.jpg", o->out_dir, stem);
    return wb_image_save_jpeg(out, img->rgb, img->width, img->height, 90, err, n);
}

/* What `infer` writes besides pictures: COCO results and the images they name. */
typedef struct infer_results {
    wb_coco_detection_list dets;
    wb_coco_image_info *images;
    size_t n_images;
} infer_results;

/* images has room for every input; path outlives the results. */
static wb_status add_results(infer_results *r, int64_t image_id, const char *path, const wb_image *img,
                             const wb_detections *det, const class_names *cn, float thr, char *err, size_t n) {
    r->images[r->n_images++] = (wb_coco_image_info){image_id, path, img->orig_width, img->orig_height};
    for (int k = 0; k < det->num; k++) {
        if (det->scores[k] < thr) continue;
        const float *b = det->boxes + 4 * k;
        wb_coco_detection d = {image_id, cn->vt->category_id(cn->ds, det->labels[k]), b[0], b[1], b[2] - b[0],
                               b[3] - b[1], det->scores[k]};
        if (!wb_coco_detection_push(&r->dets, d)) {
            snprintf(err, n, "out of memory collecting detections");
            return WB_ERR_NOMEM;
        }
    }
    return WB_OK;
}

/* One decoded image: the test pipeline, forward, predict (the head maps
 * boxes back to original pixels), draw, save as OUT/<name>.jpg; its
 * detections go to results when given. */
static wb_status infer_image(wb_experiment *e, wb_session *s, wb_model *m, const wb_pipeline *pipe, wb_image *img_in,
                             const char *path, int64_t image_id, const wb_infer_opts *o, const class_names *cn,
                             infer_results *results, char *err, size_t n) {
    wb_image img = *img_in;
    wb_data_sample smp = {0};
    wb_batch batch = {0};
    wb_status st = WB_OK;
    if (!wb_data_sample_load(&smp, img.rgb, img.height, img.width, img.orig_height, img.orig_width,
                                            NULL, NULL, NULL, 0))
        st = WB_ERR_NOMEM, snprintf(err, n, "out of memory");
    uint64_t rng = wb_transform_rng(0, 0, 0);
    if (st == WB_OK) st = wb_pipeline_apply(pipe, 0, -1, &smp, &rng, NULL, err, n);
    wb_data_sample *one = &smp;
    int divisor = (int)wb_params_int(wb_config_params(e->cfg, "data"), "size_divisor");
    if (st == WB_OK) st = wb_collate(&batch, &one, 1, divisor, err, n);
    wb_detections det = {0};
    bool have_det = false;
    if (st == WB_OK) {
        wb_context c;
        wb_context_init(&c, s, "infer", false);
        int64_t shape[4] = {1, 3, batch.pad_h, batch.pad_w};
        wb_tensor *x = wb_ctx_tensor_uninit(&c, 4, shape);
        if (!x) st = c.err, snprintf(err, n, "%s", c.msg);
        else s->backend->upload(x->data, batch.images, (size_t)x->numel * sizeof(float));
        if (st == WB_OK) st = wb_model_forward(m, x, false, err, n);
        if (st == WB_OK) st = wb_model_predict(m, &batch.truth, &det, err, n);
        have_det = st == WB_OK;
    }
    if (st == WB_OK) st = draw_and_save(o, path, &img, &det, cn, err, n);
    if (st == WB_OK && results) st = add_results(results, image_id, path, &img, &det, cn, o->results_thr, err, n);
    if (have_det) wb_model_release_detections(m, &det, 1);
    wb_model_end_iteration(m);
    wb_session_reset_compute(s);
    wb_batch_free(&batch);
    wb_data_sample_free(&smp);
    return st;
}

/* Full-size decodes (detections are drawn on the original), bounded like the loader's. */
static wb_decode_opts decode_opts(wb_experiment *e) {
    return (wb_decode_opts){.max_pixels = wb_params_int(wb_config_params(e->cfg, "data"), "max_image_pixels"),
                            .limit_key = "data.max_image_pixels"};
}

/* Messages start with the path. */
static wb_status infer_file(wb_experiment *e, wb_session *s, wb_model *m, const wb_pipeline *pipe, const char *path,
                            int64_t image_id, const wb_infer_opts *o, const class_names *cn, infer_results *results,
                            char *err, size_t n) {
    wb_image img = {0};
    wb_decode_opts d = decode_opts(e);
    wb_status st = wb_image_decode_file(path, &d, &img, err, n); /* only regular files: a FIFO never blocks */
    if (st == WB_OK) {
        char why[1024];
        st = infer_image(e, s, m, pipe, &img, path, image_id, o, cn, results, why, sizeof why);
        if (st != WB_OK) snprintf(err, n, "%s: %s", path, why);
    }
    wb_image_free(&img);
    return st;
}

/* COCO's file names are the image ids (000000000139.jpg is image 139): when
 * every stem is a number, and no two the same, those are the ids; otherwise
 * the 0-based position in the list, as the voc and yolo datasets number theirs. */
static bool stem_number(const char *path, int64_t *id) {
    const char *b = base_name(path), *dot = strrchr(b, '.');
    size_t len = dot ? (size_t)(dot - b) : strlen(b);
    if (len == 0 || len > 18 || strspn(b, "0123456789") != len) return false;
    *id = strtoll(b, NULL, 10);
    return true;
}

static int by_value(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool assign_image_ids(const path_list *files, int64_t *ids) {
    int64_t *sorted = malloc((size_t)(files->n ? files->n : 1) * sizeof *sorted);
    if (!sorted) return false;
    bool numeric = true;
    for (int i = 0; numeric && i < files->n; i++) numeric = stem_number(files->p[i], &ids[i]);
    if (numeric) {
        memcpy(sorted, ids, (size_t)files->n * sizeof *ids);
        qsort(sorted, (size_t)files->n, sizeof *sorted, by_value);
        for (int i = 1; numeric && i < files->n; i++) numeric = sorted[i] != sorted[i - 1];
    }
    for (int i = 0; !numeric && i < files->n; i++) ids[i] = i;
    free(sorted);
    return true;
}

/* OUT/results.json (COCO results), then what its ids mean:
 * OUT/results.images.json and OUT/results.categories.json. */
static wb_status save_results(const char *path, const infer_results *r, const class_names *cn, char *err, size_t n) {
    char companion[8300];
    wb_status st = wb_coco_results_save(path, r->dets.d, r->dets.n, err, n);
    wb_coco_companion_path(path, "images", companion, sizeof companion);
    if (st == WB_OK) st = wb_coco_images_save(companion, r->images, r->n_images, err, n);
    int nc = cn->vt->num_classes(cn->ds);
    wb_coco_category *cats = calloc((size_t)(nc > 0 ? nc : 1), sizeof *cats);
    if (st == WB_OK && !cats) st = WB_ERR_NOMEM, snprintf(err, n, "out of memory");
    for (int k = 0; st == WB_OK && k < nc; k++) {
        const char *name = cn->vt->class_name(cn->ds, k);
        cats[k] = (wb_coco_category){cn->vt->category_id(cn->ds, k), (char *)(name ? name : "")};
    }
    wb_coco_companion_path(path, "categories", companion, sizeof companion);
    if (st == WB_OK) st = wb_coco_categories_save(companion, cats, nc, err, n);
    free(cats);
    return st;
}

int wb_infer_run(wb_experiment *e, wb_session *s, wb_model *m, const wb_infer_opts *o, FILE *log) {
    path_list files = {0};
    class_names cn = {0};
    const char *split = NULL;
    wb_pipeline *pipe = NULL;
    infer_results results = {0};
    int64_t *ids = NULL;
    int rc = 1, failed = 0;
    char err[2048], results_path[8192];
    snprintf(results_path, sizeof results_path, "%s/results.json", o->out_dir);
    if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST) {
        fprintf(log, "error: cannot create %s: %s\n", o->out_dir, strerror(errno));
        goto done;
    }
    if (!collect(o, &files, log) || !open_names(e, s, o->checkpoint, &cn, &split, log)) goto done;
    if (files.n == 0) {
        fprintf(log, "error: no image found (give .jpg, .jpeg, .png, .bmp, .tif, .tiff or .webp files or folders "
                     "holding them)\n");
        goto done;
    }
    ids = malloc((size_t)files.n * sizeof *ids);
    results.images = malloc((size_t)files.n * sizeof *results.images);
    if (!ids || !results.images || !assign_image_ids(&files, ids)) {
        fprintf(log, "error: out of memory\n");
        goto done;
    }
    pipe = wb_data_split_pipeline(e, split, err, sizeof err);
    if (!pipe) {
        fprintf(log, "error: %s\n", err);
        goto done;
    }
    for (int i = 0; i < files.n; i++) {
        if (infer_file(e, s, m, pipe, files.p[i], ids[i], o, &cn, &results, err, sizeof err) != WB_OK) {
            fprintf(log, "warning: skipped %s\n", err);
            failed++;
        }
    }
    if (save_results(results_path, &results, &cn, err, sizeof err) == WB_OK) {
        rc = failed == files.n ? 1 : 0;
        fprintf(log, "%d image(s) written to %s/ (%d skipped); %zu detections as COCO results in %s (image and "
                "category ids: results.images.json, results.categories.json)\n", files.n - failed, o->out_dir, failed,
                results.dets.n, results_path);
    } else {
        fprintf(log, "error: %s\n", err);
    }
done:
    free(ids);
    free(results.dets.d);
    free(results.images);
    if (pipe) wb_pipeline_destroy(pipe);
    if (cn.ds) cn.vt->close(cn.ds);
    for (int i = 0; i < files.n; i++) free(files.p[i]);
    free(files.p);
    return rc;
}

/* A dataset sample as a decoded image (pixels copied, or the file or bytes
 * decoded). */
static wb_status sample_image(const wb_sample *smp, const wb_decode_opts *d, wb_image *img, char *err, size_t n) {
    if (smp->image_path) return wb_image_decode_file(smp->image_path, d, img, err, n);
    if (smp->encoded) return wb_image_decode_memory(smp->encoded, smp->encoded_size, d, img, err, n);
    size_t bytes = (size_t)smp->width * smp->height * 3;
    img->rgb = smp->pixels ? malloc(bytes) : NULL;
    if (!img->rgb) {
        snprintf(err, n, "the sample has no image");
        return WB_ERR_IO;
    }
    memcpy(img->rgb, smp->pixels, bytes);
    img->width = img->orig_width = smp->width;
    img->height = img->orig_height = smp->height;
    return WB_OK;
}

int wb_infer_samples(wb_experiment *e, wb_session *s, wb_model *m, const char *split, int count,
                     const wb_infer_opts *o, FILE *log) {
    class_names cn = {0};
    char key[64], err[2048];
    snprintf(key, sizeof key, "data.%s.dataset", split);
    const wb_params *p = wb_config_params(e->cfg, key);
    const wb_module_desc *d = p ? wb_registry_find(e->reg, WB_KIND_DATASET, wb_params_string(p, "type")) : NULL;
    wb_context c;
    wb_context_init(&c, s, key, false);
    wb_status opened = WB_ERR_INVALID;
    if (d) WB_PLUGIN_CALL(d, "open", key, opened = d->dataset->open(&c.pub, p, &cn.ds));
    if (opened != WB_OK) {
        fprintf(log, "error: %s: %s\n", key, c.msg[0] ? c.msg : "no such dataset");
        return 1;
    }
    cn.vt = d->dataset;
    wb_pipeline *pipe = wb_data_split_pipeline(e, split, err, sizeof err);
    int written = 0;
    if (mkdir(o->out_dir, 0755) != 0 && errno != EEXIST) fprintf(log, "error: %s: %s\n", o->out_dir, strerror(errno));
    for (int64_t i = 0; pipe && i < count && i < cn.vt->length(cn.ds); i++) {
        wb_sample smp = {.struct_size = sizeof smp};
        wb_image img = {0};
        char name[64];
        snprintf(name, sizeof name, "%s_%04lld.png", split, (long long)i);
        wb_status st;
        WB_PLUGIN_CALL(d, "get", split, st = cn.vt->get(cn.ds, &c.pub, i, &smp));
        if (st != WB_OK) snprintf(err, sizeof err, "%s", c.msg);
        wb_decode_opts d = decode_opts(e);
        if (st == WB_OK) st = sample_image(&smp, &d, &img, err, sizeof err);
        if (st == WB_OK) st = infer_image(e, s, m, pipe, &img, name, i, o, &cn, NULL, err, sizeof err);
        if (st == WB_OK) written++;
        else fprintf(log, "warning: %s sample %lld skipped: %s\n", split, (long long)i, err);
        wb_image_free(&img);
        if (smp.struct_size) cn.vt->release_sample(cn.ds, &smp);
    }
    if (!pipe) fprintf(log, "error: %s\n", err);
    if (pipe) wb_pipeline_destroy(pipe);
    cn.vt->close(cn.ds);
    return written > 0 ? 0 : 1;
}
