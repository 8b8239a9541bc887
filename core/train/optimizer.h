/* Optimizers over the session's trainable parameters (torch.optim semantics).
 * State (momentum, Adam moments) lives in the weights arena, on the backend.
 *
 * Parameter groups follow mmcv's DefaultOptimizerConstructor (paramwise_cfg):
 * a parameter whose dotted name matches a custom rule gets that rule's lr and
 * decay multipliers and nothing else (the longest matching pattern wins, as
 * mmcv sorts custom_keys by length); otherwise the bias of a non-norm layer
 * gets bias_decay_mult and the weight and bias of a norm layer get
 * norm_decay_mult. A norm layer is recognised by its 1-D `weight` (conv and
 * linear weights have at least 2 dimensions). With both multipliers 0 (the
 * defaults) these are YOLOv5's three groups (smart_optimizer): weights with
 * decay, norm weights without, biases without; every parameter named `bias`
 * also takes the step's bias_lr (YOLOv5's warmup_bias_lr). */
#ifndef WB_CORE_OPTIMIZER_H
#define WB_CORE_OPTIMIZER_H

#include "../runtime/session.h"
#include "step_params.h"

typedef enum wb_optim_type { WB_OPTIM_SGD = 0, WB_OPTIM_ADAMW = 1 } wb_optim_type;

#define WB_MAX_PARAM_RULES 16

typedef struct wb_param_rule {
    char pattern[128];  /* substring of the dotted name, or a glob (fnmatch) when it has * ? or [ */
    float lr_mult, decay_mult;
} wb_param_rule;

typedef struct wb_optim_config {
    wb_optim_type type;
    float lr, momentum, weight_decay;
    int nesterov;
    float beta1, beta2, eps;      /* AdamW */
    float grad_clip;              /* max global L2 norm (torch's clip_grad_norm_); 0 = off */
    float norm_decay_mult;        /* weight decay factor of norm layers' weight and bias */
    float bias_decay_mult;        /* weight decay factor of the other layers' biases */
    wb_param_rule rules[WB_MAX_PARAM_RULES];
    int n_rules;
} wb_optim_config;

typedef struct wb_optimizer wb_optimizer;

wb_optimizer *wb_optimizer_create(wb_session *s, const wb_optim_config *cfg);
void wb_optimizer_destroy(wb_optimizer *o);
/* One step at base learning rate lr over every parameter with a gradient;
 * returns the global gradient norm before clipping. When that norm is NaN or
 * Inf nothing is updated (not even the step count). */
double wb_optimizer_step(wb_optimizer *o, float lr);
/* The same after K accumulated iterations: the summed gradients are first
 * multiplied by grad_scale (1/K, as if each loss had been divided by K), then
 * clipped; the norm returned is that of the scaled gradients. */
double wb_optimizer_step_scaled(wb_optimizer *o, float lr, float grad_scale);
/* The general step: lr, the biases' lr and momentum as the schedule says. */
double wb_optimizer_step_with(wb_optimizer *o, const wb_step_params *p);
int64_t wb_optimizer_steps(const wb_optimizer *o);

/* The multipliers the groups give the parameter `name`; false when the
 * optimizer does not update it. */
bool wb_optimizer_param_group(const wb_optimizer *o, const char *name, float *lr_mult, float *weight_decay);

/* Optimizer state for checkpoints: per parameter, up to two state tensors
 * named "<param>::momentum" / "::exp_avg" / "::exp_avg_sq". */
typedef void (*wb_optim_state_visit)(void *user, const char *name, const wb_tensor *param, float *state);
void wb_optimizer_visit_state(wb_optimizer *o, wb_optim_state_visit fn, void *user);
void wb_optimizer_set_steps(wb_optimizer *o, int64_t steps);

#endif
