/* COCO instances JSON: structure and types of every entry, duplicate image
 * ids, references between annotations, images and categories, the images
 * themselves and every bbox ([x, y, w, h] in pixels). --fix-to writes the
 * same JSON (every other field kept) without the bad images and their
 * annotations, without the bad annotations, and with overhanging boxes
 * clipped. An image whose real size differs from its width/height is
 * dropped: its boxes may have been drawn on another size. */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/params.h"
#include "scan_common.h"
#include "scanners.h"

typedef struct coco_image {
    int64_t id;
    int index;          /* in "images" */
    int width, height;  /* real size when decoded, else as annotated */
    int n_objects;
    bool drop;
} coco_image;

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

static int cmp_image_id(const void *a, const void *b) {
    const coco_image *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return x->index - y->index;
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

static bool get_number(const cJSON *obj, const char *key, double *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v)) return false;
    *out = v->valuedouble;
    return true;
}

/* 1-based line of a position in text, for parse errors. */
static int line_of(const char *text, const char *pos) {
    int line = 1;
    for (const char *c = text; c < pos && *c; c++) line += *c == '\n';
    return line;
}

static const cJSON *array_member(wb_check_report *r, const char *file, const cJSON *root, const char *key) {
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(root, key);
    if (cJSON_IsArray(a)) return a;
    wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, file, "`%s` is %s; a COCO instances file needs a list there", key,
                 a ? "not a list" : "missing");
    return NULL;
}

/* Reads "images": checks each entry and its file; fills imgs sorted by id. */
static int scan_images(wb_check_report *r, const char *file, const cJSON *images, const char *img_dir,
                       coco_image *imgs) {
    int n = 0, index = -1;
    char where[1024];
    const cJSON *im;
    cJSON_ArrayForEach(im, images) {
        index++;
        double id, w, h;
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(im, "file_name");
        snprintf(where, sizeof where, "%s: images[%d]", file, index);
        if (!cJSON_IsObject(im) || !get_number(im, "id", &id) || !cJSON_IsString(name) || !get_number(im, "width", &w) ||
            !get_number(im, "height", &h)) {
            wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, where,
                         "needs a number `id`, a string `file_name` and numbers `width`, `height`");
            continue;
        }
        coco_image *ci = &imgs[n++];
        *ci = (coco_image){(int64_t)id, index, (int)w, (int)h, 0, false};
        snprintf(where, sizeof where, "%s: images[%d] (id %lld, %s)", file, index, (long long)ci->id,
                 name->valuestring);
        char *path = wb_scan_join(img_dir, name->valuestring);
        int rw, rh;
        if (!path) return -1;
        if (!wb_scan_image(r, path, where, &rw, &rh)) {
            ci->drop = true;
        } else if (rw != ci->width || rh != ci->height) {
            wb_check_add(r, WB_DEFECT_SIZE_MISMATCH, where, "annotated %dx%d, the image is %dx%d", ci->width,
                         ci->height, rw, rh);
            ci->drop = true;
        }
        free(path);
    }
    qsort(imgs, (size_t)n, sizeof *imgs, cmp_image_id);
    for (int i = 1; i < n; i++)
        if (imgs[i].id == imgs[i - 1].id) {
            wb_check_add(r, WB_DEFECT_DUPLICATE_ID, file, "images[%d] and images[%d] both have id %lld",
                         imgs[i - 1].index, imgs[i].index, (long long)imgs[i].id);
            imgs[i].drop = true;
        }
    return n;
}

static bool known_category(const cJSON *cats, double id) {
    const cJSON *c;
    cJSON_ArrayForEach(c, cats) {
        double cid;
        if (get_number(c, "id", &cid) && cid == id) return true;
    }
    return false;
}

static void check_categories(wb_check_report *r, const char *file, const cJSON *cats) {
    int index = 0;
    const cJSON *c;
    cJSON_ArrayForEach(c, cats) {
        double id;
        if (!cJSON_IsObject(c) || !get_number(c, "id", &id) ||
            !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(c, "name")))
            wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, file, "categories[%d] needs a number `id` and a string `name`",
                         index);
        index++;
    }
}

/* Checks one annotation; false when it must go. Clips an overhanging bbox in place. */
static bool scan_annotation(wb_check_report *r, const char *file, int index, cJSON *a, const cJSON *cats,
                            coco_image *imgs, int n_imgs) {
    char where[1024];
    double id = -1, image_id, cat;
    get_number(a, "id", &id);
    snprintf(where, sizeof where, "%s: annotations[%d] (id %lld)", file, index, (long long)id);
    cJSON *bbox = cJSON_GetObjectItemCaseSensitive(a, "bbox");
    if (!cJSON_IsObject(a) || !get_number(a, "image_id", &image_id) || !get_number(a, "category_id", &cat) ||
        !cJSON_IsArray(bbox) || cJSON_GetArraySize(bbox) != 4) {
        wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, where,
                     "needs a number `image_id`, a number `category_id` and `bbox` = [x, y, w, h]");
        return false;
    }
    double b[4];
    for (int k = 0; k < 4; k++) {
        const cJSON *v = cJSON_GetArrayItem(bbox, k);
        if (!cJSON_IsNumber(v)) {
            wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, where, "bbox[%d] is not a number", k);
            return false;
        }
        b[k] = v->valuedouble;
    }
    coco_image *im = find_image(imgs, n_imgs, (int64_t)image_id);
    if (!im) {
        wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, where, "image_id %lld is not in `images`", (long long)image_id);
        return false;
    }
    im->n_objects++;
    if (!known_category(cats, cat)) {
        wb_check_add(r, WB_DEFECT_BAD_LABEL, where, "category_id %lld is not in `categories`", (long long)cat);
        return false;
    }
    double xyxy[4] = {b[0], b[1], b[0] + b[2], b[1] + b[3]};
    wb_box_verdict v = wb_scan_box(r, where, xyxy, im->width, im->height);
    if (v == WB_BOX_CLIP) {
        wb_scan_clip_box(xyxy, im->width, im->height);
        double clipped[4] = {xyxy[0], xyxy[1], xyxy[2] - xyxy[0], xyxy[3] - xyxy[1]};
        for (int k = 0; k < 4; k++) cJSON_SetNumberValue(cJSON_GetArrayItem(bbox, k), clipped[k]);
    }
    return v != WB_BOX_DROP && !im->drop;
}

static bool write_fixed(cJSON *root, const char *ann_file, const char *fix_dir, char *err, size_t err_size) {
    const char *base = strrchr(ann_file, '/');
    char *out = wb_scan_join(fix_dir, base ? base + 1 : ann_file);
    char *text = cJSON_PrintUnformatted(root);
    FILE *f = out && text && wb_scan_make_parents(out) ? fopen(out, "w") : NULL;
    bool ok = f && fputs(text, f) >= 0;
    if (f && fclose(f) != 0) ok = false;
    if (!ok) snprintf(err, err_size, "cannot write the cleaned annotations to %s", out ? out : fix_dir);
    free(text);
    free(out);
    return ok;
}

bool wb_scan_coco(const wb_params *p, const char *fix_dir, wb_check_report *r, char *err, size_t err_size) {
    char ann_buf[4096], img_buf[4096];
    const char *ann_file = wb_scan_path(p, "ann_file", "", ann_buf, sizeof ann_buf);
    const char *img_dir = wb_scan_path(p, "img_dir", "", img_buf, sizeof img_buf);
    snprintf(r->source, sizeof r->source, "coco %s (images in %s)", ann_file, img_dir);
    r->scanned = true;
    char *text = wb_scan_read_text(ann_file, NULL);
    if (!text) {
        wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, ann_file, "cannot read the file (check `ann_file`)");
        return true;
    }
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, true);
    if (!root || !cJSON_IsObject(root)) {
        wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, ann_file, "%s at line %d", root ? "the top level is not an object" :
                     "not valid JSON", line_of(text, end ? end : text));
        cJSON_Delete(root);
        free(text);
        return true;
    }
    free(text);
    const cJSON *images = array_member(r, ann_file, root, "images");
    cJSON *anns = (cJSON *)array_member(r, ann_file, root, "annotations");
    const cJSON *cats = array_member(r, ann_file, root, "categories");
    bool ok = true;
    if (images && anns && cats) {
        check_categories(r, ann_file, cats);
        int n_all = cJSON_GetArraySize(images);
        coco_image *imgs = calloc((size_t)n_all + 1, sizeof *imgs);
        int n = imgs ? scan_images(r, ann_file, images, img_dir, imgs) : -1;
        if (n < 0) {
            snprintf(err, err_size, "out of memory");
            free(imgs);
            cJSON_Delete(root);
            return false;
        }
        r->images = n_all;
        r->boxes = cJSON_GetArraySize(anns);
        /* Backwards, so deleting an entry keeps the indices still to visit. */
        for (int i = r->boxes - 1; i >= 0; i--)
            if (!scan_annotation(r, ann_file, i, cJSON_GetArrayItem(anns, i), cats, imgs, n))
                cJSON_DeleteItemFromArray(anns, i);
        /* Entries scan_images rejected are not in imgs: they go too. */
        bool *drop_index = malloc(((size_t)n_all + 1) * sizeof *drop_index);
        for (int i = 0; i < n_all && drop_index; i++) drop_index[i] = true;
        for (int i = 0; i < n && drop_index; i++) {
            if (imgs[i].n_objects == 0 && !imgs[i].drop)
                wb_check_add(r, WB_DEFECT_NO_OBJECTS, ann_file, "images[%d] (id %lld) has no annotation",
                             imgs[i].index, (long long)imgs[i].id);
            drop_index[imgs[i].index] = imgs[i].drop;
        }
        for (int i = n_all - 1; i >= 0 && drop_index; i--)
            if (drop_index[i]) cJSON_DeleteItemFromArray((cJSON *)images, i);
        if (fix_dir && drop_index) ok = write_fixed(root, ann_file, fix_dir, err, err_size);
        if (!drop_index) {
            snprintf(err, err_size, "out of memory");
            ok = false;
        }
        free(drop_index);
        free(imgs);
    }
    cJSON_Delete(root);
    return ok;
}
