#include "coco_json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_pull.h"

/* Growable array helper: 0 when out of memory. */
static int reserve(void **items, int64_t *cap, int64_t need, size_t elem) {
    if (need <= *cap) return 1;
    int64_t n = *cap ? 2 * *cap : 1024;
    while (n < need) n *= 2;
    void *p = realloc(*items, (size_t)n * elem);
    if (!p) return 0;
    *items = p;
    *cap = n;
    return 1;
}

typedef struct reader {
    json_pull j;
    char where[96];  /* e.g. "annotations[12].bbox" for messages */
} reader;

static int fail_at(reader *r, const char *section, int64_t i, const char *key, const char *what) {
    snprintf(r->where, sizeof r->where, "%s[%lld].%s", section, (long long)i, key);
    json_fail(&r->j, what);
    return 0;
}

static int read_int(reader *r, const char *section, int64_t i, const char *key, int64_t *out) {
    double v;
    if (json_peek(&r->j) != JSON_NUMBER || !json_number(&r->j, &v)) return fail_at(r, section, i, key, "expected a number");
    *out = (int64_t)v;
    return 1;
}

static int read_name(reader *r, const char *section, int64_t i, const char *key, char **out) {
    char buf[4096];
    if (json_peek(&r->j) != JSON_STRING || !json_string(&r->j, buf, sizeof buf))
        return fail_at(r, section, i, key, "expected a string");
    free(*out);
    *out = strdup(buf);
    return *out != NULL || fail_at(r, section, i, key, "out of memory");
}

static int read_bbox(reader *r, int64_t i, float box[4]) {
    int n = 0;
    if (json_peek(&r->j) != JSON_ARRAY) return fail_at(r, "annotations", i, "bbox", "expected an array of 4 numbers");
    json_array_begin(&r->j);
    while (json_array_next(&r->j)) {
        double v;
        if (n == 4 || json_peek(&r->j) != JSON_NUMBER || !json_number(&r->j, &v))
            return fail_at(r, "annotations", i, "bbox", "expected an array of 4 numbers");
        box[n++] = (float)v;
    }
    if (n != 4) return fail_at(r, "annotations", i, "bbox", "expected an array of 4 numbers");
    return !json_failed(&r->j);
}

/* Bit per required key of an element; a missing one is reported by name. */
static int check_required(reader *r, const char *section, int64_t i, unsigned seen, const char *const *keys, int n) {
    for (int k = 0; k < n; k++)
        if (!(seen & 1u << k)) return fail_at(r, section, i, keys[k], "missing key");
    return 1;
}

static int key_index(const char *key, const char *const *keys, int n) {
    for (int k = 0; k < n; k++)
        if (strcmp(key, keys[k]) == 0) return k;
    return -1;
}

static int parse_images(reader *r, coco_file *f) {
    static const char *const keys[] = {"id", "file_name", "width", "height"};
    int64_t cap = 0;
    if (!json_array_begin(&r->j)) return fail_at(r, "images", 0, "", "expected an array");
    for (int64_t i = 0; json_array_next(&r->j); i++) {
        if (!reserve((void **)&f->images, &cap, i + 1, sizeof(coco_image))) return fail_at(r, "images", i, "", "out of memory");
        coco_image *im = &f->images[i];
        memset(im, 0, sizeof *im);
        f->n_images = i + 1;
        unsigned seen = 0;
        char key[32];
        int64_t v;
        if (!json_object_begin(&r->j)) return fail_at(r, "images", i, "", "expected an object");
        while (json_next_key(&r->j, key, sizeof key)) {
            int k = key_index(key, keys, 4);
            int ok = k == 0   ? read_int(r, "images", i, key, &im->id)
                     : k == 1 ? read_name(r, "images", i, key, &im->file_name)
                     : k >= 2 ? read_int(r, "images", i, key, &v)
                              : json_skip(&r->j);
            if (!ok) return 0;
            if (k == 2) im->width = (int)v;
            if (k == 3) im->height = (int)v;
            if (k >= 0) seen |= 1u << k;
        }
        if (json_failed(&r->j) || !check_required(r, "images", i, seen, keys, 2)) return 0;
    }
    return !json_failed(&r->j);
}

static int parse_categories(reader *r, coco_file *f) {
    static const char *const keys[] = {"id", "name"};
    int64_t cap = 0;
    if (!json_array_begin(&r->j)) return fail_at(r, "categories", 0, "", "expected an array");
    for (int64_t i = 0; json_array_next(&r->j); i++) {
        if (!reserve((void **)&f->categories, &cap, i + 1, sizeof(coco_category)))
            return fail_at(r, "categories", i, "", "out of memory");
        coco_category *c = &f->categories[i];
        memset(c, 0, sizeof *c);
        f->n_categories = (int)i + 1;
        unsigned seen = 0;
        char key[32];
        if (!json_object_begin(&r->j)) return fail_at(r, "categories", i, "", "expected an object");
        while (json_next_key(&r->j, key, sizeof key)) {
            int k = key_index(key, keys, 2);
            int ok = k == 0 ? read_int(r, "categories", i, key, &c->id)
                     : k == 1 ? read_name(r, "categories", i, key, &c->name)
                              : json_skip(&r->j);
            if (!ok) return 0;
            if (k >= 0) seen |= 1u << k;
        }
        if (json_failed(&r->j) || !check_required(r, "categories", i, seen, keys, 2)) return 0;
    }
    return !json_failed(&r->j);
}

static int parse_annotations(reader *r, coco_file *f) {
    static const char *const keys[] = {"image_id", "category_id", "bbox", "iscrowd"};
    int64_t cap = 0;
    if (!json_array_begin(&r->j)) return fail_at(r, "annotations", 0, "", "expected an array");
    for (int64_t i = 0; json_array_next(&r->j); i++) {
        if (!reserve((void **)&f->annotations, &cap, i + 1, sizeof(coco_annotation)))
            return fail_at(r, "annotations", i, "", "out of memory");
        if (i % 4096 == 0) json_drop_consumed(&r->j);
        coco_annotation *a = &f->annotations[i];
        memset(a, 0, sizeof *a);
        f->n_annotations = i + 1;
        unsigned seen = 0;
        char key[32];
        int64_t crowd = 0;
        if (!json_object_begin(&r->j)) return fail_at(r, "annotations", i, "", "expected an object");
        while (json_next_key(&r->j, key, sizeof key)) {
            int k = key_index(key, keys, 4);
            int ok = k == 0   ? read_int(r, "annotations", i, key, &a->image_id)
                     : k == 1 ? read_int(r, "annotations", i, key, &a->category_id)
                     : k == 2 ? read_bbox(r, i, a->bbox)
                     : k == 3 ? read_int(r, "annotations", i, key, &crowd)
                              : json_skip(&r->j);
            if (!ok) return 0;
            if (k >= 0) seen |= 1u << k;
        }
        a->iscrowd = crowd != 0;
        if (json_failed(&r->j) || !check_required(r, "annotations", i, seen, keys, 3)) return 0;
    }
    return !json_failed(&r->j);
}

static int parse_top(reader *r, coco_file *f) {
    char key[32];
    int have_images = 0, have_categories = 0;
    if (!json_object_begin(&r->j)) return 0;
    while (json_next_key(&r->j, key, sizeof key)) {
        int ok;
        if (strcmp(key, "images") == 0) ok = have_images = parse_images(r, f);
        else if (strcmp(key, "categories") == 0) ok = have_categories = parse_categories(r, f);
        else if (strcmp(key, "annotations") == 0) ok = parse_annotations(r, f);
        else ok = json_skip(&r->j);
        if (!ok) return 0;
    }
    if (json_failed(&r->j)) return 0;
    if (json_peek(&r->j) != JSON_NONE) {
        json_fail(&r->j, "text after the top-level object");
        return 0;
    }
    if (!have_images || !have_categories) {
        snprintf(r->where, sizeof r->where, "%s", !have_images ? "images" : "categories");
        json_fail(&r->j, "missing top-level key");
        return 0;
    }
    return 1;
}

int coco_read(const char *path, coco_file *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0) {
        snprintf(err, err_size, "%s: %s", path,
                 fd < 0 ? strerror(errno) : sb.st_size == 0 ? "file is empty" : "not a regular file");
        if (fd >= 0) close(fd);
        return 0;
    }
    /* A read-only mapping: pages are read once, sequentially, and the kernel
     * may drop them again, so the parse needs no copy of the file. */
    void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (map == MAP_FAILED) {
        snprintf(err, err_size, "%s: cannot map (%s)", path, strerror(errno));
        return 0;
    }
    madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
    reader r = {.where = ""};
    const char *text = map;
    size_t n = (size_t)sb.st_size;
    if (n >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) text += 3, n -= 3; /* UTF-8 BOM */
    json_init(&r.j, text, n);
    int ok = parse_top(&r, out);
    munmap(map, (size_t)sb.st_size);
    if (!ok) {
        snprintf(err, err_size, "%s: %s%s%s", path, r.where, r.where[0] ? ": " : "", r.j.err);
        coco_file_free(out);
    }
    return ok;
}

void coco_file_free(coco_file *f) {
    for (int64_t i = 0; i < f->n_images; i++) free(f->images[i].file_name);
    for (int i = 0; i < f->n_categories; i++) free(f->categories[i].name);
    free(f->images);
    free(f->categories);
    free(f->annotations);
    memset(f, 0, sizeof *f);
}
