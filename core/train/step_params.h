/* What one optimizer step uses, as the schedule gives it for an iteration:
 * YOLOv5's warmup moves the biases' lr and the momentum apart from the rest. */
#ifndef WB_CORE_STEP_PARAMS_H
#define WB_CORE_STEP_PARAMS_H

typedef struct wb_step_params {
    float lr;          /* every parameter, times its group's lr_mult */
    float bias_lr;     /* parameters named *.bias (equal to lr outside YOLOv5's warmup) */
    float momentum;    /* sgd */
    float grad_scale;  /* applied to the accumulated gradients first: 1/K for the mean of K iterations */
} wb_step_params;

#endif
