#define _GNU_SOURCE /* qsort_r */
#include "val_stats.h"

#include <stdlib.h>
#include <string.h>

static int label_of(const wb_coco_gt *gt, int64_t category_id) {
    for (int k = 0; k < gt->n_categories; k++)
        if (gt->categories[k].id == category_id) return k;
    return -1;
}

/* Detections by image, then by score, highest first (NMS's order); ties keep their order. */
static int det_order(const void *a, const void *b, void *dets) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    const wb_coco_detection *x = (const wb_coco_detection *)dets + i, *y = (const wb_coco_detection *)dets + j;
    if (x->image_id != y->image_id) return x->image_id < y->image_id ? -1 : 1;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (i > j) - (i < j);
}

static int ann_order(const void *a, const void *b, void *anns) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int64_t x = ((const wb_coco_annotation *)anns)[i].image_id, y = ((const wb_coco_annotation *)anns)[j].image_id;
    if (x != y) return x < y ? -1 : 1;
    return (i > j) - (i < j);
}

static int by_id(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

wb_status wb_val_stats(const wb_coco_gt *gt, const wb_coco_detection *dets, size_t n_dets, wb_ap_stats *stats,
                       wb_confusion *cm) {
    int nc = gt->n_categories;
    memset(cm, 0, sizeof *cm);
    wb_status st = wb_ap_stats_init(stats, nc);
    if (st == WB_OK) st = wb_confusion_init(cm, nc);
    size_t n_anns = (size_t)gt->n_annotations;
    size_t *di = malloc((n_dets + 1) * sizeof *di), *ai = malloc((n_anns + 1) * sizeof *ai);
    int64_t *ids = malloc(((size_t)gt->n_images + 1) * sizeof *ids);
    float *db = malloc((n_dets + 1) * 4 * sizeof *db), *dc = malloc((n_dets + 1) * sizeof *dc);
    float *gb = malloc((n_anns + 1) * 4 * sizeof *gb);
    int *dl = malloc((n_dets + 1) * sizeof *dl), *gl = malloc((n_anns + 1) * sizeof *gl);
    if (st != WB_OK || !di || !ai || !ids || !db || !dc || !gb || !dl || !gl) {
        st = WB_ERR_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n_dets; i++) di[i] = i;
    for (size_t i = 0; i < n_anns; i++) ai[i] = i;
    qsort_r(di, n_dets, sizeof *di, det_order, (void *)dets);
    qsort_r(ai, n_anns, sizeof *ai, ann_order, gt->annotations);
    if (gt->n_images > 0) memcpy(ids, gt->image_ids, (size_t)gt->n_images * sizeof *ids);
    qsort(ids, (size_t)gt->n_images, sizeof *ids, by_id);
    size_t d = 0, a = 0;
    for (int im = 0; im < gt->n_images && st == WB_OK; im++) {
        if (im > 0 && ids[im] == ids[im - 1]) continue;
        int64_t id = ids[im];
        while (d < n_dets && dets[di[d]].image_id < id) d++; /* detections of images not in the ground truth */
        while (a < n_anns && gt->annotations[ai[a]].image_id < id) a++;
        int nd = 0, ng = 0;
        for (; d < n_dets && dets[di[d]].image_id == id; d++) {
            const wb_coco_detection *x = &dets[di[d]];
            int label = label_of(gt, x->category_id);
            if (label < 0) continue;
            float *b = db + 4 * nd;
            b[0] = (float)x->x, b[1] = (float)x->y, b[2] = (float)(x->x + x->w), b[3] = (float)(x->y + x->h);
            dc[nd] = (float)x->score, dl[nd++] = label;
        }
        for (; a < n_anns && gt->annotations[ai[a]].image_id == id; a++) {
            const wb_coco_annotation *g = &gt->annotations[ai[a]];
            int label = label_of(gt, g->category_id);
            if (g->iscrowd || label < 0) continue;
            float *b = gb + 4 * ng;
            b[0] = (float)g->bbox[0], b[1] = (float)g->bbox[1];
            b[2] = (float)(g->bbox[0] + g->bbox[2]), b[3] = (float)(g->bbox[1] + g->bbox[3]);
            gl[ng++] = label;
        }
        if (nd == 0 && ng == 0) continue; /* val.py: nothing to count */
        st = wb_ap_stats_add(stats, db, dc, dl, nd, gb, gl, ng);
        if (st == WB_OK) st = wb_confusion_add(cm, db, dc, dl, nd, gb, gl, ng);
    }
    /* Every image was seen, as val.py's `seen`, whether or not it had anything to count. */
    stats->images = gt->n_images;
done:
    free(di), free(ai), free(ids), free(db), free(dc), free(gb), free(dl), free(gl);
    return st;
}
