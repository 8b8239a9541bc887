#include "checkpoint.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../io/safetensors.h"
#include "../runtime/host_copy.h"

/* The index of the first NaN or Inf among x[0..n), or -1. */
static int64_t first_nonfinite(const float *x, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return -1;
}

/* A checkpoint is what a later run resumes from: one with NaN weights would
 * only pass the damage on. */
static wb_status refuse_nonfinite_session(const char *path, const wb_session *s, const float *const *data,
                                          char *err, size_t n) {
    for (int i = 0; i < s->n_params; i++) {
        const wb_tensor *t = s->params[i].tensor;
        int64_t at = first_nonfinite(data[i], t->numel);
        if (at < 0) continue;
        snprintf(err, n, "%s not saved: parameter '%s' holds %s (element %lld of %lld), the weights are broken", path,
                 s->params[i].name, isnan(data[i][at]) ? "NaN" : "Inf", (long long)at, (long long)t->numel);
        return WB_ERR_NUMERIC;
    }
    return WB_OK;
}

/* What the writer is given: host views of backend memory, kept until the write. */
typedef struct save_sink {
    wb_st_writer *w;
    wb_host_copies *copies;
} save_sink;

static void add_state(void *user, const char *name, const wb_tensor *param, float *state) {
    save_sink *sink = user;
    const float *host = wb_host_copies_read(sink->copies, state, param->numel);
    if (host) wb_st_writer_add(sink->w, name, param->ndim, param->shape, host);
}

/* Host views of every parameter's data; false when out of memory. */
static bool read_params(const wb_session *s, wb_host_copies *copies, const float **data) {
    for (int i = 0; i < s->n_params; i++)
        if (!(data[i] = wb_host_copies_read(copies, s->params[i].tensor->data, s->params[i].tensor->numel)))
            return false;
    return true;
}

wb_status wb_checkpoint_save(const char *path, wb_session *s, wb_optimizer *o, const wb_ema *ema,
                             const wb_train_state *st, const wb_checkpoint_labels *labels, char *err, size_t n) {
    s->backend->synchronize();
    wb_host_copies copies;
    wb_host_copies_init(&copies, s->backend);
    const float **data = calloc((size_t)(s->n_params ? s->n_params : 1), sizeof *data);
    wb_st_writer *w = data && read_params(s, &copies, data) ? wb_st_writer_new() : NULL;
    if (!w) {
        free(data);
        wb_host_copies_free(&copies);
        snprintf(err, n, "%s: out of memory", path);
        return WB_ERR_NOMEM;
    }
    wb_status rc = refuse_nonfinite_session(path, s, data, err, n);
    for (int i = 0; rc == WB_OK && i < s->n_params; i++) {
        const wb_tensor *t = s->params[i].tensor;
        wb_st_writer_add(w, s->params[i].name, t->ndim, t->shape, data[i]);
    }
    free(data);
    save_sink sink = {w, &copies};
    if (rc == WB_OK && o) wb_optimizer_visit_state(o, add_state, &sink);
    if (rc == WB_OK && ema) wb_ema_save(ema, w, &copies);
    if (rc == WB_OK && copies.failed) {
        snprintf(err, n, "%s: out of memory for host copies of the state", path);
        rc = WB_ERR_NOMEM;
    }
    if (rc != WB_OK) {
        wb_st_writer_free(w);
        wb_host_copies_free(&copies);
        return rc;
    }
    char num[32];
    wb_st_writer_meta(w, "format", "workbench-checkpoint-1");
    if (st) {
        snprintf(num, sizeof num, "%" PRId64, st->iteration);
        wb_st_writer_meta(w, "iteration", num);
        snprintf(num, sizeof num, "%" PRId64, st->epoch);
        wb_st_writer_meta(w, "epoch", num);
        snprintf(num, sizeof num, "%" PRId64, st->in_epoch);
        wb_st_writer_meta(w, "epoch_iteration", num);
        snprintf(num, sizeof num, "%" PRId64, st->world > 0 ? st->world : 1);
        wb_st_writer_meta(w, "world_size", num);
        snprintf(num, sizeof num, "%" PRId64, st->total_batch);
        if (st->total_batch > 0) wb_st_writer_meta(w, "total_batch", num);
        if (st->has_best) {
            snprintf(num, sizeof num, "%.17g", st->best_score);
            wb_st_writer_meta(w, "best_score", num);
            wb_st_writer_meta(w, "best_checkpoint", st->best_name);
        }
    }
    if (st) wb_loss_scale_write_meta(&st->amp, w);
    if (o) {
        snprintf(num, sizeof num, "%" PRId64, wb_optimizer_steps(o));
        wb_st_writer_meta(w, "optimizer_steps", num);
    }
    if (labels) wb_checkpoint_labels_write(labels, w);
    rc = wb_st_writer_save(w, path, err, n);
    wb_st_writer_free(w);
    wb_host_copies_free(&copies);
    return rc;
}

#define RESUME_HINT "resume from an earlier checkpoint of the run (epoch_N or iter_N.safetensors) or train without --resume"

/* A value from the file, shortened and with control characters replaced, for a message. */
static const char *shown(const char *v, char *buf, size_t size) {
    size_t i = 0;
    for (; v[i] && i + 4 < size && i < 40; i++) buf[i] = (unsigned char)v[i] < 0x20 ? '?' : v[i];
    snprintf(buf + i, size - i, "%s", v[i] ? "..." : "");
    return buf;
}

/* __metadata__.key as an integer in [0, 2^63); absent is *out = -1 unless required. */
static wb_status meta_count(const wb_st_file *f, const char *path, const char *key, bool required, int64_t *out,
                            char *err, size_t n) {
    const char *v = wb_st_meta(f, key);
    *out = -1;
    if (!v && !required) return WB_OK;
    if (!v) {
        snprintf(err, n, "%s: cannot resume: the file has no trainer state (__metadata__.%s is missing); a "
                 "weights-only file? use load_from instead of --resume", path, key);
        return WB_ERR_INVALID;
    }
    size_t digits = strspn(v, "0123456789");
    errno = 0;
    long long x = digits > 0 && v[digits] == '\0' ? strtoll(v, NULL, 10) : -1;
    if (x < 0 || errno == ERANGE) {
        char buf[64];
        snprintf(err, n, "%s: cannot resume: __metadata__.%s = \"%s\" is not an integer from 0 to 2^63-1; the file "
                 "is damaged or was not written by workbench: " RESUME_HINT, path, key, shown(v, buf, sizeof buf));
        return WB_ERR_INVALID;
    }
    *out = x;
    return WB_OK;
}

static wb_status inconsistent(const char *path, char *err, size_t n, const char *what) {
    snprintf(err, n, "%s: cannot resume: %s; the file is damaged or was not written by workbench: " RESUME_HINT, path,
             what);
    return WB_ERR_INVALID;
}

/* The best checkpoint so far: both or neither of best_score and best_checkpoint. */
static wb_status parse_best(const wb_st_file *f, const char *path, wb_train_state *st, char *err, size_t n) {
    const char *score = wb_st_meta(f, "best_score"), *name = wb_st_meta(f, "best_checkpoint");
    char buf[64], what[400];
    st->has_best = 0;
    if (!score && !name) return WB_OK;
    if (!score || !name) return inconsistent(path, err, n, "__metadata__ has only one of best_score and best_checkpoint");
    char *end;
    errno = 0;
    st->best_score = strtod(score, &end);
    if (end == score || *end || errno == ERANGE || !isfinite(st->best_score)) {
        snprintf(what, sizeof what, "__metadata__.best_score = \"%s\" is not a finite number", shown(score, buf, sizeof buf));
        return inconsistent(path, err, n, what);
    }
    if (!wb_checkpoint_best_name_ok(name) || strlen(name) >= sizeof st->best_name) {
        snprintf(what, sizeof what, "__metadata__.best_checkpoint = \"%s\" is not a name workbench gives a best "
                 "checkpoint (best_<metric>_<epoch|iter>_<N>.safetensors in the work dir)", shown(name, buf, sizeof buf));
        return inconsistent(path, err, n, what);
    }
    snprintf(st->best_name, sizeof st->best_name, "%s", name);
    st->has_best = 1;
    return WB_OK;
}

/* The trainer state, each number valid on its own and against the others;
 * *steps gets the optimizer step count. */
static wb_status parse_state(const wb_st_file *f, const char *path, wb_train_state *st, int64_t *steps, char *err,
                             size_t n) {
    int64_t ema_steps;
    wb_status rc = meta_count(f, path, "iteration", true, &st->iteration, err, n);
    if (rc == WB_OK) rc = meta_count(f, path, "epoch", true, &st->epoch, err, n);
    if (rc == WB_OK) rc = meta_count(f, path, "optimizer_steps", true, steps, err, n);
    if (rc == WB_OK) rc = meta_count(f, path, "ema_steps", false, &ema_steps, err, n);
    if (rc == WB_OK) rc = meta_count(f, path, "epoch_iteration", false, &st->in_epoch, err, n);
    if (rc == WB_OK) rc = meta_count(f, path, "world_size", false, &st->world, err, n);
    if (rc == WB_OK) rc = meta_count(f, path, "total_batch", false, &st->total_batch, err, n);
    if (rc != WB_OK) return rc;
    if (st->world <= 0) st->world = 1; /* absent: a single process wrote it */
    char what[200];
    /* Every epoch has at least one iteration; the optimizer and the EMA step at most once per iteration. */
    const char *key = st->epoch > st->iteration ? "epoch" : *steps > st->iteration ? "optimizer_steps"
                      : ema_steps > st->iteration ? "ema_steps" : NULL;
    if (key) {
        snprintf(what, sizeof what, "__metadata__.%s = %s is more than iteration = %lld", key,
                 wb_st_meta(f, key), (long long)st->iteration);
        return inconsistent(path, err, n, what);
    }
    rc = parse_best(f, path, st, err, n);
    return rc == WB_OK ? wb_loss_scale_read_meta(&st->amp, f, path, err, n) : rc;
}

bool wb_checkpoint_best_name_ok(const char *name) {
    static const char prefix[] = "best_", suffix[] = ".safetensors";
    size_t len = strlen(name), pre = sizeof prefix - 1, suf = sizeof suffix - 1;
    if (len <= pre + suf || strncmp(name, prefix, pre) != 0 || strcmp(name + len - suf, suffix) != 0) return false;
    /* The middle is <metric>_<epoch|iter>_<N>: letters, digits and underscores only (no '/', no "..") */
    const char *mid = name + pre, *mid_end = name + len - suf;
    for (const char *c = mid; c < mid_end; c++)
        if (!isalnum((unsigned char)*c) && *c != '_') return false;
    const char *digits = mid_end;
    while (digits > mid && isdigit((unsigned char)digits[-1])) digits--;
    if (digits == mid_end) return false;
    size_t head = (size_t)(digits - mid);
    return (head > 7 && strncmp(digits - 7, "_epoch_", 7) == 0) || (head > 6 && strncmp(digits - 6, "_iter_", 6) == 0);
}

wb_status wb_checkpoint_read_state(const char *path, wb_train_state *st, char *err, size_t n) {
    wb_st_file f;
    wb_status rc = wb_st_read(path, &f, err, n);
    if (rc != WB_OK) return rc;
    int64_t steps;
    memset(st, 0, sizeof *st);
    rc = parse_state(&f, path, st, &steps, err, n);
    wb_st_free(&f);
    return rc;
}

static wb_status refuse_nonfinite(const char *path, const wb_st_tensor *t, char *err, size_t n) {
    int64_t at = first_nonfinite(t->data, t->numel);
    snprintf(err, n, "%s: tensor '%s' holds %s (element %lld of %lld): these weights are broken (saved by a run that "
             "diverged?); load an earlier checkpoint, or set load_nonfinite = \"allow\" to load them anyway", path,
             t->name, isnan(t->data[at]) ? "NaN" : "Inf", (long long)at, (long long)t->numel);
    return WB_ERR_NUMERIC;
}

typedef struct restore {
    const wb_st_file *f;
    bool dry;  /* only check: count what is missing, find non-finite values */
    bool allow_nonfinite;
    int missing;
    char first_missing[256];
    const wb_st_tensor *nonfinite;  /* the first state tensor with a NaN or Inf */
    const wb_backend *be;           /* where the state lives */
} restore;

static void load_state(void *user, const char *name, const wb_tensor *param, float *state) {
    restore *r = user;
    const wb_st_tensor *t = wb_st_find(r->f, name);
    if (!t || t->numel != param->numel) {
        if (!r->missing++) snprintf(r->first_missing, sizeof r->first_missing, "%s", name);
        return;
    }
    if (r->dry && !r->allow_nonfinite && !r->nonfinite && first_nonfinite(t->data, t->numel) >= 0) r->nonfinite = t;
    if (!r->dry && t->numel > 0) r->be->upload(state, t->data, (size_t)t->numel * sizeof(float));
}

/* "[2, 3]" */
static const char *shape_text(int ndim, const int64_t *shape, char *buf, size_t size) {
    size_t len = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (len < size) snprintf(buf + len, size - len, "]");
    return buf;
}

/* Counts one more tensor of a kind; the first few go into the report as
 * "name" + detail. */
static void note(int *count, char *names, size_t size, const char *name, const char *detail) {
    size_t len = strlen(names);
    if (*count < WB_LOAD_REPORT_SHOWN)
        snprintf(names + len, size - len, "%s%s%s", *count ? ", " : "", name, detail);
    else if (*count == WB_LOAD_REPORT_SHOWN)
        snprintf(names + len, size - len, ", ...");
    ++*count;
}

void wb_load_report_describe(const wb_load_report *r, bool with_unexpected, char *buf, size_t size) {
    const struct {
        int count;
        const char *what, *names;
    } kinds[] = {{r->missing, "missing from the file", r->first_missing},
                 {r->shape_mismatched, "with another shape", r->first_mismatch},
                 {with_unexpected ? r->unexpected : 0, "in the file but not in the model", r->first_unexpected}};
    size_t len = 0;
    buf[0] = '\0';
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && len < size; k++)
        if (kinds[k].count)
            len += (size_t)snprintf(buf + len, size - len, "%s%d %s: %s", len ? "; " : "", kinds[k].count,
                                    kinds[k].what, kinds[k].names);
}

static bool same_shape(const wb_st_tensor *a, const wb_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

/* Which of the session's parameters the file has; the first matched tensor holding a NaN or Inf. */
static const wb_st_tensor *match_weights(const wb_st_file *f, wb_session *s, wb_load_report *rep) {
    const wb_st_tensor *nonfinite = NULL;
    char model[160], file[160], detail[360];
    for (int i = 0; i < s->n_params; i++) {
        const wb_st_tensor *t = wb_st_find(f, s->params[i].name);
        const wb_tensor *p = s->params[i].tensor;
        shape_text(p->ndim, p->shape, model, sizeof model);
        if (!t) {
            snprintf(detail, sizeof detail, " %s", model);
            note(&rep->missing, rep->first_missing, sizeof rep->first_missing, s->params[i].name, detail);
        } else if (!same_shape(t, p)) {
            snprintf(detail, sizeof detail, ": model %s, file %s", model, shape_text(t->ndim, t->shape, file,
                                                                                       sizeof file));
            note(&rep->shape_mismatched, rep->first_mismatch, sizeof rep->first_mismatch, s->params[i].name, detail);
        } else {
            rep->matched++;
            rep->widened += t->dtype != WB_ST_F32;
            if (!nonfinite && first_nonfinite(t->data, t->numel) >= 0) nonfinite = t;
        }
    }
    for (int i = 0; i < f->count; i++) {
        const wb_st_tensor *t = &f->tensors[i];
        /* Trainer state (optimizer, EMA) is not a weight of the model. */
        if (strstr(t->name, "::") || strncmp(t->name, "ema.", 4) == 0 || wb_session_find(s, t->name)) continue;
        snprintf(detail, sizeof detail, " %s", shape_text(t->ndim, t->shape, file, sizeof file));
        note(&rep->unexpected, rep->first_unexpected, sizeof rep->first_unexpected, t->name, detail);
    }
    return nonfinite;
}

/* The EMA averages the file holds for the session's parameters: the first with a NaN or Inf. */
static const wb_st_tensor *nonfinite_ema(const wb_st_file *f, wb_session *s) {
    char name[1024];
    for (int i = 0; i < s->n_params; i++) {
        snprintf(name, sizeof name, "ema.%s", s->params[i].name);
        const wb_st_tensor *t = wb_st_find(f, name);
        if (t && first_nonfinite(t->data, t->numel) >= 0) return t;
    }
    return NULL;
}

/* Every check of a resume; nothing is changed. */
static wb_status check_resume(const wb_st_file *f, const char *path, wb_session *s, const wb_load_opts *opts,
                              const wb_load_report *rep, wb_train_state *st, int64_t *steps, char *err, size_t n) {
    if (rep->missing || rep->shape_mismatched) {
        char what[3200];
        wb_load_report_describe(rep, false, what, sizeof what);
        snprintf(err, n, "%s: cannot resume: %d of the model's %d parameters fit; %s. Is this a checkpoint of the "
                 "same model?", path, rep->matched, s->n_params, what);
        return WB_ERR_INVALID;
    }
    restore dry = {f, true, opts->allow_nonfinite, 0, "", NULL, s->backend};
    wb_optimizer_visit_state(opts->optimizer, load_state, &dry);
    if (dry.missing) {
        snprintf(err, n, "%s: cannot resume: the file has no optimizer state for %s (a weights-only file? use "
                 "load_from instead of --resume)", path, dry.first_missing);
        return WB_ERR_INVALID;
    }
    if (dry.nonfinite) return refuse_nonfinite(path, dry.nonfinite, err, n);
    const wb_st_tensor *bad = opts->ema && !opts->allow_nonfinite ? nonfinite_ema(f, s) : NULL;
    if (bad) return refuse_nonfinite(path, bad, err, n);
    return parse_state(f, path, st, steps, err, n);
}

wb_status wb_checkpoint_load(const char *path, wb_session *s, const wb_load_opts *opts, wb_load_report *rep,
                             char *err, size_t n) {
    static const wb_load_opts weights_only = {0};
    if (!opts) opts = &weights_only;
    wb_st_file f;
    wb_status rc = wb_st_read(path, &f, err, n);
    if (rc != WB_OK) return rc;
    memset(rep, 0, sizeof *rep);
    bool resume = opts->optimizer && opts->state;
    /* Check everything before touching a single weight: a failed load
     * leaves the session as it was. */
    const wb_st_tensor *bad = match_weights(&f, s, rep);
    wb_train_state st = {0};
    int64_t steps = 0;
    if (bad && !opts->allow_nonfinite) rc = refuse_nonfinite(path, bad, err, n);
    if (rc == WB_OK && resume) rc = check_resume(&f, path, s, opts, rep, &st, &steps, err, n);
    char why[600];
    if (rc == WB_OK && opts->ema && !wb_ema_load(opts->ema, &f, why, sizeof why)) {
        snprintf(err, n, "%s: cannot resume with ema.enable = true: %s", path, why);
        rc = WB_ERR_INVALID;
    }
    if (rc != WB_OK) {
        wb_st_free(&f);
        return rc;
    }
    for (int i = 0; i < s->n_params; i++) {
        const wb_st_tensor *t = wb_st_find(&f, s->params[i].name);
        if (t && same_shape(t, s->params[i].tensor) && t->numel > 0)
            s->backend->upload(s->params[i].tensor->data, t->data, (size_t)t->numel * sizeof(float));
    }
    if (resume) {
        restore r = {&f, false, true, 0, "", NULL, s->backend};
        wb_optimizer_visit_state(opts->optimizer, load_state, &r);
        wb_optimizer_set_steps(opts->optimizer, steps);
        *opts->state = st;
    }
    wb_st_free(&f);
    return WB_OK;
}
