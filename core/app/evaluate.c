#include "evaluate.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../config/params.h"
#include "../dist/dist.h"
#include "../eval/coco_json.h"
#include "../eval/eval_table.h"
#include "../eval/proposal_recall.h"
#include "../eval/voc_eval.h"
#include "../plugin/plugin_guard.h"
#include "../runtime/stop_signal.h"
#include "data_split.h"
#include "dist_eval.h"
#include "val_loss.h"
#include "val_stats.h"

/* The first batch's pictures for the run's plots: its labels, and its
 * detections moved from original-image pixels to the input's. */
static wb_status record_batch(wb_val_record *rec, const wb_batch *b, const wb_detections *dets, const wb_denorm *dn) {
    wb_status st = wb_plot_batch_init(&rec->batch_labels, b->images, b->n, b->pad_h, b->pad_w, dn);
    if (st == WB_OK) st = wb_plot_batch_init(&rec->batch_pred, b->images, b->n, b->pad_h, b->pad_w, dn);
    if (st == WB_OK) st = wb_plot_batch_add_truth(&rec->batch_labels, &b->truth);
    for (int i = 0; st == WB_OK && i < b->n && i < WB_PLOT_BATCH_MAX; i++) {
        const wb_gt_image *g = &b->gt[i];
        for (int k = 0; st == WB_OK && k < dets[i].num; k++) {
            const float *o = dets[i].boxes + 4 * k;
            float box[4] = {o[0] * g->scale_x + g->offset_x, o[1] * g->scale_y + g->offset_y,
                            o[2] * g->scale_x + g->offset_x, o[3] * g->scale_y + g->offset_y};
            st = wb_plot_batch_add(&rec->batch_pred, i, box, &dets[i].labels[k], &dets[i].scores[k], 1);
        }
    }
    return st;
}

/* Every image once, in order, through the model, the head's loss and its
 * predict; per_image (when not NULL) gets each image's number of detections. */
static wb_status predict_all(wb_data_split *d, wb_session *s, wb_model *m, wb_coco_detection_list *out,
                             int64_t *images, wb_val_loss *vl, wb_val_record *rec, const wb_denorm *dn,
                             wb_dist_counts *per_image, char *err, size_t n) {
    for (;;) {
        wb_batch *b = NULL;
        if (wb_loader_next(d->loader, &b) != WB_OK) {
            snprintf(err, n, "data.%s: %s", d->name, wb_loader_error(d->loader));
            return WB_ERR_IO;
        }
        if (!b) return WB_OK;
        wb_context c;
        wb_context_init(&c, s, "eval", false);
        int64_t shape[4] = {b->n, 3, b->pad_h, b->pad_w};
        wb_tensor *x = wb_ctx_tensor_uninit(&c, 4, shape);
        wb_detections dets[b->n];
        wb_status st = x ? WB_OK : c.err;
        if (x) {
            s->backend->upload(x->data, b->images, (size_t)x->numel * sizeof(float));
            st = wb_model_forward(m, x, false, err, n);
            if (st == WB_OK) wb_val_loss_add(vl, m, &b->truth);
        } else {
            snprintf(err, n, "%s", c.msg);
        }
        bool predicted = st == WB_OK && (st = wb_model_predict(m, &b->truth, dets, err, n)) == WB_OK;
        if (st == WB_OK && rec && !rec->batch_labels.rgb && record_batch(rec, b, dets, dn) != WB_OK)
            wb_plot_batch_free(&rec->batch_labels), wb_plot_batch_free(&rec->batch_pred); /* no pictures, no harm */
        for (int i = 0; st == WB_OK && i < b->n; i++) {
            if (per_image && !wb_dist_counts_push(per_image, dets[i].num)) st = WB_ERR_NOMEM;
            for (int k = 0; st == WB_OK && k < dets[i].num; k++) {
                const float *bx = dets[i].boxes + 4 * k;
                wb_coco_detection cd = {b->gt[i].image_id, d->vt->category_id(d->ds, dets[i].labels[k]), bx[0], bx[1],
                                        bx[2] - bx[0], bx[3] - bx[1], dets[i].scores[k]};
                if (!wb_coco_detection_push(out, cd)) st = WB_ERR_NOMEM;
            }
        }
        if (predicted) wb_model_release_detections(m, dets, b->n); /* also after a failure collecting them */
        *images += b->n;
        wb_loader_release(d->loader, b);
        wb_model_end_iteration(m);
        wb_session_reset_compute(s);
        if (st != WB_OK) {
            if (st == WB_ERR_NOMEM) snprintf(err, n, "out of memory collecting detections");
            return st;
        }
        /* A stop signal ends a training run's validation at the next batch, not after the whole split (hours
         * on COCO, past a scheduler's grace period). One process only: sharded ranks predict to the end. */
        int stop = wb_dist_world() > 1 ? 0 : wb_stop_requested();
        if (stop) {
            snprintf(err, n, "data.%s: prediction stopped by %s after %lld images", d->name, wb_stop_name(stop),
                     (long long)*images);
            return WB_ERR_INTERNAL; /* the trainer tells a stop from a failure by wb_stop_requested() */
        }
    }
}

/* The dataset's own ann_file, found like the coco plugin finds it (data_root). */
static wb_status load_whole_file(const wb_params *p, wb_coco_gt *gt, char *err, size_t n) {
    const char *root = wb_params_has(p, "data_root") ? wb_params_string(p, "data_root") : "";
    const char *file = wb_params_string(p, "ann_file");
    char path[4096];
    bool joined = root && *root && file[0] != '/';
    snprintf(path, sizeof path, "%s%s%s", joined ? root : "", joined ? "/" : "", file);
    return wb_coco_gt_load(path, gt, err, n);
}

static double seconds_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* The results, and beside them what their category ids mean: VOC and YOLO
 * have no ids of their own, so a reader cannot guess 1..K from the file alone. */
static wb_status save_results(const char *path, const wb_coco_detection_list *dl, const wb_coco_gt *gt, char *err,
                              size_t n) {
    char companion[4096];
    wb_coco_companion_path(path, "categories", companion, sizeof companion);
    wb_status st = wb_coco_results_save(path, dl->d, dl->n, err, n);
    return st == WB_OK ? wb_coco_categories_save(companion, gt->categories, gt->n_categories, err, n) : st;
}

/* Ground truth from the dataset plugin: boxes in original pixels, ignore
 * regions as crowd, area = w * h. */
static wb_status gt_from_dataset(wb_data_split *d, wb_session *s, wb_coco_gt *gt, char *err, size_t n) {
    int64_t len = d->vt->length(d->ds);
    int nc = d->vt->num_classes(d->ds);
    memset(gt, 0, sizeof *gt);
    gt->image_ids = malloc((size_t)len * sizeof *gt->image_ids);
    gt->categories = calloc((size_t)nc, sizeof *gt->categories);
    if (!gt->image_ids || !gt->categories) goto oom;
    gt->n_categories = nc;
    for (int k = 0; k < nc; k++) {
        gt->categories[k].id = d->vt->category_id(d->ds, k);
        gt->categories[k].name = strdup(d->vt->class_name(d->ds, k));
        if (!gt->categories[k].name) goto oom;
    }
    size_t cap = 0;
    wb_context c;
    wb_context_init(&c, s, "eval", false);
    for (int64_t i = 0; i < len; i++) {
        wb_sample smp = {.struct_size = sizeof smp};
        wb_status got;
        WB_PLUGIN_CALL(d->desc, "get", d->name, got = d->vt->get(d->ds, &c.pub, i, &smp));
        if (got != WB_OK) {
            snprintf(err, n, "data.%s: sample %lld: %s", d->name, (long long)i, c.msg);
            return WB_ERR_IO;
        }
        gt->image_ids[gt->n_images++] = smp.image_id;
        for (int b = 0; b < smp.num_boxes; b++) {
            if ((size_t)gt->n_annotations == cap) {
                cap = cap ? 2 * cap : 4096;
                wb_coco_annotation *grown = realloc(gt->annotations, cap * sizeof *grown);
                if (!grown) {
                    d->vt->release_sample(d->ds, &smp);
                    goto oom;
                }
                gt->annotations = grown;
            }
            const float *bx = smp.boxes + 4 * b;
            double w = bx[2] - bx[0], h = bx[3] - bx[1];
            gt->annotations[gt->n_annotations] = (wb_coco_annotation){
                gt->n_annotations + 1, smp.image_id, d->vt->category_id(d->ds, smp.labels[b]),
                {bx[0], bx[1], w, h}, w * h, smp.ignore ? smp.ignore[b] : 0};
            gt->n_annotations++;
        }
        d->vt->release_sample(d->ds, &smp);
    }
    return WB_OK;
oom:
    snprintf(err, n, "out of memory building the ground truth");
    return WB_ERR_NOMEM;
}

static int by_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* VOC mAP over the same ground truth: crowd = difficult. */
static wb_status voc_metric(const wb_coco_gt *gt, const wb_coco_detection_list *dl, FILE *out, wb_eval_result *res,
                            char *err, size_t n) {
    int64_t *ids = malloc((size_t)gt->n_images * sizeof *ids);
    wb_voc_box *g = malloc((size_t)(gt->n_annotations + 1) * sizeof *g), *dd = malloc((dl->n + 1) * sizeof *dd);
    wb_voc_class_result *pc = calloc((size_t)gt->n_categories, sizeof *pc);
    const char **names = calloc((size_t)gt->n_categories, sizeof *names);
    wb_status st = (ids && g && dd && pc && names) ? WB_OK : WB_ERR_NOMEM;
    if (st == WB_OK) {
        memcpy(ids, gt->image_ids, (size_t)gt->n_images * sizeof *ids);
        qsort(ids, (size_t)gt->n_images, sizeof *ids, by_id);
        /* Labels are positions in the category table; images positions in ids. */
        for (int k = 0; k < gt->n_categories; k++) names[k] = gt->categories[k].name;
        for (int i = 0; i < gt->n_annotations; i++) {
            const wb_coco_annotation *a = &gt->annotations[i];
            int label = 0;
            while (label < gt->n_categories && gt->categories[label].id != a->category_id) label++;
            int64_t *at = bsearch(&a->image_id, ids, (size_t)gt->n_images, sizeof *ids, by_id);
            g[i] = (wb_voc_box){(int)(at - ids), label, a->bbox[0], a->bbox[1], a->bbox[0] + a->bbox[2],
                                a->bbox[1] + a->bbox[3], a->iscrowd != 0, 0.0};
        }
        for (size_t i = 0; i < dl->n; i++) {
            const wb_coco_detection *x = &dl->d[i];
            int label = 0;
            while (label < gt->n_categories && gt->categories[label].id != x->category_id) label++;
            int64_t *at = bsearch(&x->image_id, ids, (size_t)gt->n_images, sizeof *ids, by_id);
            dd[i] = (wb_voc_box){at ? (int)(at - ids) : -1, label, x->x, x->y, x->x + x->w, x->y + x->h, false, x->score};
        }
        double map = 0;
        st = wb_voc_evaluate(g, (size_t)gt->n_annotations, dd, dl->n, gt->n_images, gt->n_categories, 0.5,
                             WB_VOC_AP_AREA, pc, &map, err, n);
        if (st == WB_OK) {
            wb_voc_print_table(out, names, pc, gt->n_categories, map);
            snprintf(res->metric_name, sizeof res->metric_name, "mAP");
            res->metric = res->map50 = map;
        }
    } else {
        snprintf(err, n, "out of memory for VOC evaluation");
    }
    free(ids), free(g), free(dd), free(pc), free(names);
    return st;
}

/* A proposal network's boxes (evaluation.metric = "proposal"): mmdetection's
 * AR@100/300/1000 over IoU 0.5:0.95, classes not looked at. */
static wb_status proposal_metric(const wb_coco_gt *gt, const wb_coco_detection_list *dl, FILE *out,
                                 wb_eval_result *res, char *err, size_t n) {
    wb_proposal_recall r;
    wb_status st = wb_proposal_recall_eval(gt, dl->d, dl->n, wb_recall_default_nums, 3, &r, err, n);
    if (st != WB_OK) return st;
    wb_proposal_recall_print(out, &r);
    memcpy(res->ar, r.ar, sizeof res->ar);
    snprintf(res->metric_name, sizeof res->metric_name, "AR@1000");
    res->metric = r.ar[2];
    return WB_OK;
}

/* YOLOv5's P, R, mAP@0.5 and mAP@0.5:0.95 and its per-class table; the
 * curves, the confusion matrix and the class names go to rec when given. */
static wb_status yolo_metrics(const wb_coco_gt *gt, const wb_coco_detection_list *dl, FILE *out, wb_eval_result *res,
                              wb_val_record *rec, char *err, size_t n) {
    wb_ap_stats stats;
    wb_confusion cm;
    wb_ap_result ap = {0};
    const char **names = malloc(((size_t)gt->n_categories + 1) * sizeof *names);
    wb_status st = wb_val_stats(gt, dl->d, dl->n, &stats, &cm);
    if (st == WB_OK && names) st = wb_ap_per_class(&stats, &ap);
    if (st == WB_OK && names) {
        for (int k = 0; k < gt->n_categories; k++) names[k] = gt->categories[k].name;
        fprintf(out, "YOLOv5's metrics (ap_per_class):\n");
        wb_ap_print_table(out, &ap, names);
        res->precision = ap.mp, res->recall = ap.mr, res->yolo_map50 = ap.map50, res->yolo_map = ap.map;
    } else {
        st = WB_ERR_NOMEM;
        snprintf(err, n, "out of memory computing YOLOv5's metrics");
    }
    if (st == WB_OK && rec) {
        rec->names = calloc((size_t)gt->n_categories + 1, sizeof *rec->names);
        for (int k = 0; rec->names && k < gt->n_categories; k++) rec->names[k] = strdup(names[k]);
        rec->num_classes = gt->n_categories;
        rec->ap = ap, rec->confusion = cm;
        memset(&ap, 0, sizeof ap), memset(&cm, 0, sizeof cm);
    }
    free(names);
    wb_ap_result_free(&ap);
    wb_confusion_free(&cm);
    wb_ap_stats_free(&stats);
    return st;
}

/* The val losses into res and after the tables, as YOLOv5's val/<term>. */
static void report_loss(const wb_val_loss *vl, FILE *out, wb_eval_result *res) {
    if (!wb_val_loss_ready(vl)) return;
    res->n_loss = vl->n_terms;
    fprintf(out, "Validation loss (the head's loss in eval mode, mean over %lld batches):", (long long)vl->batches);
    for (int k = 0; k < vl->n_terms; k++) {
        snprintf(res->loss_names[k], sizeof res->loss_names[k], "%s", vl->names[k]);
        res->loss[k] = wb_val_loss_mean(vl, k);
        fprintf(out, " %s: %.4f", vl->names[k], res->loss[k]);
    }
    fputc('\n', out);
}

void wb_val_record_free(wb_val_record *rec) {
    wb_ap_result_free(&rec->ap);
    wb_confusion_free(&rec->confusion);
    wb_plot_batch_free(&rec->batch_labels);
    wb_plot_batch_free(&rec->batch_pred);
    for (int k = 0; rec->names && k < rec->num_classes; k++) free(rec->names[k]);
    free(rec->names);
    memset(rec, 0, sizeof *rec);
}

wb_status wb_evaluate_split(wb_experiment *e, wb_session *s, wb_model *m, const char *split, const char *results_path,
                            FILE *out, wb_eval_result *res, char *err, size_t n) {
    return wb_evaluate_split_recorded(e, s, m, split, results_path, out, res, NULL, err, n);
}

wb_status wb_evaluate_split_recorded(wb_experiment *e, wb_session *s, wb_model *m, const char *split,
                                     const char *results_path, FILE *out, wb_eval_result *res, wb_val_record *rec,
                                     char *err, size_t n) {
    memset(res, 0, sizeof *res);
    if (rec) memset(rec, 0, sizeof *rec);
    wb_denorm dn;
    wb_denorm_of_split(e->cfg, split, &dn);
    wb_data_split d;
    wb_split_opts so = {.training = false, .on_bad_sample = WB_BAD_SAMPLE_SKIP, .rank = wb_dist_rank(),
                        .world = wb_dist_world()};
    wb_status st = wb_data_split_open(&d, e, s, split, &so, err, n);
    wb_coco_detection_list dl = {0};
    wb_coco_gt gt = {0};
    wb_val_loss vl = {0};
    wb_dist_counts per_image = {0};
    double started = seconds_now();
    bool sharded = wb_dist_world() > 1;
    if (st == WB_OK)
        st = predict_all(&d, s, m, &dl, &res->images, &vl, rec, &dn, sharded ? &per_image : NULL, err, n);
    /* Each rank predicted its shard: rank 0 gathers them in the order one process has, and evaluates. */
    if (sharded) st = wb_dist_eval_gather(st, &dl, &per_image, &res->images, &vl, err, n);
    if (sharded && !wb_dist_is_root()) {
        wb_data_split_close(&d);
        free(dl.d);
        return wb_dist_eval_result(st, res, err, n);
    }
    res->detections = (int64_t)dl.n;
    res->infer_seconds = seconds_now() - started;
    started = seconds_now();
    if (st == WB_OK) {
        /* A COCO dataset's own file is the exact ground truth (segment areas,
         * crowd) unless the dataset selects classes or drops images. */
        const char *type = wb_params_string(d.params, "type");
        bool whole_file = strcmp(type, "coco") == 0 && wb_params_has(d.params, "ann_file") &&
                          wb_params_list_len(d.params, "classes") == 0 && !wb_params_bool(d.params, "filter_empty") && wb_params_int(d.params, "min_size") == 0;
        if (whole_file)
            st = load_whole_file(d.params, &gt, err, n);
        else
            st = gt_from_dataset(&d, s, &gt, err, n);
    }
    if (st == WB_OK && results_path) st = save_results(results_path, &dl, &gt, err, n);
    const char *metric = wb_params_string(wb_config_params(e->cfg, "evaluation"), "metric");
    bool proposals = metric && strcmp(metric, "proposal") == 0;
    if (st == WB_OK && proposals) {
        st = proposal_metric(&gt, &dl, out, res, err, n);
    } else if (st == WB_OK && metric && strcmp(metric, "mAP") == 0) {
        st = voc_metric(&gt, &dl, out, res, err, n);
    } else if (st == WB_OK) {
        wb_coco_summary sum;
        st = wb_coco_evaluate(&gt, dl.d, dl.n, &sum, err, n);
        if (st == WB_OK) {
            wb_coco_print_summary(out, &sum);
            wb_coco_print_category_table(out, &sum, &gt);
            memcpy(res->coco, sum.stats, sizeof res->coco);
            snprintf(res->metric_name, sizeof res->metric_name, "bbox_mAP");
            res->metric = sum.stats[0];
            res->map50 = sum.stats[1];
            wb_coco_summary_free(&sum);
        }
    }
    if (st == WB_OK && !proposals) st = yolo_metrics(&gt, &dl, out, res, rec, err, n); /* per class: not proposals */
    if (st == WB_OK && gt.n_annotations > 0) report_loss(&vl, out, res);
    res->eval_seconds = seconds_now() - started;
    wb_coco_gt_free(&gt);
    free(dl.d);
    wb_data_split_close(&d);
    return sharded ? wb_dist_eval_result(st, res, err, n) : st;
}
