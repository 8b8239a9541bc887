#include "coco_fix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/coco/json_pull.h"
#include "scan_common.h"

void coco_fix_plan_free(coco_fix_plan *plan) {
    free(plan->drop_image);
    free(plan->annotation);
    free(plan->bbox);
    *plan = (coco_fix_plan){0};
}

typedef struct writer {
    json_pull j;
    FILE *out;
    const coco_fix_plan *plan;
} writer;

static void put(writer *w, const char *from, const char *to) { fwrite(from, 1, (size_t)(to - from), w->out); }

/* The shortest of %.15g / %.17g that reads back to the same double. */
static void put_number(writer *w, double v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, sizeof buf, "%.17g", v);
    fputs(buf, w->out);
}

/* An annotation object with its "bbox" value replaced. */
static void put_clipped(writer *w, const char *from, const double box[4]) {
    char key[8];
    json_object_begin(&w->j);
    while (json_next_key(&w->j, key, sizeof key)) {
        json_peek(&w->j);
        const char *value = w->j.p;
        json_skip(&w->j);
        if (strcmp(key, "bbox") != 0) continue;
        put(w, from, value);
        fputc('[', w->out);
        for (int k = 0; k < 4; k++) {
            if (k) fputs(", ", w->out);
            put_number(w, box[k]);
        }
        fputc(']', w->out);
        from = w->j.p;
    }
    put(w, from, w->j.p);
}

/* The elements of an "images" or "annotations" array that the plan keeps. */
static void put_array(writer *w, bool annotations) {
    json_array_begin(&w->j);
    fputc('[', w->out);
    bool first = true;
    for (int i = 0; json_array_next(&w->j); i++) {
        const char *start = w->j.p;
        bool keep = annotations ? i < w->plan->n_annotations && w->plan->annotation[i] != COCO_FIX_DROP
                                : i < w->plan->n_images && !w->plan->drop_image[i];
        if (keep && !first) fputs(", ", w->out);
        if (keep && annotations && w->plan->annotation[i] == COCO_FIX_CLIP) put_clipped(w, start, w->plan->bbox[i]);
        else if (json_skip(&w->j) && keep) put(w, start, w->j.p);
        first = first && !keep;
    }
    fputc(']', w->out);
}

bool coco_fix_write(const char *text, size_t n, const coco_fix_plan *plan, const char *ann_file,
                    const char *fix_dir, char *err, size_t err_size) {
    const char *base = strrchr(ann_file, '/');
    char *path = wb_scan_join(fix_dir, base ? base + 1 : ann_file);
    writer w = {.out = path && wb_scan_make_parents(path) ? fopen(path, "w") : NULL, .plan = plan};
    if (w.out) {
        json_init(&w.j, text, n);
        json_object_begin(&w.j);
        const char *copied = text;
        char key[32];
        while (json_next_key(&w.j, key, sizeof key)) {
            bool images = strcmp(key, "images") == 0, annotations = strcmp(key, "annotations") == 0;
            json_peek(&w.j);
            if (!images && !annotations) {
                json_skip(&w.j);
                continue;
            }
            put(&w, copied, w.j.p);
            put_array(&w, annotations);
            copied = w.j.p;
        }
        put(&w, copied, text + n);
    }
    bool ok = w.out && !json_failed(&w.j) && !ferror(w.out);
    if (w.out && fclose(w.out) != 0) ok = false;
    if (!ok) snprintf(err, err_size, "cannot write the cleaned annotations to %s", path ? path : fix_dir);
    free(path);
    return ok;
}
