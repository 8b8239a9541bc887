#include "train_run.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "../anchors/autoanchor.h"
#include "../config/params.h"
#include "../data/loader.h"
#include "data_split.h"
#include "evaluate.h"
#include "freeze_phase.h"
#include "train_ranks.h"
#include "infer.h"
#include "memory_check.h"
#include "run_plots.h"
#include "run_record.h"
#include "train_recipe.h"
#include "trained_model.h"
#include "work_dir.h"
#include "../io/safetensors.h"
#include "../dist/dist.h"
#include "../dist/sync_bn.h"
#include "../model/model.h"
#include "../runtime/log.h"
#include "../train/trainer.h"

typedef struct loader_source {
    wb_loader *loader;
    wb_batch *current;
    int64_t close_mosaic_from; /* -1: never */
} loader_source;

static int64_t src_batches(void *user) { return wb_loader_batches_per_epoch(((loader_source *)user)->loader); }

static wb_status src_next(void *user, int64_t epoch, wb_batch_view *out, char *err, size_t n) {
    loader_source *ls = user;
    (void)epoch; /* the loader streams epochs in order from start_epoch */
    wb_status st = wb_loader_next(ls->loader, &ls->current);
    if (st != WB_OK || !ls->current) {
        snprintf(err, n, "data loader: %s", st != WB_OK ? wb_loader_error(ls->loader) : "ran out of batches");
        return st != WB_OK ? st : WB_ERR_INTERNAL;
    }
    wb_batch *b = ls->current;
    if (b->epoch == ls->close_mosaic_from && b->iter == 0)
        wb_logf(WB_LOG_INFO, "data", "close_mosaic: epoch %lld on trains without mosaic and mixup",
                (long long)b->epoch + 1);
    *out = (wb_batch_view){b->images, {b->n, 3, b->pad_h, b->pad_w}, &b->truth, b->data_time};
    return WB_OK;
}

static void src_release(void *user) {
    loader_source *ls = user;
    if (ls->current) wb_loader_release(ls->loader, ls->current);
    ls->current = NULL;
}

static wb_lr_policy policy_of(const char *s) {
    if (!strcmp(s, "step")) return WB_LR_STEP;
    if (!strcmp(s, "cosine")) return WB_LR_COSINE;
    if (!strcmp(s, "poly")) return WB_LR_POLY;
    if (!strcmp(s, "linear")) return WB_LR_LINEAR;
    if (!strcmp(s, "onecycle")) return WB_LR_ONECYCLE;
    return WB_LR_FIXED;
}

static wb_warmup warmup_of(const char *s) {
    if (!s) return WB_WARMUP_NONE;
    if (!strcmp(s, "linear")) return WB_WARMUP_LINEAR;
    if (!strcmp(s, "constant")) return WB_WARMUP_CONSTANT;
    if (!strcmp(s, "exp")) return WB_WARMUP_EXP;
    return WB_WARMUP_NONE;
}

/* optimizer.paramwise.custom: ( { pattern = "backbone"; lr_mult = 0.1; decay_mult = 1.0; }, ... ) */
static void param_rules_from(wb_config *cfg, wb_optim_config *oc) {
    config_setting_t *list = config_lookup(wb_config_tree(cfg), "optimizer.paramwise.custom");
    int n = list ? config_setting_length(list) : 0; /* validation keeps it within WB_MAX_PARAM_RULES */
    for (int i = 0; i < n && oc->n_rules < WB_MAX_PARAM_RULES; i++) {
        const wb_params *r = wb_params_of(config_setting_get_elem(list, (unsigned)i));
        wb_param_rule *rule = &oc->rules[oc->n_rules++];
        snprintf(rule->pattern, sizeof rule->pattern, "%s", wb_params_string(r, "pattern"));
        rule->lr_mult = (float)wb_params_float(r, "lr_mult");
        rule->decay_mult = (float)wb_params_float(r, "decay_mult");
    }
}

/* Linear scaling rule (mmdet's auto_scale_lr): lr * batch / base, the batch
 * being images per iteration over all ranks (accumulation does not count, as in mmdet). */
static float scaled_lr(wb_config *cfg, float lr) {
    const wb_params *a = wb_config_params(cfg, "auto_scale_lr");
    if (!wb_params_bool(a, "enable")) return lr;
    int64_t batch = wb_params_int(wb_config_params(cfg, "data"), "batch_size") * wb_dist_world();
    int64_t base = wb_params_int(a, "base_batch_size");
    float scaled = lr * (float)batch / (float)base;
    wb_logf(WB_LOG_INFO, "optimizer", "auto_scale_lr: lr %g -> %g (batch %lld, base_batch_size %lld)", lr, scaled,
            (long long)batch, (long long)base);
    return scaled;
}

/* interval -1 (the default): every epoch, or ten times over an
 * iteration-based run rather than after every iteration. */
static int unit_interval(const wb_params *p, bool by_epoch, int64_t max_iters) {
    int v = (int)wb_params_int(p, "interval");
    if (v >= 0) return v;
    if (by_epoch) return 1;
    return max_iters >= 10 ? (int)(max_iters / 10) : 1;
}

static void trainer_opts_from(wb_config *cfg, wb_trainer_opts *o) {
    const wb_params *opt = wb_config_params(cfg, "optimizer");
    const wb_params *pw = wb_config_params(cfg, "optimizer.paramwise");
    const wb_params *sch = wb_config_params(cfg, "schedule");
    const wb_params *ck = wb_config_params(cfg, "checkpoint");
    const wb_params *lg = wb_config_params(cfg, "log");
    const wb_params *ev = wb_config_params(cfg, "evaluation");
    const wb_params *ema = wb_config_params(cfg, "ema");
    o->optim = (wb_optim_config){
        .type = strcmp(wb_params_string(opt, "type"), "adamw") == 0 ? WB_OPTIM_ADAMW : WB_OPTIM_SGD,
        .lr = scaled_lr(cfg, (float)wb_params_float(opt, "lr")),
        .momentum = (float)wb_params_float(opt, "momentum"),
        .weight_decay = (float)wb_params_float(opt, "weight_decay"),
        .nesterov = wb_params_bool(opt, "nesterov"),
        .beta1 = wb_params_list_len(opt, "betas") > 0 ? (float)wb_params_float_at(opt, "betas", 0) : 0.9f,
        .beta2 = wb_params_list_len(opt, "betas") > 1 ? (float)wb_params_float_at(opt, "betas", 1) : 0.999f,
        .eps = (float)wb_params_float(opt, "eps"),
        .grad_clip = (float)wb_params_float(opt, "grad_clip"),
        .norm_decay_mult = (float)wb_params_float(pw, "norm_decay_mult"),
        .bias_decay_mult = (float)wb_params_float(pw, "bias_decay_mult"),
    };
    param_rules_from(cfg, &o->optim);
    o->accumulate = (int)wb_params_int(opt, "accumulate");
    bool by_epoch = wb_params_bool(sch, "by_epoch");
    o->max_epochs = by_epoch ? wb_params_int(sch, "max_epochs") : 0;
    o->max_iters = wb_params_int(sch, "max_iters");
    o->schedule = (wb_schedule){
        .base_lr = o->optim.lr,
        .policy = policy_of(wb_params_string(sch, "policy")),
        .by_epoch = by_epoch && wb_params_bool(sch, "lr_by_epoch"),
        .gamma = (float)wb_params_float(sch, "gamma"),
        .min_lr = (float)wb_params_float(sch, "min_lr"),
        .min_lr_ratio = (float)wb_params_float(sch, "min_lr_ratio"),
        .power = (float)wb_params_float(sch, "power"),
        .lrf = (float)wb_params_float(sch, "lrf"),
        .warmup = warmup_of(wb_params_string(sch, "warmup")),
        .warmup_iters = wb_params_int(sch, "warmup_iters"),
        .warmup_ratio = (float)wb_params_float(sch, "warmup_ratio"),
        .warmup_epochs = wb_params_float(sch, "warmup_epochs"),
        .warmup_momentum = (float)wb_params_float(sch, "warmup_momentum"),
        .warmup_bias_lr = (float)wb_params_float(sch, "warmup_bias_lr"),
    };
    int nm = wb_params_list_len(sch, "milestones");
    for (int i = 0; i < nm && i < WB_MAX_MILESTONES; i++)
        o->schedule.milestones[o->schedule.n_milestones++] = (int)wb_params_int_at(sch, "milestones", i);
    o->ckpt_interval = unit_interval(ck, by_epoch, o->max_iters);
    o->ckpt_keep = (int)wb_params_int(ck, "keep");
    o->save_best = wb_params_string(ck, "save_best")[0] ? wb_params_string(ck, "save_best") : NULL;
    o->log_interval = (int)wb_params_int(lg, "interval");
    o->val_interval = unit_interval(ev, by_epoch, o->max_iters);
    int nd = wb_params_list_len(ev, "dynamic_intervals"); /* pairs, as many as fit (validated) */
    for (int i = 0; i + 1 < nd && o->n_dynamic < WB_MAX_DYNAMIC_INTERVALS; i += 2, o->n_dynamic++) {
        o->dyn_start[o->n_dynamic] = wb_params_int_at(ev, "dynamic_intervals", i);
        o->dyn_interval[o->n_dynamic] = wb_params_int_at(ev, "dynamic_intervals", i + 1);
    }
    if (strcmp(wb_params_string(wb_config_params(cfg, ""), "amp"), "fp16") == 0) {
        double fixed = wb_params_float(wb_config_params(cfg, "train"), "loss_scale");
        o->loss_scale = fixed > 0 ? wb_loss_scale_fixed(fixed) : wb_loss_scale_dynamic();
    }
    o->ema = wb_params_bool(ema, "enable");
    o->ema_cfg = (wb_ema_config){
        .style = strcmp(wb_params_string(ema, "style"), "yolov5") == 0 ? WB_EMA_YOLOV5 : WB_EMA_MMDET,
        .momentum = (float)wb_params_float(ema, "momentum"),
        .gamma = (float)wb_params_float(ema, "gamma"),
        .update_buffers = wb_params_bool(ema, "update_buffers"),
    };
}

/* load_from: pretrained weights by name; what did not fit is reported, not fatal. */
static int load_pretrained(wb_session *s, const char *path, bool allow_nonfinite) {
    wb_load_report r;
    char err[2048];
    wb_load_opts lo = {.allow_nonfinite = allow_nonfinite};
    if (wb_checkpoint_load(path, s, &lo, &r, err, sizeof err) != WB_OK) {
        wb_logf(WB_LOG_ERROR, "load_from", "%s", err);
        return 1;
    }
    wb_logf(WB_LOG_INFO, "load_from", "%s: %d parameters loaded, %d missing, %d unexpected, %d shape mismatched",
            path, r.matched, r.missing, r.unexpected, r.shape_mismatched);
    if (r.widened)
        wb_logf(WB_LOG_INFO, "load_from", "%d of them stored as F16 / BF16 in the file, widened to float32", r.widened);
    if (r.missing) wb_logf(WB_LOG_WARN, "load_from", "missing in the file (left as initialised): %s", r.first_missing);
    if (r.unexpected) wb_logf(WB_LOG_WARN, "load_from", "unexpected in the file (ignored): %s", r.first_unexpected);
    if (r.shape_mismatched)
        wb_logf(WB_LOG_WARN, "load_from", "another shape in the file (left as initialised): %s", r.first_mismatch);
    return 0;
}

/* Validation during training: the model as it is now over data.val, with
 * the experiment's metric and YOLOv5's; the last one's curves and pictures
 * are kept for the run's plots. */
typedef struct validation {
    wb_experiment *e;
    wb_model *model;
    wb_val_record last;
} validation;

/* YOLOv5's four numbers, after the evaluator's own, under results.csv's
 * names; then its validation losses as val/<head's term> and their sum as
 * val/loss (results.csv's val/ columns, evolve.csv's val/box_loss ...). */
static void add_yolo_metrics(wb_metrics *m, const wb_eval_result *r) {
    static const char *const names[] = {"precision", "recall", "mAP_0.5", "mAP_0.5:0.95"};
    const double values[] = {r->precision, r->recall, r->yolo_map50, r->yolo_map};
    for (int i = 0; i < 4 && m->n < WB_MAX_METRICS; i++) {
        snprintf(m->names[m->n], sizeof m->names[0], "%s", names[i]);
        m->values[m->n++] = values[i];
    }
    double total = 0;
    for (int k = 0; k < r->n_loss && m->n < WB_MAX_METRICS; k++) {
        snprintf(m->names[m->n], sizeof m->names[0], "val/%.43s", r->loss_names[k]);
        m->values[m->n++] = r->loss[k];
        total += wb_term_is_loss(r->loss_names[k]) ? r->loss[k] : 0.0;
    }
    if (r->n_loss > 0 && m->n < WB_MAX_METRICS) {
        snprintf(m->names[m->n], sizeof m->names[0], "val/loss");
        m->values[m->n++] = total;
    }
}

static wb_status validate(void *user, int64_t epoch, wb_metrics *metrics, char *err, size_t n) {
    validation *v = user;
    wb_eval_result r;
    wb_logf(WB_LOG_INFO, "val", "evaluating data.val");
    wb_val_record rec;
    FILE *tables = wb_log_open_stream(); /* the console and run.log */
    wb_status st = wb_evaluate_split_recorded(v->e, v->model->s, v->model, "val", NULL, tables ? tables : stderr, &r,
                                              &rec, err, n);
    if (tables) fclose(tables);
    wb_val_record_free(&v->last);
    v->last = rec;
    if (st != WB_OK) return st;
    wb_run_record_val_pictures(&rec, (const char *const *)rec.names, rec.num_classes, epoch);
    metrics->n = 0;
    if (strcmp(r.metric_name, "AR@1000") == 0) { /* a proposal network: its recall alone */
        static const char *const ar_names[] = {"AR@100", "AR@300", "AR@1000"};
        for (int i = 0; i < 3; i++) {
            snprintf(metrics->names[metrics->n], sizeof metrics->names[0], "%s", ar_names[i]);
            metrics->values[metrics->n++] = r.ar[i];
        }
        return WB_OK;
    }
    if (strcmp(r.metric_name, "mAP") == 0) {
        snprintf(metrics->names[metrics->n], sizeof metrics->names[0], "mAP");
        metrics->values[metrics->n++] = r.metric;
        add_yolo_metrics(metrics, &r);
        return WB_OK;
    }
    static const char *const names[] = {"bbox_mAP", "bbox_mAP_50", "bbox_mAP_75", "bbox_mAP_s", "bbox_mAP_m",
                                        "bbox_mAP_l"};
    for (int i = 0; i < 6 && metrics->n < WB_MAX_METRICS; i++) {
        snprintf(metrics->names[metrics->n], sizeof metrics->names[0], "%s", names[i]);
        metrics->values[metrics->n++] = r.coco[i];
    }
    add_yolo_metrics(metrics, &r);
    return WB_OK;
}

/* The training batches as the trainer takes them; in a run that starts
 * from scratch the first three are also drawn (train_batch0..2.jpg), and
 * the training labels before the first (labels.jpg): inside wb_train, whose
 * stop-signal handlers are in place by then. */
typedef struct drawing_source {
    wb_batch_source inner;
    int drawn;
    wb_denorm dn;
    const wb_checkpoint_labels *labels;
    const char *work_dir;
    const wb_data_split *train;
    wb_session *s;
} drawing_source;

static int64_t drawing_batches(void *user) {
    drawing_source *d = user;
    return d->inner.batches_per_epoch(d->inner.user);
}

static wb_status drawing_next(void *user, int64_t epoch, wb_batch_view *out, char *err, size_t n) {
    drawing_source *d = user;
    const char *const *names = (const char *const *)d->labels->class_names;
    if (d->drawn == 0) wb_run_plot_labels(d->train, d->s, names, d->labels->num_classes, d->work_dir);
    wb_status st = d->inner.next(d->inner.user, epoch, out, err, n);
    if (st == WB_OK && d->drawn < 3)
        wb_run_plot_train_batch(out->images, out->shape, out->truth, d->drawn++, &d->dn, names,
                                d->labels->num_classes, d->work_dir);
    return st;
}

static void drawing_release(void *user) {
    drawing_source *d = user;
    d->inner.release(d->inner.user);
}

/* Pictures of the trained model's detections on the first validation images. */
static void write_pictures(wb_experiment *e, wb_model *m, const char *work_dir) {
    if (!wb_data_split_exists(e, "val")) return;
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/pictures", work_dir);
    wb_infer_opts io = {.out_dir = dir, .score_thr = 0.3f};
    if (wb_infer_samples(e, m->s, m, "val", 8, &io, stderr) == 0)
        wb_logf(WB_LOG_INFO, NULL, "pictures of detections on data.val: %s/", dir);
}

static void write_bad_samples(wb_loader *l, const char *work_dir) {
    int n = wb_loader_bad_sample_count(l);
    if (n == 0) return;
    char path[4096];
    snprintf(path, sizeof path, "%s/bad_samples.txt", work_dir);
    FILE *f = fopen(path, "w");
    for (int i = 0; f && i < n; i++) {
        wb_bad_sample b;
        if (wb_loader_bad_sample_at(l, i, &b)) fprintf(f, "%lld\t%s\n", (long long)b.index, b.message);
    }
    if (f) fclose(f);
    wb_logf(WB_LOG_WARN, "data", "%d bad samples were skipped; listed in %s", n, path);
}

/* data.close_mosaic = N: the last N epochs of an epoch-based run. */
static int close_mosaic_epoch(wb_config *cfg, wb_split_opts *so) {
    int64_t n = wb_params_int(wb_config_params(cfg, "data"), "close_mosaic");
    const wb_params *sch = wb_config_params(cfg, "schedule");
    if (n == 0) return 0;
    if (!wb_params_bool(sch, "by_epoch")) {
        wb_logf(WB_LOG_ERROR, "data", "data.close_mosaic = %lld counts epochs, and this run counts iterations "
                "(schedule.by_epoch = false): set schedule.by_epoch = true or data.close_mosaic = 0", (long long)n);
        return -1;
    }
    int64_t max_epochs = wb_params_int(sch, "max_epochs");
    so->close_mosaic = true;
    so->close_mosaic_from = max_epochs > n ? max_epochs - n : 0;
    return 0;
}

/* What the data section asks of the experiment (rect's letterbox, single_cls's head): configuration
 * errors, found before any loading. */
static int data_config_errors(wb_experiment *e) {
    static const char *const splits[] = {"train", "val"};
    char err[512];
    for (int i = 0; i < 2; i++)
        if (wb_data_split_check(e, splits[i], err, sizeof err) != 0) {
            wb_logf(WB_LOG_ERROR, "data", "%s", err);
            return -1;
        }
    return 0;
}

/* Trains in a work dir this run holds; path is the effective config's. */
static int train_in_work_dir(wb_experiment *e, const wb_run_args *a, const char *work_dir, const char *path) {
    const wb_params *root = wb_config_params(e->cfg, "");
    char err[2048];
    wb_session *s = wb_experiment_session(e, a->threads, stderr);
    if (!s) return e->session_exit;
    wb_model *model = NULL;
    int rc = 1;
    if (wb_model_build(s, wb_config_params(e->cfg, "model"), &model, err, sizeof err) != WB_OK) {
        wb_logf(WB_LOG_ERROR, "model", "%s", err);
        wb_session_destroy(s);
        return 1;
    }
    if (wb_model_configure_recompute(model, wb_config_params(e->cfg, "train.recompute"), err, sizeof err) != WB_OK) {
        wb_logf(WB_LOG_ERROR, "train", "%s", err);
        wb_model_destroy(model);
        wb_session_destroy(s);
        return 2;
    }
    if (wb_memory_check(e, s, model, err, sizeof err) != WB_OK) { /* refused now, not by the OOM killer */
        wb_logf(WB_LOG_ERROR, NULL, "%s", err);
        wb_model_destroy(model);
        wb_session_destroy(s);
        return 2;
    }
    wb_trainer_opts o = {.work_dir = work_dir};
    trainer_opts_from(e->cfg, &o);
    wb_sync_bn_enable(wb_params_bool(wb_config_params(e->cfg, "train"), "sync_bn"));
    o.bucket_mb = wb_params_float(wb_config_params(e->cfg, "train"), "bucket_mb");
    o.total_batch = wb_params_int(wb_config_params(e->cfg, "data"), "batch_size") * wb_dist_world();
    if (wb_sync_bn_enabled())
        wb_logf(WB_LOG_INFO, "train", "sync_bn: batch norm statistics over %d ranks", wb_dist_world());
    const char *freeze_modules[WB_FREEZE_MAX_MODULES];
    if ((rc = wb_nominal_batch_opts(e->cfg, &o)) != 0 || (rc = wb_freeze_from_config(e->cfg, s)) != 0 ||
        (rc = wb_freeze_schedule_from_config(e->cfg, wb_dist_world(), freeze_modules, &o.freeze)) != 0) {
        wb_model_destroy(model);
        wb_session_destroy(s);
        return rc;
    }
    rc = 1;
    char resume[4096];
    const char *resume_cfg = wb_params_string(root, "resume_from");
    if (a->resume) {
        if (strcmp(a->resume, "auto") == 0) snprintf(resume, sizeof resume, "%s/latest.safetensors", work_dir);
        else snprintf(resume, sizeof resume, "%s", a->resume);
        o.resume_from = resume;
    } else if (resume_cfg[0]) {
        o.resume_from = resume_cfg;
    }
    o.allow_nonfinite = strcmp(wb_params_string(root, "load_nonfinite"), "allow") == 0;
    const char *load_from = wb_params_string(root, "load_from");
    if (!o.resume_from && load_from[0] && load_pretrained(s, load_from, o.allow_nonfinite) != 0) {
        wb_model_destroy(model);
        wb_session_destroy(s);
        return 1;
    }
    /* The loader must start at the resumed epoch: peek at the trainer state. */
    wb_train_state resumed = {0};
    if (o.resume_from && wb_checkpoint_read_state(o.resume_from, &resumed, err, sizeof err) != WB_OK) {
        wb_logf(WB_LOG_ERROR, "train", "%s", err);
        wb_model_destroy(model);
        wb_session_destroy(s);
        return 1;
    }
    int64_t start_epoch = resumed.epoch > o.freeze.epochs ? resumed.epoch : o.freeze.epochs;
    const wb_params *data = wb_config_params(e->cfg, "data");
    wb_split_opts so = {.training = true, .start_epoch = start_epoch, .rank = wb_dist_rank(), .world = wb_dist_world(),
                        .on_bad_sample = strcmp(wb_params_string(data, "on_bad_sample"), "fail") == 0
                                             ? WB_BAD_SAMPLE_FAIL : WB_BAD_SAMPLE_SKIP};
    if (close_mosaic_epoch(e->cfg, &so) != 0 || data_config_errors(e) != 0) {
        wb_model_destroy(model);
        wb_session_destroy(s);
        return 2;
    }
    wb_data_split train, frozen = {0};
    wb_split_opts frozen_so = so;
    frozen_so.start_epoch = resumed.epoch;
    frozen_so.batch_size = o.freeze.batch_size[0];
    validation val = {.e = e, .model = model};
    if (wb_data_split_exists(e, "val")) {
        o.validate = validate;
        o.validate_user = &val;
    }
    wb_checkpoint_labels labels = {0};
    if (wb_data_split_open(&train, e, s, "train", &so, err, sizeof err) != WB_OK ||
        (o.freeze.epochs > 0 && wb_data_split_open(&frozen, e, s, "train", &frozen_so, err, sizeof err) != WB_OK) ||
        wb_labels_of_training(e, train.vt, train.ds, &labels, err, sizeof err) != WB_OK) {
        wb_logf(WB_LOG_ERROR, "data", "%s", err);
    } else {
        o.labels = &labels; /* every checkpoint names its classes: infer needs no dataset */
        loader_source ls = {train.loader, NULL, so.close_mosaic ? so.close_mosaic_from : -1};
        wb_batch_source src = {&ls, src_batches, src_next, src_release};
        loader_source frozen_ls = {frozen.loader, NULL, so.close_mosaic ? so.close_mosaic_from : -1};
        wb_batch_source frozen_src = {&frozen_ls, src_batches, src_next, src_release};
        wb_batch_source *first = o.freeze.epochs > 0 ? &frozen_src : &src;
        drawing_source drawing = {.inner = *first, .labels = &labels, .work_dir = work_dir, .train = &train, .s = s};
        wb_denorm_of_split(e->cfg, "train", &drawing.dn);
        wb_batch_source drawn = {&drawing, drawing_batches, drawing_next, drawing_release};
        const char *const *names = (const char *const *)labels.class_names;
        int64_t batch = wb_params_int(data, "batch_size");
        wb_logf(WB_LOG_INFO, NULL, "training: %lld images, %lld iterations per epoch, total batch %lld (%lld x %d "
                "rank%s), work_dir %s", (long long)train.vt->length(train.ds),
                (long long)wb_loader_batches_per_epoch(train.loader), (long long)batch * wb_dist_world(),
                (long long)batch, wb_dist_world(), wb_dist_world() > 1 ? "s" : "", work_dir);
        wb_train_result res;
        /* The first phase's batches are drawn; train.freeze's phase is the first. */
        bool draws = !o.resume_from && wb_dist_is_root();
        o.freeze.data = o.freeze.epochs > 0 ? (draws ? &drawn : &frozen_src) : NULL;
        wb_batch_source *unfrozen = o.freeze.epochs > 0 || !draws ? &src : &drawn;
        if (wb_train(model, unfrozen, &o, &res, err, sizeof err) != WB_OK) {
            wb_logf(WB_LOG_ERROR, "train", "%s", err);
        } else {
            /* Ctrl-C is the user's own stop; SIGTERM and SIGHUP tell the scheduler the run did not finish. */
            rc = res.interrupted && res.interrupted != SIGINT ? 128 + res.interrupted : 0;
            if (res.log_lines)
                wb_logf(WB_LOG_INFO, NULL, "%s after %lld iterations: loss %.4f -> %.4f",
                        res.interrupted ? "stopped" : "done", (long long)res.iterations, res.first_loss, res.last_loss);
            else
                wb_logf(WB_LOG_INFO, NULL, "%s after %lld iterations, with no log line in this run: no loss to report",
                        res.interrupted ? "stopped" : "done", (long long)res.iterations);
            if (!res.interrupted && wb_dist_is_root()) write_pictures(e, model, work_dir);
            if (wb_dist_is_root()) wb_run_plot_results(work_dir);
            if (val.last.confusion.counts && wb_dist_is_root())
                wb_run_plot_validation(&val.last, names, labels.num_classes, work_dir);
            wb_logf(WB_LOG_INFO, NULL, "results.csv, results.png and the plots of the labels, batches and last "
                    "validation: %s/", work_dir);
            wb_logf(WB_LOG_INFO, NULL, "checkpoint: %s", res.last_checkpoint);
            wb_logf(WB_LOG_INFO, NULL, "log: %s/log.json, effective config: %s", work_dir, path);
        }
        if (wb_dist_is_root()) write_bad_samples(train.loader, work_dir);
    }
    wb_val_record_free(&val.last);
    wb_checkpoint_labels_free(&labels);
    wb_data_split_close(&frozen);
    wb_data_split_close(&train);
    wb_model_destroy(model);
    wb_session_destroy(s);
    return rc;
}

/* A rank other than 0 trains in rank 0's work dir and writes nothing there. */
static int train_as_other_rank(wb_experiment *e, const wb_run_args *a) {
    char work_dir[PATH_MAX] = "", path[PATH_MAX] = "";
    if (wb_autoanchor(e) != 0) return 1; /* as rank 0 (the same experiment, data and seed) */
    int rc = wb_ranks_share_work_dir(0, work_dir, sizeof work_dir, path, sizeof path);
    return rc == 0 ? train_in_work_dir(e, a, work_dir, path) : rc;
}

int wb_train_run(wb_experiment *e, const wb_run_args *a) {
    if (wb_ranks_begin() != 0) return 1;
    if (wb_ranks_check_data(e->cfg) != 0) return wb_ranks_end(2);
    if (!wb_dist_is_root()) return wb_ranks_end(train_as_other_rank(e, a));
    const char *work_dir = a->work_dir ? a->work_dir : wb_params_string(wb_config_params(e->cfg, ""), "work_dir");
    char path[PATH_MAX], err[PATH_MAX + 512], named[WB_WORK_DIR_MAX] = "";
    int resumed = a->resume || wb_params_string(wb_config_params(e->cfg, ""), "resume_from")[0];
    wb_work_dir wd = {NULL, -1};
    int rc = wb_work_dir_name(work_dir, resumed, named, sizeof named, err, sizeof err);
    if (rc == 0) rc = wb_work_dir_open(&wd, work_dir = named, e->cfg, err, sizeof err);
    if (rc == 0) rc = wb_run_record_begin(work_dir, e->cfg, resumed, a->threads, err, sizeof err);
    /* Before the effective config is written and the model built: both take the anchors it chooses. A resumed
     * run repeats it: the result depends only on the experiment, the data and the seed. */
    if (rc == 0 && wb_autoanchor(e) != 0) {
        wb_work_dir_close(&wd);
        return 1;
    }
    if (rc == 0) rc = wb_work_dir_write_config(&wd, e->cfg, path, sizeof path, err, sizeof err);
    if (rc == 0) wb_run_record_config(path);
    if (rc != 0) wb_logf(WB_LOG_ERROR, NULL, "%s", err);
    if (wb_ranks_share_work_dir(rc, named, sizeof named, path, sizeof path) == 0)
        rc = train_in_work_dir(e, a, work_dir, path);
    wb_run_record_end();
    wb_work_dir_close(&wd);
    return wb_ranks_end(rc);
}
