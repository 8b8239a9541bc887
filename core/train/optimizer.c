#include "optimizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "../backends/kernels_optim.h"

typedef struct slot {
    wb_tensor *param;
    float *state[2];
    float weight_decay;
} slot;

struct wb_optimizer {
    wb_session *s;
    wb_optim_config cfg;
    slot *slots;
    int n;
    int64_t steps;
};

wb_optimizer *wb_optimizer_create(wb_session *s, const wb_optim_config *cfg) {
    wb_optimizer *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->s = s;
    o->cfg = *cfg;
    o->slots = calloc((size_t)(s->n_params ? s->n_params : 1), sizeof *o->slots);
    if (!o->slots) {
        free(o);
        return NULL;
    }
    int n_state = cfg->type == WB_OPTIM_ADAMW ? 2 : (cfg->momentum != 0.0f ? 1 : 0);
    for (int i = 0; i < s->n_params; i++) {
        wb_tensor *p = s->params[i].tensor;
        if (!p->trainable) continue;
        slot *sl = &o->slots[o->n++];
        sl->param = p;
        sl->weight_decay = (p->ndim <= 1 && !cfg->decay_norm_and_bias) ? 0.0f : cfg->weight_decay;
        for (int k = 0; k < n_state; k++) {
            sl->state[k] = wb_arena_alloc(&s->weights, (size_t)p->numel * sizeof(float));
            if (!sl->state[k]) {
                wb_optimizer_destroy(o);
                return NULL;
            }
            s->backend->zero(sl->state[k], (size_t)p->numel * sizeof(float));
        }
    }
    return o;
}

void wb_optimizer_destroy(wb_optimizer *o) {
    if (!o) return;
    free(o->slots);
    free(o);
}

double wb_optimizer_step(wb_optimizer *o, float lr) {
    const wb_optim_kernels *k = o->s->backend->optim;
    double sq = 0.0;
    for (int i = 0; i < o->n; i++)
        if (o->slots[i].param->grad_valid) sq += k->sum_squares(o->slots[i].param->grad, o->slots[i].param->numel);
    double norm = sqrt(sq);
    float clip = 1.0f;
    if (o->cfg.grad_clip > 0.0f && norm > o->cfg.grad_clip) clip = (float)(o->cfg.grad_clip / (norm + 1e-6));
    o->steps++;
    for (int i = 0; i < o->n; i++) {
        slot *sl = &o->slots[i];
        wb_tensor *p = sl->param;
        if (!p->grad_valid) continue; /* a parameter this iteration did not reach */
        if (clip != 1.0f) k->scale(p->grad, p->numel, clip);
        if (o->cfg.type == WB_OPTIM_ADAMW) {
            wb_adamw_args a = {lr, o->cfg.beta1, o->cfg.beta2, o->cfg.eps, sl->weight_decay, o->steps};
            k->adamw(p->data, p->grad, sl->state[0], sl->state[1], p->numel, &a);
        } else {
            wb_sgd_args a = {lr, o->cfg.momentum, 0.0f, sl->weight_decay, o->cfg.nesterov, o->steps == 1};
            k->sgd(p->data, p->grad, sl->state[0], p->numel, &a);
        }
    }
    return norm;
}

int64_t wb_optimizer_steps(const wb_optimizer *o) { return o->steps; }
void wb_optimizer_set_steps(wb_optimizer *o, int64_t steps) { o->steps = steps; }

void wb_optimizer_visit_state(wb_optimizer *o, wb_optim_state_visit fn, void *user) {
    static const char *const sgd_names[] = {"momentum"};
    static const char *const adam_names[] = {"exp_avg", "exp_avg_sq"};
    const char *const *names = o->cfg.type == WB_OPTIM_ADAMW ? adam_names : sgd_names;
    for (int i = 0; i < o->n; i++) {
        for (int k = 0; k < 2 && o->slots[i].state[k]; k++) {
            char name[512];
            snprintf(name, sizeof name, "%s::%s", o->slots[i].param->name, names[k]);
            fn(user, name, o->slots[i].param, o->slots[i].state[k]);
        }
    }
}
