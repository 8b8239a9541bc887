/* The training loop: batches in, forward, loss, backward, gradient
 * accumulation, optimizer step, schedule, EMA, validation through a callback,
 * logging, checkpoints (periodic, last K, best by a metric), stop signals
 * (SIGINT, SIGTERM, SIGHUP: save interrupted.safetensors and return).
 * Everything it needs comes in resolved form, so the loop knows nothing of
 * configs, plugins or evaluators. */
#ifndef WB_CORE_TRAINER_H
#define WB_CORE_TRAINER_H

#include "../model/model.h"
#include "checkpoint.h"
#include "schedule.h"

/* One collated batch as the trainer sees it. */
typedef struct wb_batch_view {
    const float *images;     /* N x 3 x H x W, normalized */
    int64_t shape[4];
    const wb_batch_truth *truth;
    double data_time;        /* seconds the trainer waited for it */
} wb_batch_view;

typedef struct wb_batch_source {
    void *user;
    int64_t (*batches_per_epoch)(void *user);
    /* The next batch of `epoch` (0-based); valid until release. */
    wb_status (*next)(void *user, int64_t epoch, wb_batch_view *out, char *err, size_t err_size);
    void (*release)(void *user);
} wb_batch_source;

/* Validation results: named numbers (mmdet's names: bbox_mAP, bbox_mAP_50,
 * ..., or mAP for VOC). */
#define WB_MAX_METRICS 32
typedef struct wb_metrics {
    int n;
    char names[WB_MAX_METRICS][48];
    double values[WB_MAX_METRICS];
} wb_metrics;

/* Evaluates the model as it is now (the EMA weights when EMA is on) after
 * `epoch` epochs (iterations for iteration-based runs); prints its tables and
 * fills metrics. A failure stops the run. */
typedef wb_status (*wb_validate_fn)(void *user, int64_t epoch, wb_metrics *metrics, char *err, size_t err_size);

#define WB_MAX_DYNAMIC_INTERVALS 16

/* train.freeze (the Keras seed's Freeze_Epoch / UnFreeze_Epoch): the first
 * `epochs` epochs train with the parameters under `modules` frozen, on
 * `data` (its own batch size) at base lr `lr`; the rest of the run trains
 * everything on the trainer's data at the schedule's base_lr. Frozen
 * parameters keep their optimizer slots (state zero until they train). */
typedef struct wb_freeze_schedule {
    int64_t epochs;               /* 0: no frozen phase */
    const char *const *modules;
    int n_modules;
    float lr;
    int batch_size[2];            /* images per iteration of each phase, for the log */
    wb_batch_source *data;
} wb_freeze_schedule;

typedef struct wb_trainer_opts {
    const char *work_dir;
    int64_t max_epochs;        /* by-epoch runs */
    int64_t max_iters;         /* iteration-based runs when max_epochs == 0 */
    int log_interval;
    int ckpt_interval;         /* epochs (or iterations for iteration-based runs); 0 = only at the end */
    int ckpt_keep;             /* keep the last K periodic checkpoints; 0 = all */
    int accumulate;            /* optimizer step every K iterations (gradients averaged); 0 or 1: every one */
    int nbs, batch_size;       /* nbs > 0: YOLOv5's nominal batch instead (accumulation.h) */
    int ema;                   /* keep an EMA of the weights (ema.h), saved and used for validation */
    wb_ema_config ema_cfg;
    wb_validate_fn validate;   /* NULL: no validation */
    void *validate_user;
    int val_interval;          /* epochs (iterations for iteration-based runs); 0: never */
    /* From epoch (iteration) start[i] on, validate every interval[i] (mmdet's dynamic_intervals). */
    int64_t dyn_start[WB_MAX_DYNAMIC_INTERVALS], dyn_interval[WB_MAX_DYNAMIC_INTERVALS];
    int n_dynamic;
    const char *save_best;     /* metric whose best value keeps best_<metric>_epoch_N; NULL: off */
    wb_optim_config optim;
    wb_schedule schedule;      /* base_lr, policy, warmup; max_iters/iters_per_epoch filled by the trainer */
    const char *resume_from;   /* checkpoint to continue exactly, or NULL */
    bool allow_nonfinite;      /* resume from a checkpoint holding NaN / Inf values */
    const wb_checkpoint_labels *labels; /* class names and test settings every checkpoint stores; NULL: none */
    wb_freeze_schedule freeze;    /* by-epoch runs only */
    int64_t total_batch;          /* images per iteration over every rank (data.batch_size x ranks); 0: unknown */
    wb_loss_scale_cfg loss_scale; /* amp = "fp16" (loss_scaler.h); zeroed: off */
    double bucket_mb;             /* mpirun: gradient buckets' size (grad_sync.h); 0: one sum after backward */
} wb_trainer_opts;

typedef struct wb_train_result {
    int64_t iterations;
    int64_t log_lines;             /* loss averages logged; 0: first_loss and last_loss mean nothing */
    double first_loss, last_loss;  /* averages over the first and last log interval */
    char last_checkpoint[4096];
    char best_checkpoint[4096];    /* empty when save_best is off or nothing validated */
    double best_score;
    int interrupted;               /* the signal that stopped the run (SIGINT, SIGTERM, SIGHUP), or 0 */
} wb_train_result;

wb_status wb_train(wb_model *m, wb_batch_source *data, const wb_trainer_opts *o, wb_train_result *res,
                   char *err, size_t err_size);

#endif
