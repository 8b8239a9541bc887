/* pycocotools' computeIoU (maskApi.c bbIou) and evaluateImg, step for step:
 * the numbers must come out bit-identical, so the arithmetic keeps
 * pycocotools' order of operations and no multiply-add is fused (the
 * reference is built without FMA; -march=native would otherwise contract
 * `da + ga - w * h`). */
#pragma GCC optimize("fp-contract=off")

#include "coco_match.h"

#include <math.h>
#include <stdlib.h>

const double wb_coco_iou_thrs[WB_COCO_NUM_IOU] = {
    0x1.0000000000000p-1, 0x1.199999999999ap-1, 0x1.3333333333333p-1, 0x1.4cccccccccccdp-1,
    0x1.6666666666666p-1, 0x1.8000000000000p-1, 0x1.999999999999ap-1, 0x1.b333333333333p-1,
    0x1.cccccccccccccp-1, 0x1.e666666666666p-1,
};
const double wb_coco_area_ranges[WB_COCO_NUM_AREAS][2] = {
    {0.0, 1e10}, {0.0, 1024.0}, {1024.0, 9216.0}, {9216.0, 1e10}};
const char *const wb_coco_area_names[WB_COCO_NUM_AREAS] = {"all", "small", "medium", "large"};
const int wb_coco_max_dets[WB_COCO_NUM_MAXDETS] = {1, 10, 100};

/* Descending score; equal scores keep results order. The cell's pointers all
 * point into one detection array in that order, so comparing addresses is
 * comparing original positions. */
static int by_score_then_position(const void *a, const void *b) {
    const wb_coco_detection *x = *(const wb_coco_detection *const *)a;
    const wb_coco_detection *y = *(const wb_coco_detection *const *)b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x > y) - (x < y);
}

/* bbIou: crowd regions divide by the detection's own area, so a detection
 * inside a crowd region overlaps it fully whatever the region's size. */
static double box_iou(const wb_coco_detection *d, const wb_coco_annotation *g) {
    const double *G = g->bbox;
    double da = d->w * d->h, ga = G[2] * G[3];
    double w = fmin(d->w + d->x, G[2] + G[0]) - fmax(d->x, G[0]);
    if (w <= 0) return 0.0;
    double h = fmin(d->h + d->y, G[3] + G[1]) - fmax(d->y, G[1]);
    if (h <= 0) return 0.0;
    double inter = w * h;
    double uni = g->iscrowd ? da : da + ga - inter;
    return inter / uni;
}

void wb_coco_cell_prepare(wb_coco_cell *cell) {
    qsort(cell->dt, (size_t)cell->n_dt, sizeof *cell->dt, by_score_then_position);
    if (cell->n_dt > WB_COCO_MAX_DETS) cell->n_dt = WB_COCO_MAX_DETS;
    for (int d = 0; d < cell->n_dt; d++)
        for (int g = 0; g < cell->n_gt; g++) cell->iou[d * cell->n_gt + g] = box_iou(cell->dt[d], cell->gt[g]);
}

static bool outside(double area, const double range[2]) { return area < range[0] || area > range[1]; }

int wb_coco_cell_match(const wb_coco_cell *cell, const double area_range[2], int *gt_scratch,
                       wb_coco_dt_eval *out) {
    const int G = cell->n_gt, D = cell->n_dt;
    int *order = gt_scratch, *ignore = gt_scratch + G, *taken = gt_scratch + 2 * G;

    /* Ground truth that counts first, ignored after, each in file order. */
    int n = 0;
    for (int g = 0; g < G; g++) {
        ignore[g] = cell->gt[g]->iscrowd || outside(cell->gt[g]->area, area_range);
        if (!ignore[g]) order[n++] = g;
    }
    const int n_counted = n;
    for (int g = 0; g < G; g++)
        if (ignore[g]) order[n++] = g;

    for (int d = 0; d < D; d++) out[d] = (wb_coco_dt_eval){.score = cell->dt[d]->score, .rank = d};

    for (int t = 0; t < WB_COCO_NUM_IOU; t++) {
        for (int g = 0; g < G; g++) taken[g] = 0;
        for (int d = 0; d < D; d++) {
            const double *iou = cell->iou + (size_t)d * G;
            double best = fmin(wb_coco_iou_thrs[t], 1 - 1e-10);
            int m = -1;
            for (int k = 0; k < G; k++) {
                int g = order[k];
                if (taken[g] && !cell->gt[g]->iscrowd) continue;   /* crowd regions match many times */
                if (m > -1 && !ignore[m] && ignore[g]) break;      /* a real match beats any ignored one */
                if (iou[g] < best) continue;
                best = iou[g];
                m = g;
            }
            if (m == -1) continue;
            taken[m] = 1;
            if (ignore[m]) out[d].ignored |= (uint16_t)(1u << t);
            /* pycocotools records the matched annotation's id and reads 0 as
             * "unmatched": an annotation with id 0 never yields a true positive. */
            if (cell->gt[m]->id != 0) out[d].matched |= (uint16_t)(1u << t);
        }
    }

    /* Unmatched detections outside the area range are not false positives. */
    for (int d = 0; d < D; d++)
        if (outside(cell->dt[d]->w * cell->dt[d]->h, area_range))
            out[d].ignored |= (uint16_t)~out[d].matched & ((1u << WB_COCO_NUM_IOU) - 1);
    return n_counted;
}
