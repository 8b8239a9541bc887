/* `workbench confusion-matrix`: YOLOv5's confusion matrix of a checkpoint
 * on a split, or of a COCO results file against its ground truth, written
 * as confusion_matrix.png (core/plots) and confusion_matrix.csv. */
#ifndef WB_APP_CONFUSION_MATRIX_CMD_H
#define WB_APP_CONFUSION_MATRIX_CMD_H

#include <stddef.h>
#include "../eval/confusion_matrix.h"

/* The matrix of detections (COCO results JSON) against a COCO instances
 * file; names (n_classes + 1 entries, malloc'ed, the strings too) are the
 * categories in label order. */
wb_status wb_confusion_from_results(const char *gt_path, const char *results_path, wb_confusion *m, char ***names,
                                    char *err, size_t n);

/* DIR/confusion_matrix.png and DIR/confusion_matrix.csv: each true class's
 * column divided by its sum (YOLOv5's normalisation), predicted classes as
 * rows, true classes as columns, background last in both. */
wb_status wb_confusion_write(const wb_confusion *m, const char *const *names, const char *dir, char *err, size_t n);

#endif
