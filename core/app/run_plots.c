#include "run_plots.h"

#include <stdio.h>
#include <stdlib.h>
#include "../data/image_header.h"
#include "../plots/confusion_plot.h"
#include "../plots/curves_plot.h"
#include "../plots/labels_plot.h"
#include "../plots/results_plot.h"
#include "../plugin/plugin_guard.h"
#include "../runtime/context.h"
#include "../runtime/log.h"

static void warn_unless_ok(wb_status st, const char *err) {
    if (st != WB_OK) wb_logf(WB_LOG_WARN, "plots", "%s", err);
}

/* The image's displayed size: the dataset's word, else the file's or bytes' header. */
static bool image_size(const wb_sample *smp, int *w, int *h) {
    wb_image_header hdr;
    const char *why;
    if (smp->width > 0 && smp->height > 0) {
        *w = smp->width, *h = smp->height;
        return true;
    }
    wb_header_result r = smp->image_path ? wb_image_header_read_file(smp->image_path, &hdr, &why)
                         : smp->encoded  ? wb_image_header_parse(smp->encoded, smp->encoded_size, &hdr, &why)
                                         : WB_HDR_BAD;
    if (r != WB_HDR_OK) return false;
    *w = hdr.width, *h = hdr.height;
    return true;
}

void wb_run_plot_labels(const wb_data_split *train, wb_session *s, const char *const *names, int num_classes,
                        const char *work_dir) {
    int64_t len = train->vt->length(train->ds);
    size_t n = 0, cap = 4096;
    wb_label_box *boxes = malloc(cap * sizeof *boxes);
    wb_context c;
    wb_context_init(&c, s, "plots", false);
    int64_t unsized = 0;
    for (int64_t i = 0; boxes && i < len; i++) {
        wb_sample smp = {.struct_size = sizeof smp};
        wb_status got;
        WB_PLUGIN_CALL(train->desc, "get", train->name, got = train->vt->get(train->ds, &c.pub, i, &smp));
        if (got != WB_OK) { /* the loader reports bad samples; the picture does without them */
            wb_ctx_clear_error(&c);
            continue;
        }
        int w = 0, h = 0;
        if (!image_size(&smp, &w, &h)) unsized += smp.num_boxes > 0;
        for (int k = 0; boxes && k < smp.num_boxes && w > 0 && h > 0 && unsized == 0; k++) {
            if (n == cap) {
                wb_label_box *grown = realloc(boxes, 2 * cap * sizeof *boxes);
                if (!grown) free(boxes);
                boxes = grown, cap *= 2;
                if (!boxes) break;
            }
            const float *b = smp.boxes + 4 * k;
            boxes[n++] = (wb_label_box){smp.labels[k], (b[0] + b[2]) / 2 / w, (b[1] + b[3]) / 2 / h, (b[2] - b[0]) / w,
                                        (b[3] - b[1]) / h};
        }
        train->vt->release_sample(train->ds, &smp);
        if (unsized) break;
    }
    char path[4096], err[4096 + 256];
    snprintf(path, sizeof path, "%s/labels.jpg", work_dir);
    if (!boxes) wb_logf(WB_LOG_WARN, "plots", "out of memory collecting the boxes for %s", path);
    else if (unsized) wb_logf(WB_LOG_WARN, "plots", "%s not written: an image's size is unknown", path);
    else warn_unless_ok(wb_labels_plot(boxes, n, num_classes, names, path, err, sizeof err), err);
    free(boxes);
}

void wb_run_plot_train_batch(const float *images, const int64_t shape[4], const wb_batch_truth *truth, int index,
                             const wb_denorm *dn, const char *const *names, int num_classes, const char *work_dir) {
    wb_plot_batch pb;
    char path[4096], err[4096 + 256];
    snprintf(path, sizeof path, "%s/train_batch%d.jpg", work_dir, index);
    wb_status st = wb_plot_batch_init(&pb, images, (int)shape[0], (int)shape[2], (int)shape[3], dn);
    if (st == WB_OK) st = wb_plot_batch_add_truth(&pb, truth);
    if (st == WB_OK) st = wb_plot_batch_save(&pb, names, num_classes, path, err, sizeof err);
    else snprintf(err, sizeof err, "out of memory drawing %s", path);
    warn_unless_ok(st, err);
    wb_plot_batch_free(&pb);
}

void wb_run_plot_results(const char *work_dir) {
    char log[4096], path[4096], err[8192 + 256];
    snprintf(log, sizeof log, "%s/log.json", work_dir);
    wb_results_table t;
    wb_status st = wb_results_from_log(log, &t, err, sizeof err);
    if (st == WB_OK) {
        snprintf(path, sizeof path, "%s/results.csv", work_dir);
        st = wb_results_write_csv(&t, path, err, sizeof err);
    }
    if (st == WB_OK) {
        snprintf(path, sizeof path, "%s/results.png", work_dir);
        st = wb_results_plot(&t, path, err, sizeof err);
    }
    warn_unless_ok(st, err);
    if (st == WB_OK) wb_results_free(&t);
}

void wb_run_plot_validation(const wb_val_record *rec, const char *const *names, int num_classes,
                            const char *work_dir) {
    char path[4096], err[8192 + 256];
    const char *const *gt_names = (const char *const *)rec->names;
    if (rec->batch_labels.rgb) {
        snprintf(path, sizeof path, "%s/val_batch0_labels.jpg", work_dir);
        warn_unless_ok(wb_plot_batch_save(&rec->batch_labels, names, num_classes, path, err, sizeof err), err);
        snprintf(path, sizeof path, "%s/val_batch0_pred.jpg", work_dir);
        warn_unless_ok(wb_plot_batch_save(&rec->batch_pred, names, num_classes, path, err, sizeof err), err);
    }
    if (rec->confusion.counts) {
        warn_unless_ok(wb_curves_plot(&rec->ap, gt_names, work_dir, err, sizeof err), err);
        snprintf(path, sizeof path, "%s/confusion_matrix.png", work_dir);
        warn_unless_ok(wb_confusion_plot(&rec->confusion, gt_names, path, err, sizeof err), err);
    }
}
