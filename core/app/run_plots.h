/* The files YOLOv5 users read first in a run's work dir, written beside
 * log.json by `workbench run` for any detector:
 *   labels.jpg                 the training labels (before training)
 *   train_batch0..2.jpg        the first three augmented training batches
 *   results.csv, results.png   per-epoch losses, metrics and learning rates, from log.json
 *   val_batch0_labels.jpg / val_batch0_pred.jpg, PR_curve.png, F1_curve.png,
 *   P_curve.png, R_curve.png, confusion_matrix.png   from the last validation
 * A picture that cannot be written is a warning, never a failed run. */
#ifndef WB_CORE_APP_RUN_PLOTS_H
#define WB_CORE_APP_RUN_PLOTS_H

#include "../plots/batch_pixels.h"
#include "data_split.h"
#include "evaluate.h"

/* labels.jpg from every training sample's boxes (image sizes from the
 * dataset, else from the image file's header). */
void wb_run_plot_labels(const wb_data_split *train, wb_session *s, const char *const *names, int num_classes,
                        const char *work_dir);
/* train_batch<index>.jpg from a N x 3 x H x W batch and its truth. */
void wb_run_plot_train_batch(const float *images, const int64_t shape[4], const wb_batch_truth *truth, int index,
                             const wb_denorm *dn, const char *const *names, int num_classes, const char *work_dir);
/* results.csv and results.png from work_dir/log.json. */
void wb_run_plot_results(const char *work_dir);
/* The validation files from rec; names label the batch pictures (the model's classes). */
void wb_run_plot_validation(const wb_val_record *rec, const char *const *names, int num_classes,
                            const char *work_dir);

#endif
