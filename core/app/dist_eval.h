/* Evaluation over the ranks of a data-parallel job: each rank predicts its
 * shard of the split (rank r the images r, r + world, ...: the sampler's
 * uneven shards), rank 0 gathers the detections in the order a single
 * process makes them and computes the metrics, which every rank then gets
 * (so all take the same decisions from them). */
#ifndef WB_CORE_DIST_EVAL_H
#define WB_CORE_DIST_EVAL_H

#include "../eval/coco_json.h"
#include "evaluate.h"
#include "val_loss.h"

/* Detections per image, in this rank's order. */
typedef struct wb_dist_counts {
    int64_t *n;
    int64_t len, cap;
} wb_dist_counts;

bool wb_dist_counts_push(wb_dist_counts *c, int64_t v);

/* Collective. st: this rank's outcome so far (any rank's failure fails
 * every rank). On rank 0, dl then holds every rank's detections interleaved
 * image by image as one process orders them; images and vl (sums and
 * batches) are totals on every rank. Frees per_image. */
wb_status wb_dist_eval_gather(wb_status st, wb_coco_detection_list *dl, wb_dist_counts *per_image, int64_t *images,
                              wb_val_loss *vl, char *err, size_t err_size);
/* Collective: rank 0's outcome, metrics and message on every rank. */
wb_status wb_dist_eval_result(wb_status st, wb_eval_result *res, char *err, size_t err_size);

#endif
