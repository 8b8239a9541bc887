#include "dataset_stats.h"

#include <stdlib.h>
#include <string.h>
#include "convert_dataset.h" /* cv_mkdirs */
#include "data_split.h"
#include "label_boxes.h"

static int by_value(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* min, 25th, 50th, 75th percentile (nearest rank), max and mean of n values (sorted in place). */
static void print_spread(FILE *out, const char *what, float *v, size_t n) {
    if (n == 0) return;
    qsort(v, n, sizeof *v, by_value);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += v[i];
    fprintf(out, "  %-7s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f\n", what, v[0], v[(n - 1) / 4], v[(n - 1) / 2],
            v[3 * (n - 1) / 4], v[n - 1], sum / (double)n);
}

static void print_table(FILE *out, const wb_data_split *d, const char *split, const wb_label_set *set) {
    int k = d->vt->num_classes(d->ds);
    int64_t *per_class = calloc((size_t)(k > 0 ? k : 1), sizeof *per_class), ignored = 0;
    int64_t area[3] = {0}, aspect[6] = {0};
    for (size_t i = 0; i < set->n; i++) {
        int label = set->boxes[i].label;
        if (per_class && label >= 0 && label < k) per_class[label]++;
        ignored += set->ignore[i];
        double w = set->width_px[i], h = set->height_px[i], a = w * h;
        area[a < 32 * 32 ? 0 : a < 96 * 96 ? 1 : 2]++;
        double r = h > 0 ? w / h : 1e9;
        aspect[r < 0.25 ? 0 : r < 0.5 ? 1 : r < 1 ? 2 : r < 2 ? 3 : r < 4 ? 4 : 5]++;
    }
    fprintf(out, "data.%s: %lld images, %lld without objects, %zu boxes (%lld crowd / difficult), %d classes\n", split,
            (long long)set->images, (long long)set->empty_images, set->n, (long long)ignored, k);
    if (set->unreadable) fprintf(out, "  %lld samples could not be read (see `workbench check`)\n",
                                 (long long)set->unreadable);
    if (set->unsized) fprintf(out, "  %lld images with boxes have no known size: their boxes are left out\n",
                              (long long)set->unsized);
    fprintf(out, "\n  %-24s %9s %7s\n", "class", "boxes", "share");
    for (int c = 0; per_class && c < k; c++)
        fprintf(out, "  %-24.24s %9lld %6.1f%%\n", d->vt->class_name(d->ds, c), (long long)per_class[c],
                set->n ? 100.0 * (double)per_class[c] / (double)set->n : 0.0);
    free(per_class);
    if (set->n == 0) return;
    fprintf(out, "\n  %-7s %9s %9s %9s %9s %9s %9s   (pixels)\n", "box", "min", "25%", "median", "75%", "max", "mean");
    float *v = malloc(set->n * sizeof *v);
    if (v) {
        memcpy(v, set->width_px, set->n * sizeof *v);
        print_spread(out, "width", v, set->n);
        memcpy(v, set->height_px, set->n * sizeof *v);
        print_spread(out, "height", v, set->n);
        free(v);
    }
    double n = (double)set->n;
    fprintf(out, "\n  area (COCO):  small < 32^2: %lld (%.1f%%)  medium < 96^2: %lld (%.1f%%)  large: %lld (%.1f%%)\n",
            (long long)area[0], 100 * area[0] / n, (long long)area[1], 100 * area[1] / n, (long long)area[2],
            100 * area[2] / n);
    fprintf(out, "  aspect w/h:   < 1/4: %lld  1/4-1/2: %lld  1/2-1: %lld  1-2: %lld  2-4: %lld  >= 4: %lld\n",
            (long long)aspect[0], (long long)aspect[1], (long long)aspect[2], (long long)aspect[3],
            (long long)aspect[4], (long long)aspect[5]);
}

int wb_dataset_stats(wb_experiment *e, wb_session *s, const char *split, const char *out_dir, FILE *out, char *err,
                     size_t n) {
    if (!wb_data_split_exists(e, split)) {
        snprintf(err, n, "usage: the experiment has no data.%s section", split);
        return -1;
    }
    wb_split_opts so = {.dataset_only = true};
    wb_data_split d;
    wb_label_set set = {0};
    int rc = -1;
    if (wb_data_split_open(&d, e, s, split, &so, err, n) == WB_OK && cv_mkdirs(out_dir, err, n)) {
        if (wb_label_set_collect(&d, s, &set) != WB_OK) {
            snprintf(err, n, "out of memory collecting the boxes of data.%s", split);
        } else {
            print_table(out, &d, split, &set);
            int k = d.vt->num_classes(d.ds);
            const char **names = calloc((size_t)(k > 0 ? k : 1), sizeof *names);
            for (int c = 0; names && c < k; c++) names[c] = d.vt->class_name(d.ds, c);
            char path[4096];
            snprintf(path, sizeof path, "%s/labels.jpg", out_dir);
            if (names && wb_labels_plot(set.boxes, set.n, k, names, path, err, n) == WB_OK) {
                fprintf(out, "\nlabels.jpg (YOLOv5's plot_labels): %s\n", path);
                rc = 0;
            } else if (!names) {
                snprintf(err, n, "out of memory");
            }
            free(names);
        }
    }
    wb_label_set_free(&set);
    wb_data_split_close(&d);
    return rc;
}
