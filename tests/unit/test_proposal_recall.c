/* Proposal recall (core/eval/proposal_recall.c, `evaluation.metric =
 * "proposal"`) against mmdetection's eval_recalls definition restated with
 * numpy (tests/parity/recall_ref.py, cases from gen_proposal_recall.py): the
 * IoU thresholds bit for bit, every recall exactly (the same counts over the
 * same number of gt boxes), AR to float32 storage. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "eval/proposal_recall.h"
#include "wbtest.h"

typedef struct recall_case {
    wb_coco_gt gt;
    wb_coco_detection *dets;
    size_t n_dets;
    int nums[WB_RECALL_MAX_NUMS], n_nums;
} recall_case;

static const wb_st_tensor *tensor(const wb_st_file *f, const char *name) {
    const wb_st_tensor *t = wb_st_find(f, name);
    ck_assert_msg(t != NULL, "parity file has no tensor '%s'", name);
    return t;
}

/* The case's boxes as the evaluator gets them: gt as COCO annotations
 * (x, y, w, h; crowd flagged), proposals as detections of category 1. */
static void load_case(const wb_st_file *f, recall_case *c) {
    memset(c, 0, sizeof *c);
    const wb_st_tensor *ids = tensor(f, "image_ids"), *gt = tensor(f, "gt"), *props = tensor(f, "props");
    const wb_st_tensor *nums = tensor(f, "nums");
    c->gt.n_images = (int)ids->numel;
    c->gt.image_ids = malloc((size_t)ids->numel * sizeof *c->gt.image_ids);
    for (int i = 0; i < c->gt.n_images; i++) c->gt.image_ids[i] = (int64_t)ids->data[i];
    c->gt.n_annotations = (int)gt->shape[0];
    c->gt.annotations = calloc((size_t)gt->shape[0] + 1, sizeof *c->gt.annotations);
    for (int i = 0; i < c->gt.n_annotations; i++) {
        const float *r = gt->data + 6 * i;
        c->gt.annotations[i] = (wb_coco_annotation){i + 1, (int64_t)r[0], 1, {r[1], r[2], (double)r[3] - r[1],
                                                    (double)r[4] - r[2]}, 0.0, r[5] != 0.0f};
    }
    c->n_dets = (size_t)props->shape[0];
    c->dets = malloc((c->n_dets + 1) * sizeof *c->dets);
    for (size_t i = 0; i < c->n_dets; i++) {
        const float *r = props->data + 6 * i;
        c->dets[i] = (wb_coco_detection){(int64_t)r[0], 1, r[1], r[2], (double)r[3] - r[1], (double)r[4] - r[2], r[5]};
    }
    c->n_nums = (int)nums->numel;
    for (int k = 0; k < c->n_nums; k++) c->nums[k] = (int)nums->data[k];
}

static void free_case(recall_case *c) {
    free(c->gt.image_ids), free(c->gt.annotations), free(c->dets);
}

static void check_case(const char *name) {
    wb_st_file f;
    ck_assert(wbt_parity_open(name, &f));
    recall_case c;
    load_case(&f, &c);
    wb_proposal_recall r;
    char err[256] = "";
    ck_assert_msg(wb_proposal_recall_eval(&c.gt, c.dets, c.n_dets, c.nums, c.n_nums, &r, err, sizeof err) == WB_OK,
                  "%s", err);
    for (int t = 0; t < WB_RECALL_NUM_IOUS; t++) {
        char key[8];
        snprintf(key, sizeof key, "thr%d", t);
        ck_assert_msg(r.iou_thrs[t] == wbt_parity_attr(&f, key), "threshold %d: %.17g, numpy %.17g", t,
                      r.iou_thrs[t], wbt_parity_attr(&f, key));
    }
    const float *want = wbt_parity_tensor(&f, "recalls", (int64_t)c.n_nums * WB_RECALL_NUM_IOUS);
    const float *ar = wbt_parity_tensor(&f, "ar", c.n_nums);
    printf("%s: %lld gt boxes, %lld proposals\n", name, (long long)r.n_gt, (long long)r.n_proposals);
    for (int k = 0; k < c.n_nums; k++) {
        for (int t = 0; t < WB_RECALL_NUM_IOUS; t++)
            ck_assert_msg((float)r.recall[k][t] == want[k * WB_RECALL_NUM_IOUS + t],
                          "recall of %d proposals at IoU %.2f: %.8f, reference %.8f", c.nums[k], r.iou_thrs[t],
                          r.recall[k][t], want[k * WB_RECALL_NUM_IOUS + t]);
        printf("  AR@%-5d %.6f (reference %.6f)\n", c.nums[k], r.ar[k], ar[k]);
        ck_assert(fabs(r.ar[k] - ar[k]) < 1e-7);
    }
    ck_assert_msg(r.ar[c.n_nums - 1] > r.ar[0], "the case does not tell the proposal counts apart");
    free_case(&c);
    wb_st_free(&f);
}

START_TEST(test_ties_and_exact_thresholds) { check_case("proposal_recall_ties"); }
END_TEST

START_TEST(test_random_boxes_100_300_1000) { check_case("proposal_recall_random"); }
END_TEST

/* A proposal on an image the ground truth does not have is refused, naming
 * it; bad proposal counts are refused; no gt box at all gives 0, not NaN. */
START_TEST(test_refusals_and_no_ground_truth) {
    int64_t ids[1] = {4};
    wb_coco_gt gt = {ids, 1, NULL, 0, NULL, 0};
    wb_coco_detection d = {9, 1, 0, 0, 10, 10, 0.5};
    wb_proposal_recall r;
    char err[256] = "";
    ck_assert_int_eq(wb_proposal_recall_eval(&gt, &d, 1, wb_recall_default_nums, 3, &r, err, sizeof err),
                     WB_ERR_INVALID);
    ck_assert_msg(strstr(err, "image 9") != NULL, "%s", err);
    const int descending[2] = {300, 100};
    ck_assert_int_eq(wb_proposal_recall_eval(&gt, NULL, 0, descending, 2, &r, err, sizeof err), WB_ERR_INVALID);
    ck_assert_msg(strstr(err, "ascending") != NULL, "%s", err);
    d.image_id = 4;
    ck_assert_int_eq(wb_proposal_recall_eval(&gt, &d, 1, wb_recall_default_nums, 3, &r, err, sizeof err), WB_OK);
    ck_assert_int_eq(r.n_gt, 0);
    for (int k = 0; k < 3; k++) ck_assert(r.ar[k] == 0.0);
}
END_TEST

int main(void) {
    Suite *s = suite_create("proposal_recall");
    TCase *tc = tcase_create("proposal_recall");
    tcase_add_test(tc, test_ties_and_exact_thresholds);
    tcase_add_test(tc, test_random_boxes_100_300_1000);
    tcase_add_test(tc, test_refusals_and_no_ground_truth);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
