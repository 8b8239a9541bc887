#include "ema.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../backends/kernels_optim.h"

struct wb_ema {
    wb_session *s;
    wb_ema_config cfg;
    int64_t steps;
    float **avg;  /* per session parameter, same order */
};

wb_ema *wb_ema_create(wb_session *s, const wb_ema_config *cfg) {
    wb_ema *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    e->s = s;
    e->cfg = *cfg;
    e->avg = calloc((size_t)(s->n_params ? s->n_params : 1), sizeof *e->avg);
    if (!e->avg) {
        free(e);
        return NULL;
    }
    for (int i = 0; i < s->n_params; i++) {
        const wb_tensor *t = s->params[i].tensor;
        size_t bytes = (size_t)t->numel * sizeof(float);
        e->avg[i] = wb_arena_alloc(s->weight_data, bytes);
        if (!e->avg[i]) {
            wb_ema_destroy(e);
            return NULL;
        }
        s->backend->copy(e->avg[i], t->data, bytes);
    }
    return e;
}

void wb_ema_destroy(wb_ema *e) {
    if (!e) return;
    free(e->avg);
    free(e);
}

double wb_ema_momentum_at(float momentum, float gamma, int64_t steps) {
    return (1.0 - momentum) * exp(-(double)(1 + steps) / gamma) + momentum;
}

void wb_ema_update(wb_ema *e) {
    wb_session *s = e->s;
    float m = (float)wb_ema_momentum_at(e->cfg.momentum, e->cfg.gamma, e->steps);
    bool copy_all = e->steps == 0 && e->cfg.style == WB_EMA_MMDET;
    for (int i = 0; i < s->n_params; i++) {
        const wb_tensor *t = s->params[i].tensor;
        /* Frozen parameters are averaged as the rest: the same values, as in both originals. */
        bool copy = copy_all || (s->params[i].is_buffer && !e->cfg.update_buffers);
        if (copy) s->backend->copy(e->avg[i], t->data, (size_t)t->numel * sizeof(float));
        else s->backend->optim->ema(e->avg[i], t->data, t->numel, m);
    }
    e->steps++;
}

void wb_ema_swap(wb_ema *e) {
    for (int i = 0; i < e->s->n_params; i++) {
        wb_tensor *t = e->s->params[i].tensor;
        float *weights = t->data;
        t->data = e->avg[i];
        e->avg[i] = weights;
    }
}

const float *wb_ema_average(const wb_ema *e, const char *name) {
    for (int i = 0; i < e->s->n_params; i++)
        if (strcmp(e->s->params[i].name, name) == 0) return e->avg[i];
    return NULL;
}

void wb_ema_save(const wb_ema *e, wb_st_writer *w, wb_host_copies *copies) {
    char name[1024], num[32];
    for (int i = 0; i < e->s->n_params; i++) {
        const wb_tensor *t = e->s->params[i].tensor;
        snprintf(name, sizeof name, "ema.%s", e->s->params[i].name);
        const float *avg = wb_host_copies_read(copies, e->avg[i], t->numel);
        if (avg) wb_st_writer_add(w, name, t->ndim, t->shape, avg);
    }
    snprintf(num, sizeof num, "%" PRId64, e->steps);
    wb_st_writer_meta(w, "ema_steps", num);
}

bool wb_ema_load(wb_ema *e, const wb_st_file *f, char *err, size_t n) {
    const char *steps = wb_st_meta(f, "ema_steps");
    char name[1024];
    if (steps && (!steps[0] || steps[strspn(steps, "0123456789")] || strlen(steps) > 18)) {
        snprintf(err, n, "__metadata__.ema_steps is not a count of updates (the file is damaged?)");
        return false;
    }
    /* Check everything first: a failed load changes nothing. */
    for (int i = 0; i < e->s->n_params; i++) {
        snprintf(name, sizeof name, "ema.%s", e->s->params[i].name);
        const wb_st_tensor *t = wb_st_find(f, name);
        if (!steps || !t || t->numel != e->s->params[i].tensor->numel) {
            snprintf(err, n, "no EMA state for %s (a checkpoint of a run without ema.enable?)", name);
            return false;
        }
    }
    for (int i = 0; i < e->s->n_params; i++) {
        snprintf(name, sizeof name, "ema.%s", e->s->params[i].name);
        const wb_st_tensor *t = wb_st_find(f, name);
        if (t->numel > 0) e->s->backend->upload(e->avg[i], t->data, (size_t)t->numel * sizeof(float));
    }
    e->steps = strtoll(steps, NULL, 10);
    return true;
}
