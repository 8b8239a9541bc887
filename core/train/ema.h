/* Exponential moving average of the weights, as mmdetection's ExpMomentumEMA
 * (mmdet/models/layers/ema.py), chosen over YOLOv5's ModelEMA because mmdet
 * configs set it with the same `momentum` (mmdet's default 0.0002 equals
 * YOLOv5's 1 - decay 0.9998; the warm-up ramps differ). After optimizer step
 * k (k = 0 first):
 *   k = 0:  avg = param
 *   k > 0:  m = (1 - momentum) * exp(-(1 + k) / gamma) + momentum
 *           avg = (1 - m) * avg + m * param
 * Buffers (BN running statistics) are copied, not averaged (mmengine's
 * default update_buffers = False). Averages are saved in checkpoints as
 * "ema.<name>" with the update count as metadata "ema_steps". */
#ifndef WB_CORE_EMA_H
#define WB_CORE_EMA_H

#include "../io/safetensors.h"
#include "../runtime/session.h"

typedef struct wb_ema wb_ema;

wb_ema *wb_ema_create(wb_session *s, float momentum, float gamma);
void wb_ema_destroy(wb_ema *e);
void wb_ema_update(wb_ema *e);
/* The momentum used by update number `steps` (0-based), for tests and logs. */
double wb_ema_momentum_at(float momentum, float gamma, int64_t steps);
/* Exchanges the session's weights with the averages (O(1), pointer swap):
 * call once to evaluate the EMA model, once more to get the weights back. */
void wb_ema_swap(wb_ema *e);
const float *wb_ema_average(const wb_ema *e, const char *name);

void wb_ema_save(const wb_ema *e, wb_st_writer *w);
/* Restores averages and the update count from a checkpoint; false with a
 * message when the file has no EMA state for some parameter. */
bool wb_ema_load(wb_ema *e, const wb_st_file *f, char *err, size_t err_size);

#endif
