#include "browse_dataset.h"

#include <stdlib.h>
#include <string.h>
#include "../plots/batch_plot.h"
#include "convert_dataset.h" /* cv_mkdirs */
#include "data_split.h"

/* Class names of the open dataset, for the pictures' labels. */
static const char **class_names(const wb_data_split *d, int *n) {
    *n = d->vt->num_classes(d->ds);
    const char **names = calloc((size_t)(*n > 0 ? *n : 1), sizeof *names);
    for (int i = 0; names && i < *n; i++) names[i] = d->vt->class_name(d->ds, i);
    return names;
}

/* One picture of image i of the batch: its pixels and its boxes (ignored regions left out). */
static wb_status draw(const wb_batch *b, int i, const wb_denorm *dn, const char *const *names, int n_names,
                      const char *path, char *err, size_t n) {
    wb_plot_batch pb;
    size_t plane = (size_t)b->pad_h * b->pad_w;
    wb_status st = wb_plot_batch_init(&pb, b->images + (size_t)i * 3 * plane, 1, b->pad_h, b->pad_w, dn);
    const wb_gt_image *g = &b->gt[i];
    for (int k = 0; st == WB_OK && k < g->num_boxes; k++)
        if (!g->ignore[k]) st = wb_plot_batch_add(&pb, 0, g->boxes + 4 * k, g->labels + k, NULL, 1);
    if (st == WB_OK) st = wb_plot_batch_save(&pb, names, n_names, path, err, n);
    else snprintf(err, n, "out of memory drawing %s", path);
    wb_plot_batch_free(&pb);
    return st;
}

int wb_browse_dataset(wb_experiment *e, wb_session *s, const wb_browse_opts *o, FILE *log, char *err, size_t n) {
    if (!wb_data_split_exists(e, o->split)) {
        snprintf(err, n, "usage: the experiment has no data.%s section", o->split);
        return -1;
    }
    /* in dataset order, one picture per sample; randomness as in epoch 0 of training */
    wb_split_opts so = {.training = false, .batch_size = 1, .no_pipeline = !o->show_pipeline};
    wb_data_split d;
    if (wb_data_split_open(&d, e, s, o->split, &so, err, n) != WB_OK) {
        wb_data_split_close(&d);
        return -1;
    }
    wb_denorm dn = {{0, 0, 0}, {1, 1, 1}, false};
    if (o->show_pipeline) wb_denorm_of_split(e->cfg, o->split, &dn);
    int n_names = 0, written = 0;
    const char **names = class_names(&d, &n_names);
    bool ok = names && cv_mkdirs(o->out_dir, err, n);
    while (ok && written < o->num) {
        wb_batch *b = NULL;
        if (wb_loader_next(d.loader, &b) != WB_OK) {
            snprintf(err, n, "data.%s: %s", o->split, wb_loader_error(d.loader));
            ok = false;
            break;
        }
        if (!b) break;
        for (int i = 0; ok && i < b->n && written < o->num; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s_%06lld.jpg", o->out_dir, o->split, (long long)b->info[i].index);
            ok = draw(b, i, &dn, names, n_names, path, err, n) == WB_OK;
            if (ok) fprintf(log, "%s: %d boxes, %dx%d\n", path, b->gt[i].num_boxes, b->gt[i].img_w, b->gt[i].img_h);
            written += ok;
        }
        wb_loader_release(d.loader, b);
    }
    free(names);
    wb_data_split_close(&d);
    return ok ? written : -1;
}
