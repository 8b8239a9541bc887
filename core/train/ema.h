/* Exponential moving average of the weights, in two styles that share one
 * formula. After optimizer step k (k = 0 first):
 *   m = (1 - momentum) * exp(-(1 + k) / gamma) + momentum
 *   avg = (1 - m) * avg + m * param
 * which is YOLOv5's ModelEMA (utils/torch_utils.py) with decay = 1 - momentum
 * and tau = gamma: 1 - m = decay * (1 - exp(-updates / tau)), updates = k + 1.
 *   mmdet:  mmdetection's ExpMomentumEMA (mmdet/models/layers/ema.py) on
 *           mmengine's BaseAveragedModel: update k = 0 copies the weights;
 *   yolov5: ModelEMA: every update averages, starting from the weights the
 *           EMA was created with (those before training).
 * Buffers (BN running statistics) are averaged too with update_buffers, as
 * ModelEMA does (every float state_dict entry); otherwise they are copied
 * (mmengine's default update_buffers = False). Averages are saved in
 * checkpoints as "ema.<name>" with the update count as metadata "ema_steps". */
#ifndef WB_CORE_EMA_H
#define WB_CORE_EMA_H

#include "../io/safetensors.h"
#include "../runtime/host_copy.h"
#include "../runtime/session.h"

typedef enum wb_ema_style { WB_EMA_MMDET = 0, WB_EMA_YOLOV5 } wb_ema_style;

typedef struct wb_ema_config {
    wb_ema_style style;
    float momentum, gamma;
    bool update_buffers;
} wb_ema_config;

typedef struct wb_ema wb_ema;

wb_ema *wb_ema_create(wb_session *s, const wb_ema_config *cfg);
void wb_ema_destroy(wb_ema *e);
void wb_ema_update(wb_ema *e);
/* The momentum used by update number `steps` (0-based), for tests and logs. */
double wb_ema_momentum_at(float momentum, float gamma, int64_t steps);
/* Exchanges the session's weights with the averages (O(1), pointer swap):
 * call once to evaluate the EMA model, once more to get the weights back. */
void wb_ema_swap(wb_ema *e);
/* The average of a parameter, in backend memory. */
const float *wb_ema_average(const wb_ema *e, const char *name);

/* Adds the averages to w; on a device backend their host copies are kept in
 * `copies` until the caller has written w. */
void wb_ema_save(const wb_ema *e, wb_st_writer *w, wb_host_copies *copies);
/* Restores averages and the update count from a checkpoint; false with a
 * message when the file has no EMA state for some parameter. */
bool wb_ema_load(wb_ema *e, const wb_st_file *f, char *err, size_t err_size);

#endif
