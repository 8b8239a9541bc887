/* Recall of region proposals (class-agnostic boxes with scores), as
 * mmdetection 2.x evaluates a proposal network: CocoDataset.evaluate with
 * metric "proposal_fast" (fast_eval_recall) calls eval_recalls
 * (mmdet/core/evaluation/recall.py) with proposal_nums 100, 300, 1000 and
 * IoU thresholds np.linspace(0.5, 0.95, 10), and reports AR@N, the recall
 * averaged over the thresholds.
 *
 * The definition: per image, the ground-truth boxes that are not crowd
 * (ignore, VOC's difficult) against the image's N best-scored proposals
 * (plain IoU, no +1 pixel); greedy one-to-one matching takes the pair of
 * highest IoU left, records that IoU for the gt box and removes both, until
 * every gt box has a value (-1 once no proposal is left, 0 for one that
 * overlaps none). recall[N][t] = gt boxes of ALL images whose value >= t,
 * divided by the number of gt boxes of all images (pooled, not averaged per
 * image). Ties pick the first gt box and the first proposal, as numpy's
 * argmax; equal scores keep the order the detections came in (mmdetection:
 * numpy's unstable sort). */
#ifndef WB_EVAL_PROPOSAL_RECALL_H
#define WB_EVAL_PROPOSAL_RECALL_H

#include <stdio.h>
#include "coco_eval.h"

enum { WB_RECALL_MAX_NUMS = 8, WB_RECALL_NUM_IOUS = 10 };

/* mmdetection's default proposal_nums. */
extern const int wb_recall_default_nums[3];

typedef struct wb_proposal_recall {
    int n_nums;
    int nums[WB_RECALL_MAX_NUMS];             /* proposals per image, ascending */
    double iou_thrs[WB_RECALL_NUM_IOUS];      /* np.linspace(0.5, 0.95, 10), bit for bit */
    double recall[WB_RECALL_MAX_NUMS][WB_RECALL_NUM_IOUS];
    double ar[WB_RECALL_MAX_NUMS];            /* mean of recall[k][...] */
    int64_t n_gt;                             /* non-crowd gt boxes of all images */
    int64_t n_proposals;
} wb_proposal_recall;

/* Recalls of dets (their category ids are not looked at) against gt for the
 * n_nums proposal counts in nums (1..WB_RECALL_MAX_NUMS, ascending). A
 * detection on an image gt does not have is an error, as in COCO
 * evaluation. Without any gt box every recall is 0 (mmdetection divides by
 * zero). */
wb_status wb_proposal_recall_eval(const wb_coco_gt *gt, const wb_coco_detection *dets, size_t n_dets,
                                  const int *nums, int n_nums, wb_proposal_recall *out, char *err, size_t err_size);

/* mmdetection's print_recall_summary table (rows N, columns IoU), then the
 * AR@N line. */
void wb_proposal_recall_print(FILE *f, const wb_proposal_recall *r);

#endif
