#include "run_plots.h"

#include <stdio.h>
#include <stdlib.h>
#include "../plots/confusion_plot.h"
#include "../plots/curves_plot.h"
#include "../plots/labels_plot.h"
#include "../plots/results_plot.h"
#include "../runtime/log.h"
#include "label_boxes.h"

static void warn_unless_ok(wb_status st, const char *err) {
    if (st != WB_OK) wb_logf(WB_LOG_WARN, "plots", "%s", err);
}

void wb_run_plot_labels(const wb_data_split *train, wb_session *s, const char *const *names, int num_classes,
                        const char *work_dir) {
    wb_label_set set;
    char path[4096], err[4096 + 256];
    snprintf(path, sizeof path, "%s/labels.jpg", work_dir);
    if (wb_label_set_collect(train, s, &set) != WB_OK)
        wb_logf(WB_LOG_WARN, "plots", "out of memory collecting the boxes for %s", path);
    else if (set.unsized) wb_logf(WB_LOG_WARN, "plots", "%s not written: an image's size is unknown", path);
    else warn_unless_ok(wb_labels_plot(set.boxes, set.n, num_classes, names, path, err, sizeof err), err);
    wb_label_set_free(&set);
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
