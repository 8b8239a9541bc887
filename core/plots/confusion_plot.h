/* confusion_matrix.png: YOLOv5's normalised confusion matrix (each true
 * class's column sums to 1; cells under 0.005 left blank), predicted
 * classes down, true classes across, background last in both; values
 * written in the cells when there are fewer than 30 classes. 1800 x 1350. */
#ifndef WB_CORE_PLOTS_CONFUSION_PLOT_H
#define WB_CORE_PLOTS_CONFUSION_PLOT_H

#include "../eval/confusion_matrix.h"

wb_status wb_confusion_plot(const wb_confusion *m, const char *const *names, const char *path, char *err,
                            size_t err_size);

#endif
