/* YOLOv5's metric curves from ap_per_class: PR_curve.png (precision against
 * recall at IoU 0.5, per class and the mean, with the mAP@0.5 in the
 * legend) and F1_curve.png, P_curve.png, R_curve.png (against confidence;
 * the class mean smoothed as YOLOv5 does, its best value in the legend).
 * Classes are named in the legend when there are fewer than 21, else drawn
 * as thin grey lines. 1600 x 1200 pixels each. */
#ifndef WB_CORE_PLOTS_CURVES_PLOT_H
#define WB_CORE_PLOTS_CURVES_PLOT_H

#include "../eval/ap_per_class.h"

/* Writes the four files into dir; names indexed by label (NULL: numbers). */
wb_status wb_curves_plot(const wb_ap_result *r, const char *const *names, const char *dir, char *err,
                         size_t err_size);

#endif
