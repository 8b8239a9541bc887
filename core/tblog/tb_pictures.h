/* Pictures of a validation's predictions for TensorBoard: the first images of
 * the validation's batch picture, each with its detections drawn (boxes and
 * "class score" plates, as the other pictures of a run) and PNG-encoded. */
#ifndef WB_CORE_TBLOG_TB_PICTURES_H
#define WB_CORE_TBLOG_TB_PICTURES_H

#include <stdint.h>
#include "../plots/batch_plot.h"
#include "event_file.h"

/* How many validation images a TensorBoard log shows per evaluation. */
#define WB_TB_PICTURES 4

/* Writes val/prediction_<i> images at step, i < WB_TB_PICTURES; detections
 * scoring at most 0.25 are left out, as in val_batch0_pred.jpg. */
void wb_tb_pictures(wb_event_file *tb, const wb_plot_batch *pred, const char *const *names, int num_names,
                    int64_t step);

#endif
