#include "checkpoint.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../io/safetensors.h"

static void add_state(void *user, const char *name, const wb_tensor *param, float *state) {
    wb_st_writer_add(user, name, param->ndim, param->shape, state);
}

wb_status wb_checkpoint_save(const char *path, wb_session *s, wb_optimizer *o, const wb_ema *ema,
                             const wb_train_state *st, char *err, size_t n) {
    wb_st_writer *w = wb_st_writer_new();
    if (!w) {
        snprintf(err, n, "%s: out of memory", path);
        return WB_ERR_NOMEM;
    }
    s->backend->synchronize();
    for (int i = 0; i < s->n_params; i++) {
        const wb_tensor *t = s->params[i].tensor;
        wb_st_writer_add(w, s->params[i].name, t->ndim, t->shape, t->data);
    }
    if (o) wb_optimizer_visit_state(o, add_state, w);
    if (ema) wb_ema_save(ema, w);
    char num[32];
    wb_st_writer_meta(w, "format", "workbench-checkpoint-1");
    if (st) {
        snprintf(num, sizeof num, "%" PRId64, st->iteration);
        wb_st_writer_meta(w, "iteration", num);
        snprintf(num, sizeof num, "%" PRId64, st->epoch);
        wb_st_writer_meta(w, "epoch", num);
        if (st->has_best) {
            snprintf(num, sizeof num, "%.17g", st->best_score);
            wb_st_writer_meta(w, "best_score", num);
            wb_st_writer_meta(w, "best_checkpoint", st->best_name);
        }
    }
    if (o) {
        snprintf(num, sizeof num, "%" PRId64, wb_optimizer_steps(o));
        wb_st_writer_meta(w, "optimizer_steps", num);
    }
    wb_status rc = wb_st_writer_save(w, path, err, n);
    wb_st_writer_free(w);
    return rc;
}

typedef struct restore {
    const wb_st_file *f;
    bool dry;  /* only count what is missing */
    int missing;
    char first_missing[256];
} restore;

static void load_state(void *user, const char *name, const wb_tensor *param, float *state) {
    restore *r = user;
    const wb_st_tensor *t = wb_st_find(r->f, name);
    if (!t || t->numel != param->numel) {
        if (!r->missing++) snprintf(r->first_missing, sizeof r->first_missing, "%s", name);
        return;
    }
    if (!r->dry) memcpy(state, t->data, (size_t)t->numel * sizeof(float));
}

/* Counts one more name of a kind; the first few go into the report. */
static void note(int *count, char *names, size_t size, const char *name) {
    enum { SHOWN = 3 };
    size_t len = strlen(names);
    if (*count < SHOWN) snprintf(names + len, size - len, "%s%s", *count ? ", " : "", name);
    else if (*count == SHOWN) snprintf(names + len, size - len, ", ...");
    ++*count;
}

static bool same_shape(const wb_st_tensor *a, const wb_tensor *b) {
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

wb_status wb_checkpoint_load(const char *path, wb_session *s, wb_optimizer *o, wb_train_state *st,
                             wb_load_report *rep, char *err, size_t n) {
    wb_st_file f;
    wb_status rc = wb_st_read(path, &f, err, n);
    if (rc != WB_OK) return rc;
    memset(rep, 0, sizeof *rep);
    bool resume = o && st;
    /* Check everything before touching a single weight: a failed resume
     * leaves the session as it was. */
    for (int i = 0; i < s->n_params; i++) {
        const wb_st_tensor *t = wb_st_find(&f, s->params[i].name);
        if (!t) {
            note(&rep->missing, rep->first_missing, sizeof rep->first_missing, s->params[i].name);
        } else if (!same_shape(t, s->params[i].tensor)) {
            note(&rep->shape_mismatched, rep->first_mismatch, sizeof rep->first_mismatch, s->params[i].name);
        } else {
            rep->matched++;
        }
    }
    for (int i = 0; i < f.count; i++) {
        const char *name = f.tensors[i].name;
        /* Trainer state (optimizer, EMA) is not a weight of the model. */
        if (strstr(name, "::") || strncmp(name, "ema.", 4) == 0 || wb_session_find(s, name)) continue;
        note(&rep->unexpected, rep->first_unexpected, sizeof rep->first_unexpected, name);
    }
    if (resume && (rep->missing || rep->shape_mismatched)) {
        snprintf(err, n, "%s: cannot resume: %d parameters missing (first: %s), %d with another shape (first: %s); "
                 "is this a checkpoint of the same model?", path, rep->missing, rep->first_missing,
                 rep->shape_mismatched, rep->first_mismatch);
        wb_st_free(&f);
        return WB_ERR_INVALID;
    }
    const char *it = wb_st_meta(&f, "iteration"), *ep = wb_st_meta(&f, "epoch");
    const char *steps = wb_st_meta(&f, "optimizer_steps");
    if (resume) {
        restore dry = {&f, true, 0, ""};
        wb_optimizer_visit_state(o, load_state, &dry);
        if (dry.missing || !it || !ep || !steps) {
            snprintf(err, n, "%s: cannot resume: the file has no trainer state%s%s (a weights-only file? use "
                     "load_from instead of --resume)", path, dry.missing ? "; missing optimizer state " : "",
                     dry.first_missing);
            wb_st_free(&f);
            return WB_ERR_INVALID;
        }
    }
    for (int i = 0; i < s->n_params; i++) {
        const wb_st_tensor *t = wb_st_find(&f, s->params[i].name);
        if (t && same_shape(t, s->params[i].tensor))
            s->backend->upload(s->params[i].tensor->data, t->data, (size_t)t->numel * sizeof(float));
    }
    if (resume) {
        restore r = {&f, false, 0, ""};
        wb_optimizer_visit_state(o, load_state, &r);
        st->iteration = strtoll(it, NULL, 10);
        st->epoch = strtoll(ep, NULL, 10);
        const char *best = wb_st_meta(&f, "best_score"), *best_name = wb_st_meta(&f, "best_checkpoint");
        st->has_best = best && best_name;
        st->best_score = best ? strtod(best, NULL) : 0.0;
        snprintf(st->best_name, sizeof st->best_name, "%s", best_name ? best_name : "");
        wb_optimizer_set_steps(o, strtoll(steps, NULL, 10));
    }
    wb_st_free(&f);
    return WB_OK;
}
