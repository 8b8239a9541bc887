#include "confusion_matrix.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "ap_per_class.h"

wb_status wb_confusion_init(wb_confusion *m, int num_classes) {
    m->num_classes = num_classes;
    m->counts = calloc((size_t)(num_classes + 1) * (num_classes + 1), sizeof *m->counts);
    return m->counts ? WB_OK : WB_ERR_NOMEM;
}

static void count(wb_confusion *m, int predicted, int truth) {
    int k = m->num_classes;
    if (predicted >= 0 && predicted <= k && truth >= 0 && truth <= k) m->counts[(size_t)predicted * (k + 1) + truth]++;
}

wb_status wb_confusion_add(wb_confusion *m, const float *det_boxes, const float *det_conf, const int *det_cls,
                           int n_det, const float *gt_boxes, const int *gt_cls, int n_gt) {
    int bg = m->num_classes;
    if (n_gt == 0) return WB_OK; /* val.py feeds only images with labels */
    int *kept = malloc((size_t)(n_det + 1) * sizeof *kept), *det_of_gt = malloc((size_t)n_gt * sizeof *det_of_gt);
    float *best_iou = malloc((size_t)(n_det + 1) * sizeof *best_iou);
    int *gt_of_det = malloc((size_t)(n_det + 1) * sizeof *gt_of_det);
    if (!kept || !det_of_gt || !best_iou || !gt_of_det) {
        free(kept), free(det_of_gt), free(best_iou), free(gt_of_det);
        return WB_ERR_NOMEM;
    }
    int n = 0;
    for (int i = 0; i < n_det; i++)
        if (det_conf[i] > WB_CONFUSION_CONF) kept[n++] = i;
    /* Each detection's best label over the IoU threshold, then each label's best detection among those. */
    for (int d = 0; d < n; d++) {
        gt_of_det[d] = -1;
        for (int j = 0; j < n_gt; j++) {
            float v = wb_ap_box_iou(gt_boxes + 4 * j, det_boxes + 4 * kept[d]);
            if (v > WB_CONFUSION_IOU && (gt_of_det[d] < 0 || v > best_iou[d])) gt_of_det[d] = j, best_iou[d] = v;
        }
    }
    bool any = false;
    for (int j = 0; j < n_gt; j++) {
        det_of_gt[j] = -1;
        for (int d = 0; d < n; d++)
            if (gt_of_det[d] == j && (det_of_gt[j] < 0 || best_iou[d] > best_iou[det_of_gt[j]])) det_of_gt[j] = d;
        any |= det_of_gt[j] >= 0;
    }
    for (int j = 0; j < n_gt; j++)
        count(m, det_of_gt[j] >= 0 ? det_cls[kept[det_of_gt[j]]] : bg, gt_cls[j]);
    for (int d = 0; any && d < n; d++) {
        bool matched = false;
        for (int j = 0; j < n_gt; j++) matched |= det_of_gt[j] == d;
        if (!matched) count(m, det_cls[kept[d]], bg);
    }
    free(kept), free(det_of_gt), free(best_iou), free(gt_of_det);
    return WB_OK;
}

void wb_confusion_normalized(const wb_confusion *m, double *out) {
    int k = m->num_classes + 1;
    for (int c = 0; c < k; c++) {
        double sum = 0.0;
        for (int r = 0; r < k; r++) sum += m->counts[(size_t)r * k + c];
        for (int r = 0; r < k; r++) out[(size_t)r * k + c] = m->counts[(size_t)r * k + c] / (sum + 1e-9);
    }
}

void wb_confusion_free(wb_confusion *m) {
    free(m->counts);
    m->counts = NULL;
}
