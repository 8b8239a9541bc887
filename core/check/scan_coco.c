/* COCO instances JSON, read with the reader training and evaluation use
 * (core/formats/coco/), so all three apply the same rules: structure and
 * types of every entry, duplicate image ids, references between
 * annotations, images and categories, the images themselves and every bbox
 * ([x, y, w, h] in pixels). An entry the reader refuses is a defect here
 * (training stops at it). --fix-to writes the same JSON text (every other
 * field kept byte for byte) without the bad images and their annotations,
 * without the bad annotations, and with overhanging boxes clipped. An image
 * whose real size differs from its width/height is dropped: its boxes may
 * have been drawn on another size. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/params.h"
#include "coco_fix.h"
#include "formats/coco/coco_reader.h"
#include "scan_common.h"
#include "scanners.h"

const char *wb_scan_param(const wb_params *p, const char *key, const char *def) {
    const char *v = wb_params_has(p, key) ? wb_params_string(p, key) : NULL;
    return v ? v : def;
}

const char *wb_scan_path(const wb_params *p, const char *key, const char *def, char *buf, size_t size) {
    const char *root = wb_scan_param(p, "data_root", ""), *v = wb_scan_param(p, key, def);
    if (!*root || v[0] == '/') snprintf(buf, size, "%s", v);
    else snprintf(buf, size, "%s%s%s", root, root[strlen(root) - 1] == '/' ? "" : "/", v);
    return buf;
}

typedef struct coco_image {
    int64_t id;
    int index;          /* in "images" */
    int width, height;  /* real size when decoded, else as annotated */
    int n_objects;
    bool drop;
    char *file_name;
} coco_image;

typedef struct coco_ann {
    int index;  /* in "annotations" */
    int64_t id; /* -1 when absent */
    int64_t image_id, category_id;
    double bbox[4];
} coco_ann;

/* What the reader delivers, kept for the checks that need every entry
 * (annotations may come before the images they name). */
typedef struct coco_scan {
    wb_check_report *r;
    const char *file;
    coco_image *imgs;
    int n_imgs, cap_imgs, n_image_entries;
    int64_t *cat_ids;
    int n_cats, cap_cats;
    coco_ann *anns;
    int n_anns, cap_anns, n_ann_entries;
} coco_scan;

static bool on_image(void *user, int64_t index, const coco_image_entry *e) {
    coco_scan *s = user;
    s->n_image_entries = (int)index + 1;
    if (!coco_grow((void **)&s->imgs, &s->cap_imgs, s->n_imgs, sizeof *s->imgs)) return false;
    char *name = strdup(e->file_name);
    if (!name) return false;
    s->imgs[s->n_imgs++] = (coco_image){e->id, (int)index, e->width, e->height, 0, false, name};
    return true;
}

static bool on_category(void *user, int64_t index, const coco_category_entry *e) {
    coco_scan *s = user;
    (void)index;
    if (!coco_grow((void **)&s->cat_ids, &s->cap_cats, s->n_cats, sizeof *s->cat_ids)) return false;
    s->cat_ids[s->n_cats++] = e->id;
    return true;
}

static bool on_annotation(void *user, int64_t index, const coco_annotation_entry *e) {
    coco_scan *s = user;
    s->n_ann_entries = (int)index + 1;
    if (!coco_grow((void **)&s->anns, &s->cap_anns, s->n_anns, sizeof *s->anns)) return false;
    s->anns[s->n_anns++] = (coco_ann){(int)index, e->has_id ? e->id : -1, e->image_id, e->category_id,
                                      {e->bbox[0], e->bbox[1], e->bbox[2], e->bbox[3]}};
    return true;
}

/* An entry the reader refuses (training would stop at it): a defect, and the entry goes. */
static bool on_bad_entry(void *user, const coco_problem *p) {
    static const char *const needs[] = {
        "", "needs a number `id`, a string `file_name` and numbers `width`, `height`",
        "needs a number `id` and a string `name`",
        "needs a number `image_id`, a number `category_id` and `bbox` = [x, y, w, h]"};
    coco_scan *s = user;
    char where[1024], detail[512];
    snprintf(where, sizeof where, "%s: %s[%lld]", s->file,
             p->section == COCO_IMAGES ? "images" : p->section == COCO_CATEGORIES ? "categories" : "annotations",
             (long long)p->index);
    coco_problem_text(p, detail, sizeof detail);
    wb_check_add(s->r, WB_DEFECT_BAD_ANNOTATION, where, "%s (%s)", needs[p->section], detail);
    if (p->section == COCO_IMAGES) s->n_image_entries = (int)p->index + 1;
    if (p->section == COCO_ANNOTATIONS) s->n_ann_entries = (int)p->index + 1;
    return true;
}

static int cmp_image_id(const void *a, const void *b) {
    const coco_image *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return x->index - y->index;
}

static int cmp_int64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static coco_image *find_image(coco_image *imgs, int n, int64_t id) {
    int lo = 0, hi = n - 1;
    while (lo <= hi) {  /* first entry with this id: later duplicates are dropped */
        int mid = (lo + hi) / 2;
        if (imgs[mid].id < id) lo = mid + 1;
        else hi = mid - 1;
    }
    return lo < n && imgs[lo].id == id ? &imgs[lo] : NULL;
}

/* Checks each image's file against its entry, then duplicate ids; sorts by id. */
static bool scan_images(coco_scan *s, const char *img_dir) {
    char where[1024];
    for (int i = 0; i < s->n_imgs; i++) {
        coco_image *ci = &s->imgs[i];
        snprintf(where, sizeof where, "%s: images[%d] (id %lld, %s)", s->file, ci->index, (long long)ci->id,
                 ci->file_name);
        char *path = wb_scan_join(img_dir, ci->file_name);
        int rw, rh;
        if (!path) return false;
        if (!wb_scan_image(s->r, path, where, &rw, &rh)) {
            ci->drop = true;
        } else if (rw != ci->width || rh != ci->height) {
            wb_check_add(s->r, WB_DEFECT_SIZE_MISMATCH, where, "annotated %dx%d, the image is %dx%d", ci->width,
                         ci->height, rw, rh);
            ci->drop = true;
        }
        free(path);
    }
    if (s->n_imgs) qsort(s->imgs, (size_t)s->n_imgs, sizeof *s->imgs, cmp_image_id);
    for (int i = 1; i < s->n_imgs; i++)
        if (s->imgs[i].id == s->imgs[i - 1].id) {
            wb_check_add(s->r, WB_DEFECT_DUPLICATE_ID, s->file, "images[%d] and images[%d] both have id %lld",
                         s->imgs[i - 1].index, s->imgs[i].index, (long long)s->imgs[i].id);
            s->imgs[i].drop = true;
        }
    return true;
}

/* Checks one annotation; its verdict for --fix-to. Clips an overhanging bbox in place. */
static coco_fix_verdict scan_annotation(coco_scan *s, coco_ann *a) {
    char where[1024];
    snprintf(where, sizeof where, "%s: annotations[%d] (id %lld)", s->file, a->index, (long long)a->id);
    coco_image *im = find_image(s->imgs, s->n_imgs, a->image_id);
    if (!im) {
        wb_check_add(s->r, WB_DEFECT_BAD_ANNOTATION, where, "image_id %lld is not in `images`",
                     (long long)a->image_id);
        return COCO_FIX_DROP;
    }
    im->n_objects++;
    if (!s->n_cats || !bsearch(&a->category_id, s->cat_ids, (size_t)s->n_cats, sizeof *s->cat_ids, cmp_int64)) {
        wb_check_add(s->r, WB_DEFECT_BAD_LABEL, where, "category_id %lld is not in `categories`",
                     (long long)a->category_id);
        return COCO_FIX_DROP;
    }
    const double *b = a->bbox;
    double xyxy[4] = {b[0], b[1], b[0] + b[2], b[1] + b[3]};
    wb_box_verdict v = wb_scan_box(s->r, where, xyxy, im->width, im->height);
    if (v == WB_BOX_DROP || im->drop) return COCO_FIX_DROP;
    if (v != WB_BOX_CLIP) return COCO_FIX_KEEP;
    wb_scan_clip_box(xyxy, im->width, im->height);
    a->bbox[0] = xyxy[0], a->bbox[1] = xyxy[1], a->bbox[2] = xyxy[2] - xyxy[0], a->bbox[3] = xyxy[3] - xyxy[1];
    return COCO_FIX_CLIP;
}

/* Verdicts per entry index: every entry the reader refused stays dropped. */
static bool judge(coco_scan *s, const char *img_dir, coco_fix_plan *plan) {
    plan->n_images = s->n_image_entries, plan->n_annotations = s->n_ann_entries;
    plan->drop_image = calloc((size_t)plan->n_images + 1, sizeof *plan->drop_image);
    plan->annotation = calloc((size_t)plan->n_annotations + 1, sizeof *plan->annotation);
    plan->bbox = calloc((size_t)plan->n_annotations + 1, sizeof *plan->bbox);
    if (!plan->drop_image || !plan->annotation || !plan->bbox || !scan_images(s, img_dir)) return false;
    if (s->n_cats) qsort(s->cat_ids, (size_t)s->n_cats, sizeof *s->cat_ids, cmp_int64);
    for (int i = 1; i < s->n_cats; i++) /* training refuses these: no label could be chosen */
        if (s->cat_ids[i] == s->cat_ids[i - 1])
            wb_check_add(s->r, WB_DEFECT_DUPLICATE_ID, s->file, "category id %lld appears twice in `categories`",
                         (long long)s->cat_ids[i]);
    for (int i = 0; i < plan->n_annotations; i++) plan->annotation[i] = COCO_FIX_DROP;
    for (int k = s->n_anns - 1; k >= 0; k--) { /* backwards: the order of the old reports */
        coco_ann *a = &s->anns[k];
        plan->annotation[a->index] = scan_annotation(s, a);
        memcpy(plan->bbox[a->index], a->bbox, sizeof a->bbox);
    }
    for (int i = 0; i < plan->n_images; i++) plan->drop_image[i] = true;
    for (int i = 0; i < s->n_imgs; i++) {
        if (s->imgs[i].n_objects == 0 && !s->imgs[i].drop)
            wb_check_add(s->r, WB_DEFECT_NO_OBJECTS, s->file, "images[%d] (id %lld) has no annotation",
                         s->imgs[i].index, (long long)s->imgs[i].id);
        plan->drop_image[s->imgs[i].index] = s->imgs[i].drop;
    }
    return true;
}

static void scan_free(coco_scan *s) {
    for (int i = 0; i < s->n_imgs; i++) free(s->imgs[i].file_name);
    free(s->imgs);
    free(s->cat_ids);
    free(s->anns);
}

/* A file the reader cannot take at all (not JSON, a rule of the whole file). */
static void report_unreadable(wb_check_report *r, const char *file, const coco_problem *p) {
    char text[512];
    coco_problem_text(p, text, sizeof text);
    if (p->syntax) wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, file, "not valid JSON at line %d: %s", p->line, text);
    else wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, file, "%s", text);
}

bool wb_scan_coco(const wb_params *p, const char *fix_dir, wb_check_report *r, char *err, size_t err_size) {
    char ann_buf[4096], img_buf[4096], why[512];
    const char *ann_file = wb_scan_path(p, "ann_file", "", ann_buf, sizeof ann_buf);
    const char *img_dir = wb_scan_path(p, "img_dir", "", img_buf, sizeof img_buf);
    snprintf(r->source, sizeof r->source, "coco %s (images in %s)", ann_file, img_dir);
    r->scanned = true;
    size_t n = 0;
    char *text = wb_scan_read_file(ann_file, &n, why, sizeof why);
    if (!text) {
        wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, ann_file, "cannot read the file (check `ann_file`): %s", why);
        return true;
    }
    coco_scan s = {.r = r, .file = ann_file};
    const coco_visitor v = {&s, COCO_NEED_FILE_NAME | COCO_NEED_SIZE, on_image, on_category, on_annotation,
                            on_bad_entry};
    coco_problem problem;
    int have = coco_parse(text, n, &v, &problem);
    bool ok = true;
    if (have < 0 && strcmp(problem.what, "out of memory") == 0) {
        snprintf(err, err_size, "out of memory");
        ok = false;
    } else if (have < 0) {
        report_unreadable(r, ann_file, &problem);
    } else if (have != (COCO_HAVE_IMAGES | COCO_HAVE_CATEGORIES | COCO_HAVE_ANNOTATIONS)) {
        static const char *const keys[] = {"images", "categories", "annotations"};
        for (int k = 0; k < 3; k++)
            if (!(have & 1 << k))
                wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, ann_file,
                             "`%s` is missing; a COCO instances file needs a list there", keys[k]);
    } else {
        coco_fix_plan plan = {0};
        ok = judge(&s, img_dir, &plan);
        r->images = s.n_image_entries;
        r->boxes = s.n_ann_entries;
        if (!ok) snprintf(err, err_size, "out of memory");
        else if (fix_dir) ok = coco_fix_write(text, n, &plan, ann_file, fix_dir, err, err_size);
        coco_fix_plan_free(&plan);
    }
    scan_free(&s);
    free(text);
    return ok;
}
