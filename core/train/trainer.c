#include "trainer.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "../backends/kernels_optim.h"
#include "../runtime/log.h"
#include "accumulation.h"
#include "run_files.h"
#include "trainlog.h"

/* SIGINT (Ctrl-C), SIGTERM (docker stop, Kubernetes, Slurm) and SIGHUP (the
 * terminal went away) all ask the run to stop: the loop saves
 * interrupted.safetensors after the iteration in progress. */
static const int g_stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
static const char *const g_stop_names[] = {"SIGINT", "SIGTERM", "SIGHUP"};
enum { N_STOP_SIGNALS = sizeof g_stop_signals / sizeof g_stop_signals[0] };
static volatile sig_atomic_t g_stop_signal;
static void on_stop_signal(int sig) {
    if (!g_stop_signal) g_stop_signal = sig;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double peak_rss_mb(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0;
}

/* The validation interval in force after `units` epochs (iterations). */
static int64_t val_interval_at(const wb_trainer_opts *o, int64_t units) {
    int64_t interval = o->val_interval, from = -1;
    for (int i = 0; i < o->n_dynamic; i++)
        if (units >= o->dyn_start[i] && o->dyn_start[i] > from) {
            from = o->dyn_start[i];
            interval = o->dyn_interval[i];
        }
    return interval;
}

static wb_status validate(wb_run_ctx *r, wb_trainlog *log, int64_t units, char *err, size_t n) {
    wb_metrics metrics = {0};
    if (r->ema) wb_ema_swap(r->ema);
    wb_status rc = r->o->validate(r->o->validate_user, units, &metrics, err, n);
    if (r->ema) wb_ema_swap(r->ema);
    if (rc != WB_OK) return rc;
    wb_trainlog_val(log, wb_run_unit(r->o), units, metrics.n, metrics.names, metrics.values);
    return r->o->save_best ? wb_run_keep_best(r, &metrics, units, err, n) : WB_OK;
}

/* Whether an epoch end, the run's end or a checkpoint follows iteration
 * `done` (1-based): a group of accumulated iterations ends there. */
static bool group_boundary(const wb_trainer_opts *o, int64_t done, int64_t per_epoch, int64_t max_iters) {
    if (done == max_iters || done % per_epoch == 0) return true;
    return o->max_epochs == 0 && o->ckpt_interval > 0 && done % o->ckpt_interval == 0;
}

/* The trainer state of a checkpoint against this experiment: an iteration
 * count past the end or an epoch count another epoch length gives would
 * re-train or overwrite checkpoints. */
static wb_status check_resumed_state(const wb_train_state *st, const char *path, int64_t per_epoch, int64_t max_iters,
                                     char *err, size_t n) {
    if (st->iteration > max_iters) {
        snprintf(err, n, "%s: cannot resume: the checkpoint is at iteration %lld but this experiment trains %lld "
                 "iterations; raise schedule.max_epochs (or max_iters) or resume from an earlier checkpoint", path,
                 (long long)st->iteration, (long long)max_iters);
        return WB_ERR_INVALID;
    }
    if (st->epoch != st->iteration / per_epoch) {
        snprintf(err, n, "%s: cannot resume: the checkpoint says epoch %lld at iteration %lld, but with %lld "
                 "iterations per epoch iteration %lld is in epoch %lld; was it written with another dataset or "
                 "data.batch_size? resume with the same data, or start with load_from", path, (long long)st->epoch,
                 (long long)st->iteration, (long long)per_epoch, (long long)st->iteration,
                 (long long)(st->iteration / per_epoch));
        return WB_ERR_INVALID;
    }
    return WB_OK;
}

/* Continues a run from a checkpoint: weights, optimizer, EMA, trainer state. */
static wb_status resume(wb_run_ctx *r, int64_t per_epoch, int64_t max_iters, char *err, size_t n) {
    wb_load_report rep;
    wb_load_opts lo = {r->opt, r->ema, r->st, r->o->allow_nonfinite};
    wb_status rc = wb_checkpoint_load(r->o->resume_from, r->m->s, &lo, &rep, err, n);
    return rc == WB_OK ? check_resumed_state(r->st, r->o->resume_from, per_epoch, max_iters, err, n) : rc;
}

/* After a step found a NaN or Inf gradient (the step changed nothing): names
 * the first parameter, in module order, whose gradient is not finite. */
static wb_status nonfinite_gradient(wb_session *s, double gnorm, int64_t iteration, char *err, size_t n) {
    const char *name = "(none found: the sum of squares overflowed)";
    for (int i = 0; i < s->n_params; i++) {
        const wb_tensor *p = s->params[i].tensor;
        if (p->trainable && p->grad_valid && !isfinite(s->backend->optim->sum_squares(p->grad, p->numel))) {
            name = s->params[i].name;
            break;
        }
    }
    snprintf(err, n, "the gradient norm is %s at iteration %lld: the first parameter with a NaN or Inf gradient is %s "
             "(the weights were not updated; lower optimizer.lr, set optimizer.grad_clip, or check the model's "
             "inputs and plugins)", isnan(gnorm) ? "NaN" : "Inf", (long long)iteration, name);
    return WB_ERR_NUMERIC;
}

typedef struct interval {
    int n;
    double time, data_time, terms[WB_MAX_LOSS_TERMS], total;
} interval;

static void record(interval *iv, double t, double dt, const wb_loss_term *terms, int n_terms, double total) {
    iv->n++;
    iv->time += t;
    iv->data_time += dt;
    for (int i = 0; i < n_terms; i++) iv->terms[i] += terms[i].value->data[0];
    iv->total += total;
}

wb_status wb_train(wb_model *m, wb_batch_source *data, const wb_trainer_opts *o, wb_train_result *res,
                   char *err, size_t n) {
    memset(res, 0, sizeof *res);
    wb_session *s = m->s;
    int64_t per_epoch = data->batches_per_epoch(data->user);
    if (per_epoch <= 0) {
        snprintf(err, n, "the training data gives no batch (empty dataset, or batch_size larger than the "
                 "dataset with drop_last)");
        return WB_ERR_INVALID;
    }
    int64_t max_iters = o->max_epochs > 0 ? o->max_epochs * per_epoch : o->max_iters;
    wb_schedule sched = o->schedule;
    sched.max_iters = max_iters;
    sched.iters_per_epoch = per_epoch;
    wb_train_state st = {0};
    wb_optimizer *opt = wb_optimizer_create(s, &o->optim);
    wb_ema *ema = o->ema ? wb_ema_create(s, &o->ema_cfg) : NULL;
    wb_run_ctx run = {m, opt, ema, o, &st, res};
    wb_status rc = WB_OK;
    if (!opt || (o->ema && !ema)) {
        snprintf(err, n, "out of memory creating the optimizer%s", o->ema ? " and the EMA weights" : "");
        rc = WB_ERR_NOMEM;
        goto done;
    }
    if (o->resume_from) {
        rc = resume(&run, per_epoch, max_iters, err, n);
        if (rc != WB_OK) goto done;
        snprintf(res->last_checkpoint, sizeof res->last_checkpoint, "%s", o->resume_from);
        wb_logf(WB_LOG_INFO, "train", "resumed from %s at iteration %lld (epoch %lld)", o->resume_from,
                (long long)st.iteration, (long long)st.epoch);
        /* Stopped mid-epoch: the loader restarts that epoch, so pass over the
         * batches already trained on (the order depends only on the seed). */
        for (int64_t i = st.iteration % per_epoch; i > 0 && rc == WB_OK; i--) {
            wb_batch_view skipped;
            rc = data->next(data->user, st.iteration / per_epoch, &skipped, err, n);
            if (rc == WB_OK) data->release(data->user);
        }
        if (rc != WB_OK) goto done;
    }
    /* Before log.json exists, so that a script seeing it knows a stop signal is handled. */
    g_stop_signal = 0;
    struct sigaction sa = {0}, old_sa[N_STOP_SIGNALS];
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESTART; /* a loader thread's read must not fail with EINTR and skip a sample */
    for (int i = 0; i < N_STOP_SIGNALS; i++) sigaction(g_stop_signals[i], &sa, &old_sa[i]);
    wb_trainlog log;
    if (!wb_trainlog_open(&log, o->work_dir, o->resume_from, st.iteration))
        wb_logf(WB_LOG_WARN, "train", "cannot write %s/log.json: %s", o->work_dir, strerror(errno));
    log.by_epoch = o->max_epochs > 0;

    interval iv = {0};
    double run_start = now_s(), gnorm = 0.0;
    int64_t start_iter = st.iteration;
    wb_accumulation acc = {o->accumulate, o->nbs, o->batch_size, wb_schedule_warmup_iters(&sched), 0, -1};
    wb_accumulation_begin(&acc, st.iteration);
    while (st.iteration < max_iters && rc == WB_OK) {
        int64_t epoch = st.iteration / per_epoch;
        double t0 = now_s();
        if (wb_accumulation_drops(&acc, st.iteration, per_epoch)) wb_session_zero_grad(s);
        wb_batch_view b;
        rc = data->next(data->user, epoch, &b, err, n);
        if (rc != WB_OK) break;
        wb_context *c = &m->stage[0].ctx;
        wb_tensor *images = wb_ctx_tensor_uninit(c, 4, b.shape);
        if (!images) {
            snprintf(err, n, "%s", c->msg);
            rc = c->err;
            data->release(data->user);
            break;
        }
        s->backend->upload(images->data, b.images, (size_t)images->numel * sizeof(float));
        wb_loss_term terms[WB_MAX_LOSS_TERMS];
        int n_terms = 0;
        m->iteration = st.iteration + 1;
        rc = wb_model_forward(m, images, true, err, n);
        if (rc == WB_OK) rc = wb_model_loss(m, b.truth, terms, &n_terms, err, n);
        if (rc == WB_OK) rc = wb_model_backward(m, terms, n_terms, err, n);
        data->release(data->user);
        if (rc != WB_OK) break;
        wb_step_params sp = wb_schedule_step(&sched, st.iteration, o->optim.momentum);
        float lr = sp.lr;
        bool boundary = group_boundary(o, st.iteration + 1, per_epoch, max_iters);
        if (wb_accumulation_step_now(&acc, st.iteration, boundary, &sp.grad_scale)) {
            gnorm = wb_optimizer_step_with(opt, &sp);
            if (!isfinite(gnorm)) {
                rc = nonfinite_gradient(s, gnorm, st.iteration + 1, err, n);
                break;
            }
            if (ema) wb_ema_update(ema);
            wb_session_zero_grad(s);
        }
        double total = 0.0;
        for (int i = 0; i < n_terms; i++) total += terms[i].value->data[0];
        record(&iv, now_s() - t0, b.data_time, terms, n_terms, total);
        st.iteration++;

        int64_t in_epoch = (st.iteration - 1) % per_epoch + 1;
        double elapsed = now_s() - run_start;
        wb_iter_stats stats = {epoch + 1, in_epoch, per_epoch, st.iteration, max_iters, lr, 0, 0,
                               elapsed / (double)(st.iteration - start_iter) * (double)(max_iters - st.iteration),
                               peak_rss_mb(), gnorm, n_terms, {{0}}, {0}, 0, sp.bias_lr, sp.momentum,
                               o->optim.type == WB_OPTIM_SGD};
        for (int i = 0; i < n_terms; i++) snprintf(stats.names[i], WB_NAME_MAX, "%s", terms[i].name);
        bool log_now = iv.n >= o->log_interval || st.iteration == max_iters;
        if (log_now) {
            stats.time = iv.time / iv.n;
            stats.data_time = iv.data_time / iv.n;
            for (int i = 0; i < n_terms; i++) stats.values[i] = iv.terms[i] / iv.n;
            stats.total = iv.total / iv.n;
            if (res->log_lines++ == 0) res->first_loss = stats.total;
            res->last_loss = stats.total;
            wb_trainlog_iter(&log, &stats);
            memset(&iv, 0, sizeof iv);
        } else {
            stats.total = total;
            wb_trainlog_progress(&log, &stats);
        }
        wb_model_end_iteration(m);
        wb_session_reset_compute(s);

        bool epoch_end = in_epoch == per_epoch;
        if (epoch_end) st.epoch = epoch + 1;
        int64_t units = o->max_epochs > 0 ? st.epoch : st.iteration;
        bool unit_end = o->max_epochs > 0 ? epoch_end : true;
        int64_t every = val_interval_at(o, units);
        /* Before the periodic checkpoint, so that it holds the best score so far. */
        if (unit_end && o->validate && every > 0 && units % every == 0) rc = validate(&run, &log, units, err, n);
        if (rc != WB_OK) break;
        bool periodic = unit_end && o->ckpt_interval > 0 && units % o->ckpt_interval == 0;
        if (periodic || st.iteration == max_iters) {
            char name[64];
            snprintf(name, sizeof name, "%s_%lld", wb_run_unit(o), (long long)units);
            rc = wb_run_save(&run, name, err, n);
            if (rc == WB_OK) wb_run_prune(o, units);
        }
        if (g_stop_signal && rc == WB_OK) {
            const char *by = "a signal";
            for (int i = 0; i < N_STOP_SIGNALS; i++)
                if (g_stop_signals[i] == g_stop_signal) by = g_stop_names[i];
            wb_logf(WB_LOG_WARN, "train", "interrupted: saving a checkpoint at iteration %lld (%s)%s",
                    (long long)st.iteration, by, acc.pending ? "; the gradients accumulated since the last "
                    "optimizer step are not saved" : "");
            rc = wb_run_save(&run, "interrupted", err, n);
            res->interrupted = g_stop_signal;
            break;
        }
    }
    if (rc == WB_ERR_NUMERIC || rc == WB_ERR_IO) {
        size_t len = strlen(err);
        snprintf(err + len, n - len, "; the last good checkpoint is %s", res->last_checkpoint[0] ? res->last_checkpoint
                 : "(none yet)");
    }
    res->iterations = st.iteration;
    for (int i = 0; i < N_STOP_SIGNALS; i++) sigaction(g_stop_signals[i], &old_sa[i], NULL);
    wb_trainlog_close(&log);
done:
    wb_ema_destroy(ema);
    wb_optimizer_destroy(opt);
    return rc;
}
