/* Optimizers over the session's trainable parameters (torch.optim semantics).
 * State (momentum, Adam moments) lives in the weights arena, on the backend. */
#ifndef WB_CORE_OPTIMIZER_H
#define WB_CORE_OPTIMIZER_H

#include "../runtime/session.h"

typedef enum wb_optim_type { WB_OPTIM_SGD = 0, WB_OPTIM_ADAMW = 1 } wb_optim_type;

typedef struct wb_optim_config {
    wb_optim_type type;
    float lr, momentum, weight_decay;
    int nesterov;
    float beta1, beta2, eps;      /* AdamW */
    float grad_clip;              /* max global L2 norm; 0 = off */
    int decay_norm_and_bias;      /* 0: no weight decay on 1-D params (norms, biases), like mmdet's paramwise cfg */
} wb_optim_config;

typedef struct wb_optimizer wb_optimizer;

wb_optimizer *wb_optimizer_create(wb_session *s, const wb_optim_config *cfg);
void wb_optimizer_destroy(wb_optimizer *o);
/* One step at learning rate lr over every parameter with a gradient; returns
 * the global gradient norm before clipping. */
double wb_optimizer_step(wb_optimizer *o, float lr);
int64_t wb_optimizer_steps(const wb_optimizer *o);

/* Optimizer state for checkpoints: per parameter, up to two state tensors
 * named "<param>::momentum" / "::exp_avg" / "::exp_avg_sq". */
typedef void (*wb_optim_state_visit)(void *user, const char *name, const wb_tensor *param, float *state);
void wb_optimizer_visit_state(wb_optimizer *o, wb_optim_state_visit fn, void *user);
void wb_optimizer_set_steps(wb_optimizer *o, int64_t steps);

#endif
