#include "dist_eval.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../dist/dist.h"

bool wb_dist_counts_push(wb_dist_counts *c, int64_t v) {
    if (c->len == c->cap) {
        int64_t cap = c->cap ? 2 * c->cap : 256;
        int64_t *grown = realloc(c->n, (size_t)cap * sizeof *grown);
        if (!grown) return false;
        c->n = grown;
        c->cap = cap;
    }
    c->n[c->len++] = v;
    return true;
}

/* Failures, images, val-loss batches, whether a rank's val loss is off, and the loss sums, over the ranks. */
static wb_status sum_totals(wb_status st, int64_t *images, wb_val_loss *vl, char *err, size_t n) {
    double t[4 + WB_MAX_LOSS_TERMS] = {st != WB_OK, (double)*images, (double)vl->batches, vl->off};
    for (int k = 0; k < vl->n_terms; k++) t[4 + k] = vl->sums[k];
    char why[256];
    if (wb_dist_sum_f64(t, 4 + WB_MAX_LOSS_TERMS, why, sizeof why) != WB_OK) {
        snprintf(err, n, "%s", why);
        return WB_ERR_IO;
    }
    if (st != WB_OK) return st;
    if (t[0] > 0) {
        snprintf(err, n, "evaluation failed on %d other rank%s (the message is above)", (int)t[0], t[0] > 1 ? "s" : "");
        return WB_ERR_INTERNAL;
    }
    *images = (int64_t)t[1];
    vl->batches = (int64_t)t[2];
    vl->off = t[3] > 0;
    for (int k = 0; k < vl->n_terms; k++) vl->sums[k] = t[4 + k];
    return WB_OK;
}

/* Image i of the split is image i / world of rank i % world: the detections
 * in that order, each image's as its rank made them. */
static wb_status interleave(const wb_coco_detection *dets, const int64_t *det_bytes, const int64_t *counts,
                            const int64_t *count_bytes, int world, wb_coco_detection_list *out) {
    int64_t det_at[world], count_at[world], count_end[world], d = 0, c = 0, left = 0;
    for (int r = 0; r < world; r++) {
        det_at[r] = d;
        count_at[r] = c;
        d += det_bytes[r] / (int64_t)sizeof *dets;
        c += count_bytes[r] / (int64_t)sizeof *counts;
        count_end[r] = c;
        left += count_end[r] - count_at[r];
    }
    out->n = 0;
    for (int64_t i = 0; left > 0; i++) {
        int r = (int)(i % world);
        if (count_at[r] == count_end[r]) continue; /* a shard one shorter, or bad samples skipped */
        for (int64_t k = 0; k < counts[count_at[r]]; k++)
            if (!wb_coco_detection_push(out, dets[det_at[r]++])) return WB_ERR_NOMEM;
        count_at[r]++;
        left--;
    }
    return WB_OK;
}

wb_status wb_dist_eval_gather(wb_status st, wb_coco_detection_list *dl, wb_dist_counts *per_image, int64_t *images,
                              wb_val_loss *vl, char *err, size_t n) {
    int world = wb_dist_world();
    st = sum_totals(st, images, vl, err, n);
    void *dets = NULL, *counts = NULL;
    int64_t det_bytes[world], count_bytes[world];
    char why[256];
    if (st == WB_OK && (wb_dist_gather(dl->d, (int64_t)(dl->n * sizeof *dl->d), &dets, det_bytes, why, sizeof why) !=
                            WB_OK ||
                        wb_dist_gather(per_image->n, per_image->len * (int64_t)sizeof *per_image->n, &counts,
                                       count_bytes, why, sizeof why) != WB_OK)) {
        snprintf(err, n, "%s", why);
        st = WB_ERR_IO;
    }
    if (st == WB_OK && wb_dist_is_root()) {
        st = interleave(dets, det_bytes, counts, count_bytes, world, dl);
        if (st != WB_OK) snprintf(err, n, "out of memory gathering the ranks' detections");
    }
    free(dets), free(counts), free(per_image->n);
    memset(per_image, 0, sizeof *per_image);
    return st;
}

wb_status wb_dist_eval_result(wb_status st, wb_eval_result *res, char *err, size_t n) {
    struct {
        int st;
        wb_eval_result res;
        char err[1024];
    } *out = calloc(1, sizeof *out);
    if (!out) wb_dist_abort(1); /* the other ranks wait in the broadcast */
    out->st = st;
    out->res = *res;
    snprintf(out->err, sizeof out->err, "%s", st == WB_OK ? "" : err);
    char why[256];
    wb_status rc = wb_dist_broadcast(out, (int64_t)sizeof *out, 0, why, sizeof why);
    if (rc != WB_OK) snprintf(err, n, "%s", why);
    if (rc == WB_OK && !wb_dist_is_root()) {
        *res = out->res;
        rc = out->st;
        if (rc != WB_OK) snprintf(err, n, "%s", out->err);
    } else if (rc == WB_OK) {
        rc = st;
    }
    free(out);
    return rc;
}
