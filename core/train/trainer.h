/* The training loop: batches in, forward, loss, backward, optimizer step,
 * schedule, logging, checkpoints, Ctrl-C handling. Everything it needs comes
 * in resolved form, so the loop knows nothing of configs or plugins. */
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

typedef struct wb_trainer_opts {
    const char *work_dir;
    int64_t max_epochs;        /* by-epoch runs */
    int64_t max_iters;         /* iteration-based runs when max_epochs == 0 */
    int log_interval;
    int ckpt_interval;         /* epochs (or iterations for iteration-based runs); 0 = only at the end */
    int ckpt_keep;             /* keep the last K periodic checkpoints; 0 = all */
    wb_optim_config optim;
    wb_schedule schedule;      /* base_lr, policy, warmup; max_iters/iters_per_epoch filled by the trainer */
    const char *resume_from;   /* checkpoint to continue exactly, or NULL */
} wb_trainer_opts;

typedef struct wb_train_result {
    int64_t iterations;
    double first_loss, last_loss;  /* averages over the first and last log interval */
    char last_checkpoint[4096];
    int interrupted;
} wb_train_result;

wb_status wb_train(wb_model *m, wb_batch_source *data, const wb_trainer_opts *o, wb_train_result *res,
                   char *err, size_t err_size);

#endif
