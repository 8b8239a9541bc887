/* YOLO txt: the image list (a folder or a list file), each image and its
 * label file by the images/ -> labels/ convention, every label line, and
 * label files that belong to no listed image. --fix-to writes one cleaned
 * label file per usable image into DIR (flat, same file names): bad lines
 * removed, overhanging boxes clipped. */
#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/params.h"
#include "formats/yolo/yolo_names.h"
#include "scan_common.h"
#include "scanners.h"

/* The yolo plugin's limits (plugins/datasets/yolo/yolo_labels.h), so both give one verdict. */
#define YOLO_MAX_LABEL_BYTES ((size_t)4 << 20)
#define YOLO_MAX_COORD 1e6

typedef struct path_list {
    char **items;
    int n, cap;
} path_list;

static bool push(path_list *l, char *s) {
    if (!s) return false;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        char **grown = realloc(l->items, (size_t)cap * sizeof *grown);
        if (!grown) {
            free(s);
            return false;
        }
        l->items = grown;
        l->cap = cap;
    }
    l->items[l->n++] = s;
    return true;
}

static void free_list(path_list *l) {
    for (int i = 0; i < l->n; i++) free(l->items[i]);
    free(l->items);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool has_suffix(const char *name, const char *const *suffixes) {
    const char *dot = strrchr(name, '.');
    for (int i = 0; dot && suffixes[i]; i++)
        if (strcasecmp(dot, suffixes[i]) == 0) return true;
    return false;
}

static const char *const image_suffixes[] = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", NULL};
static const char *const label_suffixes[] = {".txt", NULL};

/* Sorted paths of dir's files with one of the suffixes. false when out of memory. */
static bool list_dir(const char *dir, const char *const *suffixes, path_list *out) {
    DIR *d = opendir(dir);
    if (!d) return true;
    struct dirent *e;
    bool ok = true;
    while (ok && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' && has_suffix(e->d_name, suffixes)) ok = push(out, wb_scan_join(dir, e->d_name));
    closedir(d);
    qsort(out->items, (size_t)out->n, sizeof *out->items, cmp_str);
    return ok;
}

/* Images of a list file, relative paths taken from its folder. */
static bool read_list(wb_check_report *r, const char *file, path_list *out) {
    char why[512];
    char *text = wb_scan_read_file(file, NULL, why, sizeof why);
    if (!text) {
        wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, file, "cannot read the image list (check `images`): %s", why);
        return true;
    }
    char *dir = strdup(file), *slash = dir ? strrchr(dir, '/') : NULL;
    if (slash) *slash = '\0';
    else if (dir) dir[0] = '\0';
    bool ok = dir != NULL;
    char *cursor = text, *line;
    while (ok && (line = wb_scan_next_line(&cursor)) != NULL) {
        if (!*line || line[0] == '#') continue;
        if (strncmp(line, "./", 2) == 0) line += 2;
        ok = push(out, wb_scan_join(dir, line));
    }
    free(dir);
    free(text);
    return ok;
}

/* The images/ -> labels/ convention (the last "/images/" replaced, the extension by .txt). */
static char *label_path_of(const char *image) {
    size_t n = strlen(image);
    char *out = malloc(n + 8);
    if (!out) return NULL;
    memcpy(out, image, n + 1);
    char *hit = NULL;
    for (char *p = strstr(out, "/images/"); p; p = strstr(p + 1, "/images/")) hit = p;
    if (hit) memcpy(hit, "/labels/", 8);
    char *slash = strrchr(out, '/'), *dot = strrchr(out, '.');
    if (dot && (!slash || dot > slash)) *dot = '\0';
    strcat(out, ".txt");
    return out;
}

/* Class count from `names`, else from names_file, read as the yolo plugin
 * reads it (core/formats/yolo/); a names file it refuses is a defect. */
static int count_names(const wb_params *p, wb_check_report *r) {
    int n = wb_params_list_len(p, "names");
    char file_buf[4096], why[512];
    const char *file = wb_scan_param(p, "names_file", "")[0] ? wb_scan_path(p, "names_file", "", file_buf, sizeof file_buf) : "";
    if (n > 0 || !*file) return n;
    size_t len = 0;
    char *text = wb_scan_read_file(file, &len, why, sizeof why), **names = NULL;
    n = text ? yolo_names_parse(text, len, yolo_names_is_yaml(file), &names, why, sizeof why) : 0;
    if (!n) wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, file, "cannot take class names from this file (check "
                         "`names_file`): %s", why);
    yolo_names_free(names, n);
    free(text);
    return n;
}

/* Checks one label line; true with the (clipped) normalized line in fixed when it is kept. */
static bool scan_line(wb_check_report *r, const char *where, char *line, int n_classes, int w, int h, char *fixed,
                      size_t fixed_size) {
    double v[512];
    int n = 0;
    char *c = line;
    while (*c && n < 512) {
        c += strspn(c, " \t,");
        if (!*c) break;
        char *end;
        v[n] = strtod(c, &end);
        if (end == c || (*end && !strchr(" \t,", *end))) {
            wb_check_add(r, WB_DEFECT_BAD_LINE, where, "'%.40s' is not a number", c);
            return false;
        }
        n++;
        c = end;
    }
    if (n == 0) {
        wb_check_add(r, WB_DEFECT_BAD_LINE, where, "empty line");
        return false;
    }
    if (n != 5 && (n < 7 || n % 2 == 0 || *c)) {
        wb_check_add(r, WB_DEFECT_BAD_LINE, where, "%d values; expected 5 (class cx cy w h) or a polygon", n);
        return false;
    }
    if (!(v[0] == floor(v[0]) && v[0] >= 0 && v[0] < n_classes)) {
        wb_check_add(r, WB_DEFECT_BAD_LABEL, where, "class %g is not an integer in [0, %d)", v[0], n_classes);
        return false;
    }
    for (int k = 1; k < n; k++)
        if (fabs(v[k]) > YOLO_MAX_COORD) { /* the yolo plugin's rule too */
            wb_check_add(r, WB_DEFECT_BAD_LINE, where, "coordinate %g is beyond +-1e6 (YOLO coordinates are "
                         "fractions of the image size)", v[k]);
            return false;
        }
    double b[4]; /* pixels */
    if (n == 5) {
        double cx = v[1] * w, cy = v[2] * h, bw = v[3] * w, bh = v[4] * h;
        b[0] = cx - bw / 2, b[1] = cy - bh / 2, b[2] = cx + bw / 2, b[3] = cy + bh / 2;
    } else {
        b[0] = b[2] = v[1] * w, b[1] = b[3] = v[2] * h;
        for (int k = 1; k < n; k += 2) {
            b[0] = fmin(b[0], v[k] * w), b[2] = fmax(b[2], v[k] * w);
            b[1] = fmin(b[1], v[k + 1] * h), b[3] = fmax(b[3], v[k + 1] * h);
        }
    }
    wb_box_verdict verdict = wb_scan_box(r, where, b, w, h);
    if (verdict == WB_BOX_DROP) return false;
    if (verdict == WB_BOX_CLIP) wb_scan_clip_box(b, w, h);
    snprintf(fixed, fixed_size, "%d %.6f %.6f %.6f %.6f\n", (int)v[0], (b[0] + b[2]) / 2 / w, (b[1] + b[3]) / 2 / h,
             (b[2] - b[0]) / w, (b[3] - b[1]) / h);
    return true;
}

/* One image and its label file. */
static bool scan_image(wb_check_report *r, const char *image, const char *label, int n_classes, const char *fix_dir,
                       char *err, size_t err_size) {
    int w = 0, h = 0;
    bool usable = wb_scan_image(r, image, image, &w, &h);
    char why[512];
    size_t size = 0;
    char *text = access(label, F_OK) == 0 ? wb_scan_read_file(label, &size, why, sizeof why) : NULL;
    if (text && size > YOLO_MAX_LABEL_BYTES) { /* the yolo plugin refuses it */
        snprintf(why, sizeof why, "larger than %zu bytes; is this the right file?", YOLO_MAX_LABEL_BYTES);
        free(text);
        text = NULL;
    }
    if (!text) {
        if (access(label, F_OK) != 0) wb_check_add(r, WB_DEFECT_NO_LABEL_FILE, image, "no label file %s", label);
        else wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, label, "cannot read the label file: %s", why);
        return true;
    }
    FILE *fix = NULL;
    char *fix_path = NULL;
    if (usable && fix_dir) {
        fix_path = wb_scan_join(fix_dir, strrchr(label, '/') ? strrchr(label, '/') + 1 : label);
        fix = fix_path && wb_scan_make_parents(fix_path) ? fopen(fix_path, "w") : NULL;
        if (!fix) {
            snprintf(err, err_size, "cannot write %s", fix_path ? fix_path : "(out of memory)");
            free(fix_path);
            free(text);
            return false;
        }
    }
    char where[4200], fixed[256], *cursor = text, *line;
    int line_no = 0;
    while ((line = wb_scan_next_line(&cursor)) != NULL) {
        snprintf(where, sizeof where, "%s:%d", label, ++line_no);
        r->boxes += line[strspn(line, " \t")] != '\0';
        if (!usable) continue; /* boxes need the real size */
        if (scan_line(r, where, line, n_classes, w, h, fixed, sizeof fixed) && fix) fputs(fixed, fix);
    }
    if (usable && line_no == 0) wb_check_add(r, WB_DEFECT_NO_OBJECTS, label, "empty label file (background image)");
    bool ok = !fix || fclose(fix) == 0;
    if (!ok) snprintf(err, err_size, "cannot write %s", fix_path);
    free(fix_path);
    free(text);
    return ok;
}

/* Label files in the label folders of the images that belong to none of them. */
static bool find_orphans(wb_check_report *r, path_list *labels) {
    qsort(labels->items, (size_t)labels->n, sizeof *labels->items, cmp_str);
    path_list dirs = {0};
    bool ok = true;
    for (int i = 0; ok && i < labels->n; i++) {
        const char *slash = strrchr(labels->items[i], '/');
        size_t len = slash ? (size_t)(slash - labels->items[i]) : 0;
        if (dirs.n && strlen(dirs.items[dirs.n - 1]) == len && strncmp(dirs.items[dirs.n - 1], labels->items[i], len) == 0)
            continue;
        ok = push(&dirs, len ? strndup(labels->items[i], len) : strdup("."));
    }
    for (int d = 0; ok && d < dirs.n; d++) {
        path_list files = {0};
        ok = list_dir(dirs.items[d], label_suffixes, &files);
        for (int i = 0; ok && i < files.n; i++) {
            const char *key = strncmp(files.items[i], "./", 2) == 0 ? files.items[i] + 2 : files.items[i];
            if (!bsearch(&key, labels->items, (size_t)labels->n, sizeof *labels->items, cmp_str))
                wb_check_add(r, WB_DEFECT_ORPHAN_LABEL, files.items[i], "no listed image has this label file");
        }
        free_list(&files);
    }
    free_list(&dirs);
    return ok;
}

static void check_duplicates(wb_check_report *r, const char *source, path_list *images) {
    char **sorted = malloc((size_t)images->n * sizeof *sorted + 1);
    if (!sorted) return;
    memcpy(sorted, images->items, (size_t)images->n * sizeof *sorted);
    qsort(sorted, (size_t)images->n, sizeof *sorted, cmp_str);
    for (int i = 1; i < images->n; i++)
        if (strcmp(sorted[i], sorted[i - 1]) == 0)
            wb_check_add(r, WB_DEFECT_DUPLICATE_ID, source, "image %s is listed more than once", sorted[i]);
    free(sorted);
}

/* `images`, or (empty) the `split` entry of the data.yaml names_file, as the yolo plugin resolves it. */
static const char *images_of(const wb_params *p, wb_check_report *r, char *buf, size_t size) {
    const char *images = wb_scan_path(p, "images", "", buf, size), *split = wb_scan_param(p, "split", "");
    if (wb_scan_param(p, "images", "")[0] || !split[0]) return images;
    char file_buf[4096], why[700] = "give `names_file` = a data.yaml with the splits";
    const char *file = wb_scan_path(p, "names_file", "", file_buf, sizeof file_buf);
    size_t len = 0;
    char *text = yolo_names_is_yaml(file) ? wb_scan_read_file(file, &len, why, sizeof why) : NULL;
    char *found = text ? yolo_data_split_images(text, len, file, split, why, sizeof why) : NULL;
    if (found) snprintf(buf, size, "%s", found);
    else wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, file, "split = \"%s\": %s", split, why);
    free(found);
    free(text);
    return found ? buf : "";
}

bool wb_scan_yolo(const wb_params *p, const char *fix_dir, wb_check_report *r, char *err, size_t err_size) {
    char images_buf[4096];
    const char *images = images_of(p, r, images_buf, sizeof images_buf);
    int n_classes = count_names(p, r);
    snprintf(r->source, sizeof r->source, "yolo %.400s (%d classes)", images, n_classes);
    r->scanned = true;
    path_list list = {0}, labels = {0};
    DIR *probe = opendir(images);
    bool ok = probe ? list_dir(images, image_suffixes, &list) : read_list(r, images, &list);
    if (probe) closedir(probe);
    if (ok && list.n == 0 && r->count[WB_DEFECT_BAD_ANNOTATION] == 0)
        wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, images, "no image (.jpg, .jpeg, .png, .bmp, .tif, .tiff, .webp) found");
    if (n_classes == 0) wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, NULL, "no class names: set `names` or `names_file`");
    check_duplicates(r, images, &list);
    r->images = list.n;
    for (int i = 0; ok && i < list.n; i++) {
        char *label = label_path_of(list.items[i]);
        ok = label && scan_image(r, list.items[i], label, n_classes, fix_dir, err, err_size);
        ok = ok && push(&labels, label);
    }
    if (ok) ok = find_orphans(r, &labels);
    if (!ok && !err[0]) snprintf(err, err_size, "out of memory");
    free_list(&list);
    free_list(&labels);
    return ok;
}
