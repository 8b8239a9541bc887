/* Loss scaling for fp16 training (amp = "fp16"), as torch.cuda.amp.GradScaler
 * and mmengine's AmpOptimWrapper do it. fp16's smallest normal number is
 * 6e-5: small gradients flush to zero unless the loss, and with it every
 * gradient, is multiplied by a large scale before backward. The optimizer
 * then multiplies the gradients by 1 / scale (the optim family's `scale`
 * kernel), checks them and steps only when all are finite:
 *   dynamic (train.loss_scale = "dynamic"): start at 2^16; an Inf or NaN
 *     gradient skips the step and halves the scale; 2000 finite steps in a
 *     row double it (torch's defaults);
 *   fixed (train.loss_scale = a number): the scale never changes; an Inf or
 *     NaN gradient still skips the step.
 * The state is trainer state: checkpoints hold it (loss_scale_* metadata) so
 * a resumed run scales exactly as the uninterrupted one. */
#ifndef WB_CORE_LOSS_SCALER_H
#define WB_CORE_LOSS_SCALER_H

#include <stdbool.h>
#include <stdint.h>
#include <workbench/types.h>
#include "../io/safetensors.h"

/* A run that skips this many steps in a row stops: at a dynamic scale that is
 * 2^-50 of where it was, so the gradients are not finite at any scale. */
#define WB_LOSS_SCALE_MAX_SKIPS_IN_A_ROW 50

typedef struct wb_loss_scale_cfg {
    bool enabled;              /* amp = "fp16"; off: the scale is 1 and nothing is skipped */
    bool dynamic;              /* false: the scale stays init_scale */
    double init_scale;
    double growth_factor, backoff_factor;
    int64_t growth_interval;   /* finite steps in a row before the scale grows */
} wb_loss_scale_cfg;

typedef struct wb_loss_scale_state {
    double scale;              /* 0: none recorded (no loss scaling) */
    int64_t good_steps;        /* finite steps since the scale last changed (torch's _growth_tracker) */
    int64_t skipped;           /* steps skipped over the run */
    int64_t skipped_in_a_row;
} wb_loss_scale_state;

/* torch's GradScaler defaults: 2^16, x2 every 2000 finite steps, x0.5 on Inf/NaN. */
wb_loss_scale_cfg wb_loss_scale_dynamic(void);
/* A fixed scale (> 0). */
wb_loss_scale_cfg wb_loss_scale_fixed(double scale);

/* The state a run starts from; a resumed dynamic run keeps the checkpoint's
 * (resumed true and s->scale > 0), a fixed one always takes its own scale. */
void wb_loss_scale_begin(const wb_loss_scale_cfg *c, wb_loss_scale_state *s, bool resumed);

/* What the loss is multiplied by before backward, and the factor that undoes it. */
float wb_loss_scale_factor(const wb_loss_scale_cfg *c, const wb_loss_scale_state *s);
float wb_loss_scale_unscale(const wb_loss_scale_cfg *c, const wb_loss_scale_state *s);

/* After a step's gradients were unscaled and checked: finite true counts a
 * good step (and grows a dynamic scale after growth_interval of them);
 * false counts a skipped step (and backs a dynamic scale off). Returns
 * whether the optimizer step stands. */
bool wb_loss_scale_update(const wb_loss_scale_cfg *c, wb_loss_scale_state *s, bool finite);

/* Checkpoint metadata: loss_scale, loss_scale_good_steps, loss_scale_skipped,
 * loss_scale_skipped_in_a_row; nothing when s->scale is 0. */
void wb_loss_scale_write_meta(const wb_loss_scale_state *s, wb_st_writer *w);
/* The same read back: all four or none (then s is zeroed); a bad value is
 * WB_ERR_INVALID with the key, the value and path in err. */
wb_status wb_loss_scale_read_meta(wb_loss_scale_state *s, const wb_st_file *f, const char *path, char *err,
                                  size_t err_size);

#endif
