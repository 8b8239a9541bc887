/* Pascal VOC: the split file, each listed id's XML (parse, <size>, objects,
 * classes, boxes) and image. --fix-to writes the split file with the usable
 * ids and a cleaned XML per id (bad objects removed, overhanging boxes
 * clipped, <size> set to the real size) under the same relative paths. */
#include <math.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "config/params.h"
#include "scan_common.h"
#include "scanners.h"
#include "voc_read.h"

typedef struct voc_scan {
    const wb_params *p;
    const char *ann_dir, *img_dir, *suffix;
    char *fix_ann_dir;  /* NULL without --fix-to */
    FILE *fix_split;
    wb_check_report *r;
} voc_scan;

static bool in_classes(const wb_params *p, const char *name) {
    for (int i = 0; i < wb_params_list_len(p, "classes"); i++)
        if (strcmp(wb_params_string_at(p, "classes", i), name) == 0) return true;
    return false;
}

static bool parse_number(const char *s, double *out) {
    char *end;
    *out = strtod(s, &end);
    return *s && end != s && *end == '\0';
}

static void write_xml(FILE *f, const char *id, const char *suffix, int w, int h) {
    fprintf(f, "<annotation>\n\t<filename>%s%s</filename>\n\t<size>\n\t\t<width>%d</width>\n\t\t<height>%d</height>\n"
               "\t\t<depth>3</depth>\n\t</size>\n", id, suffix, w, h);
}

static void write_object(FILE *f, const voc_doc_object *o, const double b[4]) {
    fprintf(f, "\t<object>\n\t\t<name>%s</name>\n\t\t<truncated>%d</truncated>\n\t\t<difficult>%d</difficult>\n"
               "\t\t<bndbox>\n\t\t\t<xmin>%g</xmin>\n\t\t\t<ymin>%g</ymin>\n\t\t\t<xmax>%g</xmax>\n"
               "\t\t\t<ymax>%g</ymax>\n\t\t</bndbox>\n\t</object>\n",
            o->name, o->truncated, o->difficult, b[0], b[1], b[2], b[3]);
}

/* Checks the objects of one annotation; writes the kept ones to fix when set. */
static void scan_objects(voc_scan *s, const char *xml, const voc_doc *doc, int w, int h, FILE *fix) {
    char where[4200];
    for (int k = 0; k < doc->n_objects; k++) {
        const voc_doc_object *o = &doc->objects[k];
        snprintf(where, sizeof where, "%s:%d", xml, o->line);
        s->r->boxes++;
        if (!in_classes(s->p, o->name)) {
            wb_check_add(s->r, WB_DEFECT_BAD_LABEL, where, "class '%s' is not in `classes`", o->name);
            continue;
        }
        double b[4];
        int k4 = 0;
        while (k4 < 4 && parse_number(o->coord[k4], &b[k4])) k4++;
        if (k4 < 4) {
            wb_check_add(s->r, WB_DEFECT_BAD_ANNOTATION, where, "<bndbox> needs numbers xmin ymin xmax ymax ('%s' is not)",
                         o->coord[k4]);
            continue;
        }
        wb_box_verdict v = wb_scan_box(s->r, where, b, w, h);
        if (v == WB_BOX_CLIP) wb_scan_clip_box(b, w, h);
        if (v != WB_BOX_DROP && fix) write_object(fix, o, b);
    }
}

/* One id of the split file. */
static bool scan_id(voc_scan *s, const char *split, int line_no, const char *id, char *err, size_t err_size) {
    char where[4200];
    snprintf(where, sizeof where, "%s:%d", split, line_no);
    size_t n = strlen(s->ann_dir) + strlen(s->img_dir) + strlen(id) + strlen(s->suffix) + 8;
    char *xml = malloc(n), *img = malloc(n);
    if (!xml || !img) {
        free(xml);
        free(img);
        snprintf(err, err_size, "out of memory");
        return false;
    }
    snprintf(xml, n, "%s/%s.xml", s->ann_dir, id);
    snprintf(img, n, "%s/%s%s", s->img_dir, id, s->suffix);
    s->r->images++;
    voc_doc doc;
    char why[512];
    int w = 0, h = 0;
    bool ok = true, usable = false;
    if (access(xml, F_OK) != 0) {
        wb_check_add(s->r, WB_DEFECT_MISSING_ANNOTATION, where, "id '%s' has no annotation %s", id, xml);
    } else if (!voc_doc_read(xml, &doc, why, sizeof why)) {
        wb_check_add(s->r, WB_DEFECT_BAD_ANNOTATION, xml, "%s", why);
    } else {
        double aw = 0, ah = 0;
        bool sized = doc.has_size && parse_number(doc.width, &aw) && parse_number(doc.height, &ah);
        if (wb_scan_image(s->r, img, xml, &w, &h)) {
            usable = true;
            if (!sized) {
                wb_check_add(s->r, WB_DEFECT_SIZE_MISMATCH, xml, "no <size> with numeric width and height; the image is %dx%d",
                             w, h);
            } else if (aw != w || ah != h) {
                wb_check_add(s->r, WB_DEFECT_SIZE_MISMATCH, xml, "<size> says %gx%g, the image is %dx%d", aw, ah, w, h);
                usable = false; /* its boxes may belong to another size */
            }
        }
        if (doc.n_objects == 0) wb_check_add(s->r, WB_DEFECT_NO_OBJECTS, xml, "no <object>");
        FILE *fix = NULL;
        char *fix_path = usable && s->fix_ann_dir ? wb_scan_join(s->fix_ann_dir, strrchr(xml, '/') + 1) : NULL;
        if (fix_path && wb_scan_make_parents(fix_path)) fix = fopen(fix_path, "w");
        if (usable && s->fix_ann_dir && !fix) {
            snprintf(err, err_size, "cannot write %s", fix_path ? fix_path : "(out of memory)");
            ok = false;
        }
        if (fix) write_xml(fix, id, s->suffix, w, h);
        scan_objects(s, xml, &doc, w, h, fix);
        if (fix) {
            fputs("</annotation>\n", fix);
            if (fclose(fix) != 0) ok = false;
            fprintf(s->fix_split, "%s\n", id);
        }
        free(fix_path);
        voc_doc_free(&doc);
    }
    free(xml);
    free(img);
    return ok;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Ids listed twice: reported once per extra listing. */
static void check_duplicates(wb_check_report *r, const char *split, char **ids, int n) {
    qsort(ids, (size_t)n, sizeof *ids, cmp_str);
    for (int i = 1; i < n; i++)
        if (strcmp(ids[i], ids[i - 1]) == 0) wb_check_add(r, WB_DEFECT_DUPLICATE_ID, split, "id '%s' is listed more than once", ids[i]);
}

bool wb_scan_voc(const wb_params *p, const char *fix_dir, wb_check_report *r, char *err, size_t err_size) {
    char root_buf[4096];
    const char *root = wb_scan_path(p, "root", "", root_buf, sizeof root_buf);
    const char *split_rel = wb_scan_param(p, "split", "ImageSets/Main/trainval.txt");
    const char *ann_rel = wb_scan_param(p, "ann_dir", "Annotations");
    char *split = wb_scan_join(root, split_rel);
    char *ann_dir = wb_scan_join(root, ann_rel);
    char *img_dir = wb_scan_join(root, wb_scan_param(p, "img_dir", "JPEGImages"));
    voc_scan s = {p, ann_dir, img_dir, wb_scan_param(p, "img_suffix", ".jpg"), NULL, NULL, r};
    snprintf(r->source, sizeof r->source, "voc %s (split %s)", root, split_rel);
    r->scanned = true;
    bool ok = split && ann_dir && img_dir;
    if (ok && fix_dir) {
        char *fix_split = wb_scan_join(fix_dir, split_rel);
        s.fix_ann_dir = wb_scan_join(fix_dir, ann_rel);
        s.fix_split = fix_split && wb_scan_make_parents(fix_split) ? fopen(fix_split, "w") : NULL;
        if (!s.fix_split) snprintf(err, err_size, "cannot write %s", fix_split ? fix_split : fix_dir);
        ok = s.fix_split && s.fix_ann_dir;
        free(fix_split);
    }
    char why[512];
    char *text = ok ? wb_scan_read_file(split, NULL, why, sizeof why) : NULL;
    if (ok && !text)
        wb_check_add(r, WB_DEFECT_BAD_ANNOTATION, split, "cannot read the split file (check `root` and `split`): %s", why);
    char **ids = NULL;
    int n_ids = 0, line_no = 0;
    char *cursor = text, *line;
    while (ok && text && (line = wb_scan_next_line(&cursor)) != NULL) {
        line_no++;
        line += strspn(line, " \t");
        line[strcspn(line, " \t")] = '\0'; /* "<id>  1" lines of per-class split files */
        if (!*line) continue;
        char **grown = realloc(ids, (size_t)(n_ids + 1) * sizeof *ids);
        if (!grown) {
            snprintf(err, err_size, "out of memory");
            ok = false;
            break;
        }
        ids = grown;
        ids[n_ids++] = line;
        ok = scan_id(&s, split, line_no, line, err, err_size);
    }
    if (ids) check_duplicates(r, split, ids, n_ids);
    if (s.fix_split && fclose(s.fix_split) != 0 && ok) {
        snprintf(err, err_size, "cannot write the split file under %s", fix_dir);
        ok = false;
    }
    free(ids);
    free(text);
    free(s.fix_ann_dir);
    free(split);
    free(ann_dir);
    free(img_dir);
    return ok;
}
