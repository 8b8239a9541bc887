#include "optimizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../backends/kernels_optim.h"
#include "param_groups.h"

typedef struct slot {
    wb_tensor *param;
    float *state[2];
    wb_param_group group;
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
        sl->group = wb_param_group_of(s, p, cfg);
        for (int k = 0; k < n_state; k++) {
            sl->state[k] = wb_arena_alloc(s->weight_data, (size_t)p->numel * sizeof(float));
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

double wb_optimizer_step(wb_optimizer *o, float lr) { return wb_optimizer_step_scaled(o, lr, 1.0f); }

double wb_optimizer_step_scaled(wb_optimizer *o, float lr, float grad_scale) {
    wb_step_params p = {lr, lr, o->cfg.momentum, grad_scale};
    return wb_optimizer_step_with(o, &p);
}

double wb_optimizer_step_with(wb_optimizer *o, const wb_step_params *sp) {
    const wb_optim_kernels *k = o->s->backend->optim;
    float grad_scale = sp->grad_scale;
    double sq = 0.0;
    for (int i = 0; i < o->n; i++) {
        wb_tensor *p = o->slots[i].param;
        if (!p->grad_valid) continue;
        if (grad_scale != 1.0f) k->scale(p->grad, p->numel, grad_scale);
        sq += k->sum_squares(p->grad, p->numel);
    }
    double norm = sqrt(sq);
    /* A NaN or Inf gradient would make every weight it reaches NaN: leave
     * them as they are and let the caller stop the run. */
    if (!isfinite(norm)) return norm;
    /* torch's clip_grad_norm_: scaled whenever max_norm / (norm + 1e-6) < 1. */
    double coef = o->cfg.grad_clip > 0.0f ? o->cfg.grad_clip / (norm + 1e-6) : 1.0;
    float clip = coef < 1.0 ? (float)coef : 1.0f;
    o->steps++;
    for (int i = 0; i < o->n; i++) {
        slot *sl = &o->slots[i];
        wb_tensor *p = sl->param;
        if (!p->grad_valid) continue; /* a parameter this iteration did not reach */
        if (clip != 1.0f) k->scale(p->grad, p->numel, clip);
        float group_lr = (sl->group.bias ? sp->bias_lr : sp->lr) * sl->group.lr_mult;
        if (o->cfg.type == WB_OPTIM_ADAMW) {
            wb_adamw_args a = {group_lr, o->cfg.beta1, o->cfg.beta2, o->cfg.eps, sl->group.weight_decay, o->steps};
            k->adamw(p->data, p->grad, sl->state[0], sl->state[1], p->numel, &a);
        } else {
            wb_sgd_args a = {group_lr, sp->momentum, 0.0f, sl->group.weight_decay, o->cfg.nesterov, o->steps == 1};
            k->sgd(p->data, p->grad, sl->state[0], p->numel, &a);
        }
    }
    return norm;
}

int64_t wb_optimizer_steps(const wb_optimizer *o) { return o->steps; }
void wb_optimizer_set_steps(wb_optimizer *o, int64_t steps) { o->steps = steps; }

bool wb_optimizer_param_group(const wb_optimizer *o, const char *name, float *lr_mult, float *weight_decay) {
    for (int i = 0; i < o->n; i++) {
        if (strcmp(o->slots[i].param->name, name) != 0) continue;
        *lr_mult = o->slots[i].group.lr_mult;
        *weight_decay = o->slots[i].group.weight_decay;
        return true;
    }
    return false;
}

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
