/* Same order of floating-point operations as pycocotools' accumulate, so the
 * interpolated precisions are bit-identical to numpy's. */
#pragma GCC optimize("fp-contract=off")

#include "coco_accumulate.h"

#include <float.h>
#include <stdlib.h>

bool wb_coco_accum_scratch_init(wb_coco_accum_scratch *s, size_t max_entries) {
    size_t n = max_entries ? max_entries : 1;
    s->ranked = malloc(n * sizeof *s->ranked);
    s->precision = malloc(n * sizeof *s->precision);
    s->recall = malloc(n * sizeof *s->recall);
    return s->ranked && s->precision && s->recall;
}

void wb_coco_accum_scratch_free(wb_coco_accum_scratch *s) {
    free(s->ranked);
    free(s->precision);
    free(s->recall);
}

/* Descending score, ties in concatenation order: numpy's stable mergesort
 * of -score, which pycocotools uses on purpose (to match the MATLAB API). */
static int by_score_then_index(const void *a, const void *b) {
    const struct wb_coco_ranked *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

void wb_coco_accumulate(const wb_coco_dt_eval *entries, size_t n, int max_det, int n_counted_gt,
                        wb_coco_accum_scratch *scratch, double *precision, size_t precision_stride,
                        double *recall, size_t recall_stride) {
    struct wb_coco_ranked *ranked = scratch->ranked;
    size_t nd = 0;
    for (size_t j = 0; j < n; j++)
        if (entries[j].rank < max_det) ranked[nd++] = (struct wb_coco_ranked){entries[j].score, (int)j};
    qsort(ranked, nd, sizeof *ranked, by_score_then_index);

    double *pr = scratch->precision, *rc = scratch->recall;
    for (int t = 0; t < WB_COCO_NUM_IOU; t++) {
        const unsigned bit = 1u << t;
        double tp = 0, fp = 0;
        for (size_t j = 0; j < nd; j++) {
            const wb_coco_dt_eval *e = &entries[ranked[j].index];
            if (!(e->ignored & bit)) {
                if (e->matched & bit) tp += 1;
                else fp += 1;
            }
            rc[j] = tp / n_counted_gt;
            pr[j] = tp / (fp + tp + DBL_EPSILON);   /* np.spacing(1) */
        }
        recall[t * recall_stride] = nd ? rc[nd - 1] : 0.0;

        /* Precision envelope: the best precision at this recall or beyond. */
        for (size_t j = nd > 0 ? nd - 1 : 0; j > 0; j--)
            if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];

        /* np.searchsorted(rc, recThrs, side='left'); thresholds beyond the
         * highest recall reached get precision 0. */
        size_t j = 0;
        for (int r = 0; r < WB_COCO_NUM_RECALL; r++) {
            double threshold = r * 0.01;   /* numpy.linspace(0, 1, 101) exactly */
            while (j < nd && rc[j] < threshold) j++;
            precision[t * precision_stride + (size_t)r] = j < nd ? pr[j] : 0.0;
        }
    }
}
