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
#include "../dist/dist.h"
#include "../runtime/host_copy.h"
#include "../runtime/log.h"
#include "../runtime/stop_signal.h"
#include "accumulation.h"
#include "freeze.h"
#include "grad_sync.h"
#include "phases.h"
#include "run_files.h"
#include "trainlog.h"

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
    /* Every rank evaluates its shard with rank 0's model. */
    wb_status rc = wb_grad_sync_align(r->m->s, err, n);
    if (rc == WB_OK) rc = r->o->validate(r->o->validate_user, units, &metrics, err, n);
    if (r->ema) wb_ema_swap(r->ema);
    if (rc != WB_OK) return rc;
    wb_trainlog_val(log, wb_run_unit(r->o), units, metrics.n, metrics.names, metrics.values);
    return r->o->save_best && wb_dist_is_root() ? wb_run_keep_best(r, &metrics, units, err, n) : WB_OK;
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
static wb_status check_resumed_state(const wb_train_state *st, const char *path, const wb_phases *ph,
                                     int64_t max_iters, char *err, size_t n) {
    if (st->iteration > max_iters) {
        snprintf(err, n, "%s: cannot resume: the checkpoint is at iteration %lld but this experiment trains %lld "
                 "iterations; raise schedule.max_epochs (or max_iters) or resume from an earlier checkpoint", path,
                 (long long)st->iteration, (long long)max_iters);
        return WB_ERR_INVALID;
    }
    int64_t epoch = wb_phases_epochs_done(ph, st->iteration);
    if (st->epoch != epoch) {
        snprintf(err, n, "%s: cannot resume: the checkpoint says epoch %lld at iteration %lld, but with %lld "
                 "iterations per epoch%s iteration %lld is in epoch %lld; was it written with another dataset, "
                 "data.batch_size or train.freeze? resume with the same data, or start with load_from", path,
                 (long long)st->epoch, (long long)st->iteration, (long long)ph->p[ph->n - 1].per_epoch,
                 ph->n > 1 ? " (after train.freeze's epochs)" : "", (long long)st->iteration, (long long)epoch);
        return WB_ERR_INVALID;
    }
    return WB_OK;
}

/* A checkpoint another number of ranks wrote. Mid-epoch with the same
 * total batch (ranks x batch): an epoch's order depends only on the seed,
 * the epoch and the total batch (sampler.h), so the epoch's order is the
 * writer's, the samples consumed globally are the first in_epoch x
 * total_batch of it, and the remainder is dealt out over this run's ranks
 * (padded to a multiple of them): the run goes on at the same iteration.
 * At an epoch's end the epochs may differ in length: the run goes on from
 * the start of the next epoch. Weights, optimizer and EMA state and the
 * epoch count carry over as they are. */
static wb_status reshard(wb_train_state *st, const char *path, const wb_phases *ph, const wb_trainer_opts *o,
                         char *err, size_t n) {
    int world = wb_dist_world();
    int64_t writer_batch = st->total_batch;
    st->total_batch = o->total_batch; /* what this run's checkpoints record */
    if (st->world == world) return WB_OK;
    if (st->in_epoch != 0 && (writer_batch != o->total_batch || o->total_batch <= 0 || ph->n > 1)) {
        char total[96] = "an unrecorded number of";
        if (writer_batch > 0) snprintf(total, sizeof total, "%lld", (long long)writer_batch);
        snprintf(err, n, "%s: cannot resume with %d rank%s: the checkpoint was written by %lld in the middle of an "
                 "epoch (%lld iterations into it) with %s images per iteration in total, and this run takes %lld%s; "
                 "an epoch's order depends on that total: resume with data.batch_size x ranks = %s, with %lld ranks, "
                 "or with %d from an epoch checkpoint (epoch_N.safetensors)", path, world, world > 1 ? "s" : "",
                 (long long)st->world, (long long)st->in_epoch, total, (long long)o->total_batch,
                 ph->n > 1 ? " (and train.freeze's phases keep their ranks)" : "", total, (long long)st->world, world);
        return WB_ERR_INVALID;
    }
    if (st->in_epoch != 0) {
        wb_logf(WB_LOG_INFO, "train", "the checkpoint is of %lld rank%s, this run has %d: epoch %lld goes on in the "
                "writer's order (seed, epoch, total batch %lld) after the %lld images it consumed (%lld iterations), "
                "the rest dealt out over %d rank%s", (long long)st->world, st->world > 1 ? "s" : "", world,
                (long long)st->epoch + 1, (long long)writer_batch, (long long)(st->in_epoch * writer_batch),
                (long long)st->in_epoch, world, world > 1 ? "s" : "");
        st->world = world;
        return WB_OK;
    }
    int64_t iteration = wb_phases_first_iter_of_epoch(ph, st->epoch);
    wb_logf(WB_LOG_INFO, "train", "the checkpoint is of %lld rank%s, this run has %d: epoch %lld ends at iteration %lld "
            "with %d (%lld with %lld); weights, optimizer and EMA state carry over, the next epoch is dealt out over %d",
            (long long)st->world, st->world > 1 ? "s" : "", world, (long long)st->epoch, (long long)iteration, world,
            (long long)st->iteration, (long long)st->world, world);
    st->iteration = iteration;
    st->world = world;
    return WB_OK;
}

/* Continues a run from a checkpoint: weights, optimizer, EMA, trainer state. */
static wb_status resume(wb_run_ctx *r, const wb_phases *ph, int64_t max_iters, char *err, size_t n) {
    wb_load_report rep;
    wb_load_opts lo = {r->opt, r->ema, r->st, r->o->allow_nonfinite};
    wb_status rc = wb_checkpoint_load(r->o->resume_from, r->m->s, &lo, &rep, err, n);
    if (rc == WB_OK) rc = reshard(r->st, r->o->resume_from, ph, r->o, err, n);
    return rc == WB_OK ? check_resumed_state(r->st, r->o->resume_from, ph, max_iters, err, n) : rc;
}

/* One iteration's batch through forward, loss and backward. */
static wb_status forward_backward(wb_model *m, wb_batch_source *data, int64_t epoch, float loss_scale,
                                  wb_loss_term *terms, int *n_terms, double *data_time, char *err, size_t n) {
    wb_session *s = m->s;
    wb_batch_view b;
    wb_status rc = data->next(data->user, epoch, &b, err, n);
    if (rc != WB_OK) return rc;
    *data_time = b.data_time;
    wb_context *c = &m->stage[0].ctx;
    wb_tensor *images = wb_ctx_tensor_uninit(c, 4, b.shape);
    if (!images) {
        snprintf(err, n, "%s", c->msg);
        rc = c->err;
    } else {
        s->backend->upload(images->data, b.images, (size_t)images->numel * sizeof(float));
        rc = wb_model_forward(m, images, true, err, n);
        if (rc == WB_OK) rc = wb_model_loss(m, b.truth, terms, n_terms, err, n);
        if (rc == WB_OK) rc = wb_model_backward_scaled(m, terms, *n_terms, loss_scale, err, n);
    }
    data->release(data->user);
    return rc;
}

/* Every rank's outcome of the iteration, so that all leave the loop
 * together: a rank's error (a NaN loss, a bad batch) stops every rank, and
 * so does a stop signal any rank got. Alone, the process's own. *stop gets
 * the signal; values[] the loss terms, averaged over the ranks (what the
 * log shows, as mmdet's reduced log variables). */
static wb_status agree(const wb_backend *be, wb_status rc, const wb_loss_term *terms, int n_terms, double *values,
                       int *stop, char *err, size_t n) {
    int world = wb_dist_world(), rank = wb_dist_rank();
    *stop = wb_stop_requested();
    for (int i = 0; rc == WB_OK && i < n_terms; i++) values[i] = wb_host_read_value(be, terms[i].value->data);
    if (world == 1) return rc;
    /* failures, the failing rank (meaningful when one failed), signals, the loss terms */
    double all[3 + WB_MAX_LOSS_TERMS] = {rc != WB_OK ? 1.0 : 0.0, rc != WB_OK ? (double)rank : 0.0,
                                         *stop ? 1.0 : 0.0};
    for (int i = 0; rc == WB_OK && i < n_terms; i++) all[3 + i] = values[i];
    char why[256];
    if (wb_dist_sum_f64(all, 3 + WB_MAX_LOSS_TERMS, why, sizeof why) != WB_OK) {
        snprintf(err, n, "%s", why);
        return WB_ERR_IO;
    }
    if (all[2] > 0 && !*stop) *stop = SIGTERM; /* another rank was signalled: stop as a scheduler's SIGTERM */
    for (int i = 0; i < n_terms; i++) values[i] = all[3 + i] / world;
    if (rc != WB_OK) {
        size_t len = strlen(err);
        snprintf(err + len, n - len, " (on rank %d)", rank);
        return rc;
    }
    if (all[0] == 0) return WB_OK;
    if (all[0] == 1)
        snprintf(err, n, "rank %d failed in this iteration (its message is above); every rank stops", (int)all[1]);
    else
        snprintf(err, n, "%d ranks failed in this iteration (their messages are above); every rank stops", (int)all[0]);
    return WB_ERR_INTERNAL;
}


/* The phase in force: its batches, schedule and accumulation, and what it froze. */
typedef struct phase_state {
    int k;
    const wb_phase *p;
    wb_batch_source *data;
    wb_schedule sched;
    wb_accumulation acc;
    wb_frozen_set frozen;
} phase_state;

static void join_modules(const wb_freeze_schedule *fz, char *buf, size_t size) {
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; i < fz->n_modules && at < size; i++)
        at += (size_t)snprintf(buf + at, size - at, "%s%s", i ? ", " : "", fz->modules[i]);
}

/* Enters phase k at iteration `iter` (a run's start, a resume, or the switch
 * after the frozen phase's last epoch). */
static wb_status enter_phase(wb_session *s, const wb_trainer_opts *o, wb_batch_source *const *sources,
                             const wb_phases *ph, int k, int64_t iter, phase_state *ps, char *err, size_t n) {
    const wb_freeze_schedule *fz = &o->freeze;
    bool frozen_phase = fz->epochs > 0 && k == 0, was_frozen = ps->frozen.index != NULL;
    ps->k = k;
    ps->p = &ph->p[k];
    ps->data = sources[k];
    ps->sched = o->schedule;
    ps->sched.base_lr = frozen_phase ? fz->lr : o->schedule.base_lr;
    ps->sched.iters_per_epoch = ps->p->per_epoch;
    ps->sched.max_iters = o->max_epochs > 0 ? o->max_epochs * ps->p->per_epoch : o->max_iters;
    ps->acc = (wb_accumulation){o->accumulate, o->nbs, o->batch_size, wb_schedule_warmup_iters(&ps->sched), 0, -1};
    wb_accumulation_begin(&ps->acc, wb_phase_virtual_iter(ps->p, iter));
    char modules[512];
    join_modules(fz, modules, sizeof modules);
    if (frozen_phase) {
        int frozen = wb_freeze_phase_begin(s, fz->modules, fz->n_modules, &ps->frozen, err, n);
        if (frozen < 0) return WB_ERR_INVALID;
        wb_logf(WB_LOG_INFO, "train", "train.freeze: epochs 1-%lld train with %s frozen (%d parameters), %d "
                "images per iteration, lr %g", (long long)fz->epochs, modules, frozen, fz->batch_size[0], fz->lr);
    } else if (was_frozen) {
        wb_logf(WB_LOG_INFO, "train", "train.freeze: epoch %lld on trains %s too (%d parameters unfrozen), %d "
                "images per iteration, lr %g", (long long)ps->p->first_epoch + 1, modules, ps->frozen.n,
                fz->batch_size[1], o->schedule.base_lr);
        wb_freeze_phase_end(s, &ps->frozen);
    }
    return WB_OK;
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

/* After an optimizer step with gradient norm `norm`: a NaN or Inf gradient
 * stops the run, unless amp = "fp16"'s loss scaling skips the step (the
 * weights stay, the scale backs off) and has not skipped too many in a row.
 * *stepped: the weights moved. */
static wb_status check_step(wb_session *s, const wb_loss_scale_cfg *ls, wb_loss_scale_state *amp, double norm,
                            int64_t iteration, bool *stepped, char *err, size_t n) {
    double scale = amp->scale;
    *stepped = wb_loss_scale_update(ls, amp, isfinite(norm));
    if (*stepped) return WB_OK;
    if (ls->enabled && amp->skipped_in_a_row < WB_LOSS_SCALE_MAX_SKIPS_IN_A_ROW) {
        wb_logf(WB_LOG_INFO, "train", "amp = \"fp16\": %s gradient at iteration %lld with loss scale %g: step "
                "skipped (%lld so far), loss scale now %g", isnan(norm) ? "NaN" : "Inf", (long long)iteration, scale,
                (long long)amp->skipped, amp->scale);
        return WB_OK;
    }
    wb_status rc = nonfinite_gradient(s, norm, iteration, err, n);
    size_t len = strlen(err);
    if (ls->enabled)
        snprintf(err + len, n - len, "; amp = \"fp16\" skipped the last %d steps for NaN / Inf gradients, down to "
                 "loss scale %g: they are not an fp16 overflow", WB_LOSS_SCALE_MAX_SKIPS_IN_A_ROW, amp->scale);
    return rc;
}

typedef struct interval {
    int n;
    double time, data_time, terms[WB_MAX_LOSS_TERMS], total;
} interval;

static void record(interval *iv, double t, double dt, const double *values, int n_terms, double total) {
    iv->n++;
    iv->time += t;
    iv->data_time += dt;
    for (int i = 0; i < n_terms; i++) iv->terms[i] += values[i];
    iv->total += total;
}

/* The phases of this run: the frozen one first when train.freeze is on. */
static wb_status plan_phases(wb_batch_source *data, const wb_trainer_opts *o, wb_batch_source **sources,
                             wb_phases *ph, char *err, size_t n) {
    const wb_freeze_schedule *fz = &o->freeze;
    int n_phases = fz->epochs > 0 ? 2 : 1;
    sources[0] = n_phases == 2 ? fz->data : data;
    sources[1] = data;
    ph->n = 0;
    for (int k = 0; k < n_phases; k++) {
        int64_t per_epoch = sources[k]->batches_per_epoch(sources[k]->user);
        if (per_epoch <= 0) {
            snprintf(err, n, "the training data gives no batch%s (empty dataset, or batch_size larger than the "
                     "dataset with drop_last)", n_phases == 2 && k == 0 ? " in train.freeze's phase" : "");
            return WB_ERR_INVALID;
        }
        int64_t epochs = n_phases == 1 ? (o->max_epochs > 0 ? o->max_epochs : INT64_MAX / per_epoch)
                                       : (k == 0 ? fz->epochs : o->max_epochs - fz->epochs);
        wb_phases_add(ph, epochs, per_epoch);
    }
    return WB_OK;
}

wb_status wb_train(wb_model *m, wb_batch_source *data, const wb_trainer_opts *o, wb_train_result *res,
                   char *err, size_t n) {
    memset(res, 0, sizeof *res);
    wb_session *s = m->s;
    wb_batch_source *sources[WB_MAX_PHASES];
    wb_phases ph;
    wb_status rc = plan_phases(data, o, sources, &ph, err, n);
    if (rc != WB_OK) return rc;
    int64_t max_iters = o->max_epochs > 0 ? wb_phases_iters(&ph) : o->max_iters;
    wb_train_state st = {.world = wb_dist_world(), .total_batch = o->total_batch};
    phase_state ps = {0};
    bool root = wb_dist_is_root();
    wb_optimizer *opt = wb_optimizer_create(s, &o->optim);
    wb_ema *ema = o->ema ? wb_ema_create(s, &o->ema_cfg) : NULL;
    wb_run_ctx run = {m, opt, ema, o, &st, res};
    if (!opt || (o->ema && !ema)) {
        snprintf(err, n, "out of memory creating the optimizer%s", o->ema ? " and the EMA weights" : "");
        rc = WB_ERR_NOMEM;
        goto done;
    }
    if (o->resume_from) {
        rc = resume(&run, &ph, max_iters, err, n);
        if (rc != WB_OK) goto done;
        snprintf(res->last_checkpoint, sizeof res->last_checkpoint, "%s", o->resume_from);
        wb_logf(WB_LOG_INFO, "train", "resumed from %s at iteration %lld (epoch %lld)", o->resume_from,
                (long long)st.iteration, (long long)st.epoch);
    }
    wb_loss_scale_begin(&o->loss_scale, &st.amp, o->resume_from != NULL);
    rc = enter_phase(s, o, sources, &ph, wb_phase_at(&ph, st.iteration), st.iteration, &ps, err, n);
    if (rc != WB_OK) goto done;
    /* Stopped mid-epoch: the loader restarts that epoch, so pass over the
     * batches already trained on (the order depends only on the seed). */
    for (int64_t i = wb_phase_virtual_iter(ps.p, st.iteration) % ps.p->per_epoch; i > 0 && rc == WB_OK; i--) {
        wb_batch_view skipped;
        rc = ps.data->next(ps.data->user, st.epoch, &skipped, err, n);
        if (rc == WB_OK) ps.data->release(ps.data->user);
    }
    if (rc != WB_OK) goto done;
    /* Before log.json exists, so that a script seeing it knows a stop signal is handled. */
    wb_stop_handlers old_handlers;
    wb_stop_install(&old_handlers);
    wb_trainlog log;
    memset(&log, 0, sizeof log); /* the other ranks write nothing */
    if (root && !wb_trainlog_open(&log, o->work_dir, o->resume_from, st.iteration))
        wb_logf(WB_LOG_WARN, "train", "cannot write %s/log.json: %s", o->work_dir, strerror(errno));
    log.by_epoch = o->max_epochs > 0;
    wb_grad_sync sync = {.bucket_mb = o->bucket_mb};
    wb_tape *tapes[sizeof m->stage / sizeof m->stage[0]];
    for (int i = 0; i < m->n_stages; i++) tapes[i] = &m->stage[i].ctx.tape;

    interval iv = {0};
    double run_start = now_s(), gnorm = 0.0;
    int64_t start_iter = st.iteration;
    while (st.iteration < max_iters && rc == WB_OK) {
        int k = wb_phase_at(&ph, st.iteration);
        if (k != ps.k && (rc = enter_phase(s, o, sources, &ph, k, st.iteration, &ps, err, n)) != WB_OK) break;
        int64_t per_epoch = ps.p->per_epoch, vi = wb_phase_virtual_iter(ps.p, st.iteration);
        int64_t epoch = vi / per_epoch;
        double t0 = now_s();
        if (wb_accumulation_drops(&ps.acc, vi, per_epoch)) wb_session_zero_grad(s);
        wb_loss_term terms[WB_MAX_LOSS_TERMS];
        int n_terms = 0, stop;
        double data_time = 0;
        m->iteration = st.iteration + 1;
        double values[WB_MAX_LOSS_TERMS];
        bool boundary = group_boundary(o, vi + 1, per_epoch, ps.sched.max_iters);
        /* Only the last micro-batch of an accumulation communicates: its
         * backward starts the gradient buckets (a copy of the state asks). */
        wb_accumulation ask = ps.acc;
        float unused;
        s->pool_param_grads = wb_accumulation_step_now(&ask, vi, boundary, &unused);
        if (s->pool_param_grads && (rc = wb_grad_sync_begin(&sync, s, tapes, m->n_stages, err, n)) != WB_OK)
            break;
        rc = forward_backward(m, ps.data, epoch, wb_loss_scale_factor(&o->loss_scale, &st.amp), terms, &n_terms,
                              &data_time, err, n);
        char why[256];
        wb_status sent = wb_grad_sync_launch_rest(&sync, why, sizeof why); /* even after a failure */
        if (rc == WB_OK && sent != WB_OK) rc = sent, snprintf(err, n, "%s", why);
        rc = agree(s->backend, rc, terms, n_terms, values, &stop, err, n);
        if (rc != WB_OK) break;
        wb_step_params sp = wb_schedule_step(&ps.sched, vi, o->optim.momentum);
        float lr = sp.lr;
        if (wb_accumulation_step_now(&ps.acc, vi, boundary, &sp.grad_scale)) {
            if ((rc = wb_grad_sync_finish(&sync, err, n)) != WB_OK) break;
            sp.grad_scale *= wb_loss_scale_unscale(&o->loss_scale, &st.amp); /* unscaled before the check */
            double norm = wb_optimizer_step_with(opt, &sp);
            bool stepped;
            if ((rc = check_step(s, &o->loss_scale, &st.amp, norm, st.iteration + 1, &stepped, err, n)) != WB_OK)
                break;
            if (stepped) gnorm = norm;
            if (stepped && ema) wb_ema_update(ema);
            wb_session_zero_grad(s);
        }
        double total = 0.0;
        for (int i = 0; i < n_terms; i++) total += wb_term_is_loss(terms[i].name) ? values[i] : 0.0;
        record(&iv, now_s() - t0, data_time, values, n_terms, total);
        st.iteration++;

        int64_t in_epoch = vi % per_epoch + 1;
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
        if (unit_end && o->validate && every > 0 && units % every == 0) {
            rc = validate(&run, &log, units, err, n);
            if (rc != WB_OK && wb_dist_world() == 1 && (stop = wb_stop_requested()) != 0) {
                /* The unit's training is whole: it is saved as usual, without its validation. */
                wb_logf(WB_LOG_WARN, "val", "%s: the validation of %s %lld is left out of log.json (workbench eval "
                        "on the checkpoint gives it)", err, wb_run_unit(o), (long long)units);
                rc = WB_OK;
            }
        }
        if (rc != WB_OK) break;
        bool periodic = unit_end && o->ckpt_interval > 0 && units % o->ckpt_interval == 0;
        st.in_epoch = epoch_end ? 0 : in_epoch;
        if (periodic || st.iteration == max_iters) {
            char name[64];
            snprintf(name, sizeof name, "%s_%lld", wb_run_unit(o), (long long)units);
            rc = wb_grad_sync_align(s, err, n); /* the file holds what every rank has */
            if (rc == WB_OK && root) rc = wb_run_save(&run, name, err, n);
            else if (rc == WB_OK)
                snprintf(res->last_checkpoint, sizeof res->last_checkpoint, "%s/%s.safetensors", o->work_dir, name);
            if (rc == WB_OK && root) wb_run_prune(o, units);
        }
        if (stop && rc == WB_OK) {
            wb_logf(WB_LOG_WARN, "train", "interrupted: saving a checkpoint at iteration %lld (%s)%s",
                    (long long)st.iteration, wb_stop_name(stop),
                    ps.acc.pending ? "; the gradients accumulated since the last optimizer step are not saved" : "");
            if (root) rc = wb_run_save(&run, "interrupted", err, n);
            res->interrupted = stop;
            break;
        }
    }
    if (rc == WB_ERR_NUMERIC || rc == WB_ERR_IO) {
        size_t len = strlen(err);
        snprintf(err + len, n - len, "; the last good checkpoint is %s", res->last_checkpoint[0] ? res->last_checkpoint
                 : "(none yet)");
    }
    res->iterations = st.iteration;
    if (o->loss_scale.enabled && root)
        wb_logf(WB_LOG_INFO, "train", "amp = \"fp16\": %lld optimizer step%s skipped for NaN / Inf gradients, loss "
                "scale %g", (long long)st.amp.skipped, st.amp.skipped == 1 ? "" : "s", st.amp.scale);
    if (sync.rounds && root) {
        double run_time = now_s() - run_start;
        wb_logf(WB_LOG_INFO, "train", "gradient all-reduce over %d ranks at %lld optimizer steps, %d bucket%s "
                "(bucket_mb %g): %lld of %lld started during backward; waiting for the sums after backward %.1f%% of "
                "the training time (%.2f ms per step), staging gradients %.1f%%", wb_dist_world(),
                (long long)sync.rounds, sync.n_buckets, sync.n_buckets == 1 ? "" : "s",
                o->bucket_mb, (long long)sync.started_early, (long long)sync.started,
                100.0 * sync.wait_seconds / run_time, 1e3 * sync.wait_seconds / (double)sync.rounds,
                100.0 * sync.pack_seconds / run_time);
    }
    wb_grad_sync_free(&sync);
    wb_stop_restore(&old_handlers);
    wb_trainlog_close(&log);
done:
    wb_freeze_phase_end(s, &ps.frozen);
    wb_ema_destroy(ema);
    wb_optimizer_destroy(opt);
    return rc;
}
