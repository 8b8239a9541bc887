#include "confusion_matrix_cmd.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../eval/coco_json.h"
#include "../plots/confusion_plot.h"
#include "convert_dataset.h" /* cv_mkdirs */
#include "val_stats.h"

wb_status wb_confusion_from_results(const char *gt_path, const char *results_path, wb_confusion *m, char ***names,
                                    char *err, size_t n) {
    wb_coco_gt gt;
    wb_coco_detection *dets = NULL;
    size_t n_dets = 0;
    wb_ap_stats stats;
    memset(m, 0, sizeof *m);
    *names = NULL;
    wb_status st = wb_coco_gt_load(gt_path, &gt, err, n);
    if (st != WB_OK) return st;
    st = wb_coco_results_load(results_path, &dets, &n_dets, err, n);
    if (st == WB_OK) {
        st = wb_val_stats(&gt, dets, n_dets, &stats, m);
        if (st == WB_OK) wb_ap_stats_free(&stats);
        else snprintf(err, n, "out of memory matching %zu detections", n_dets);
    }
    if (st == WB_OK && !(*names = calloc((size_t)gt.n_categories + 1, sizeof **names))) st = WB_ERR_NOMEM;
    for (int k = 0; st == WB_OK && k < gt.n_categories; k++)
        if (!((*names)[k] = strdup(gt.categories[k].name))) st = WB_ERR_NOMEM;
    if (st == WB_ERR_NOMEM) snprintf(err, n, "out of memory");
    free(dets);
    wb_coco_gt_free(&gt);
    return st;
}

/* A CSV field in quotes, quotes doubled (RFC 4180): class names may hold commas. */
static void put_field(FILE *f, const char *text) {
    fputc('"', f);
    for (const char *p = text; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

static wb_status write_csv(const wb_confusion *m, const char *const *names, const char *path, char *err, size_t n) {
    int k = m->num_classes + 1;
    double *norm = malloc((size_t)k * k * sizeof *norm);
    FILE *f = norm ? fopen(path, "w") : NULL;
    if (!f) {
        free(norm);
        snprintf(err, n, "cannot write %s", path);
        return WB_ERR_IO;
    }
    wb_confusion_normalized(m, norm);
    put_field(f, "predicted \\ true");
    for (int c = 0; c < k; c++) fputc(',', f), put_field(f, c < m->num_classes ? names[c] : "background");
    fputc('\n', f);
    for (int r = 0; r < k; r++) {
        put_field(f, r < m->num_classes ? names[r] : "background");
        for (int c = 0; c < k; c++) fprintf(f, ",%.6f", norm[(size_t)r * k + c]);
        fputc('\n', f);
    }
    free(norm);
    bool ok = !ferror(f);
    if (fclose(f) != 0 || !ok) {
        snprintf(err, n, "cannot write %s", path);
        return WB_ERR_IO;
    }
    return WB_OK;
}

wb_status wb_confusion_write(const wb_confusion *m, const char *const *names, const char *dir, char *err, size_t n) {
    char path[4096];
    if (!cv_mkdirs(dir, err, n)) return WB_ERR_IO;
    snprintf(path, sizeof path, "%s/confusion_matrix.png", dir);
    wb_status st = wb_confusion_plot(m, names, path, err, n);
    snprintf(path, sizeof path, "%s/confusion_matrix.csv", dir);
    return st == WB_OK ? write_csv(m, names, path, err, n) : st;
}
