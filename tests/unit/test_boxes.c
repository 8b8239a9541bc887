/* Host box utilities: box_iou and NMS against torchvision, the delta-xywh
 * coder and the anchor generator against mmdetection's formulas (written
 * in tests/parity/gen_boxes.py), plus the contracts torch cannot show:
 * tie ordering, class-aware suppression, coder round trip. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "ops/ops.h"
#include "wbtest.h"

static const wb_st_tensor *tensor_in(const wb_st_file *f, const char *name) {
    const wb_st_tensor *t = wb_st_find(f, name);
    ck_assert_msg(t != NULL, "parity file has no tensor '%s'", name);
    return t;
}

/* IoU of float32 boxes computed in float32: a few ulp of the areas (< 1e-6
 * relative) against the float64 reference. */
START_TEST(test_box_iou_matches_torchvision) {
    wb_st_file f;
    if (!wbt_parity_open("boxes_iou", &f)) return;
    const wb_st_tensor *a = tensor_in(&f, "a"), *b = tensor_in(&f, "b");
    int na = (int)a->shape[0], nb = (int)b->shape[0];
    float *out = malloc(sizeof(float) * (size_t)(na * nb));
    wb_box_iou(a->data, na, b->data, nb, out);
    wbt_assert_close("box_iou", out, wbt_parity_tensor(&f, "iou", na * nb), na * nb, 1e-7, 1e-5);
    free(out);
    wb_st_free(&f);
}
END_TEST

START_TEST(test_box_iou_empty_pair_is_zero) {
    const float empty[4] = {3, 3, 3, 3};
    float iou = -1;
    wb_box_iou(empty, 1, empty, 1, &iou);
    ck_assert_float_eq(iou, 0.0f);
}
END_TEST

static void check_keep(const char *what, const int *keep, int kept, const wb_st_file *f, const char *key) {
    const wb_st_tensor *ref = tensor_in(f, key);
    ck_assert_msg(kept == ref->numel, "%s: kept %d boxes, torchvision keeps %lld", what, kept,
                  (long long)ref->numel);
    for (int i = 0; i < kept; i++)
        ck_assert_msg(keep[i] == (int)ref->data[i], "%s: keep[%d] is %d, torchvision has %d", what, i, keep[i],
                      (int)ref->data[i]);
}

/* 300 boxes in 12 clusters (heavy overlap); exact index lists expected. */
START_TEST(test_nms_matches_torchvision) {
    wb_st_file f;
    if (!wbt_parity_open("boxes_nms", &f)) return;
    const wb_st_tensor *boxes = tensor_in(&f, "boxes"), *scores = tensor_in(&f, "scores"),
                       *labels_f = tensor_in(&f, "labels");
    int n = (int)boxes->shape[0];
    int *labels = malloc(sizeof(int) * (size_t)n), *keep = malloc(sizeof(int) * (size_t)n);
    for (int i = 0; i < n; i++) labels[i] = (int)labels_f->data[i];
    static const struct { const char *name; float thr; } cases[] = {{"t50", 0.5f}, {"t30", 0.3f}};
    for (int c = 0; c < 2; c++) {
        char key[48], what[64];
        int kept = wb_nms(boxes->data, scores->data, NULL, n, cases[c].thr, keep);
        ck_assert_int_lt(kept, n / 2); /* the clusters really overlap */
        snprintf(key, sizeof key, "keep_%s", cases[c].name);
        snprintf(what, sizeof what, "nms iou > %.1f", (double)cases[c].thr);
        check_keep(what, keep, kept, &f, key);
        kept = wb_nms(boxes->data, scores->data, labels, n, cases[c].thr, keep);
        snprintf(key, sizeof key, "keep_batched_%s", cases[c].name);
        snprintf(what, sizeof what, "class-aware nms iou > %.1f", (double)cases[c].thr);
        check_keep(what, keep, kept, &f, key);
    }
    free(labels);
    free(keep);
    wb_st_free(&f);
}
END_TEST

START_TEST(test_nms_ties_and_classes) {
    /* Boxes 0-2 overlap (IoU 0.9+), 3 stands alone; all scores equal. */
    const float boxes[16] = {0, 0, 10, 10, 0, 0, 10, 10.5f, 0.2f, 0, 10, 10, 50, 50, 60, 60};
    const float scores[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    int keep[4];
    int kept = wb_nms(boxes, scores, NULL, 4, 0.5f, keep);
    /* Equal scores rank by index: box 0 wins its cluster, then box 3. */
    ck_assert_int_eq(kept, 2);
    ck_assert_int_eq(keep[0], 0);
    ck_assert_int_eq(keep[1], 3);
    /* Box 1 has another label: it survives box 0; box 2 shares box 0's. */
    const int labels[4] = {7, 8, 7, 7};
    kept = wb_nms(boxes, scores, labels, 4, 0.5f, keep);
    ck_assert_int_eq(kept, 3);
    ck_assert_int_eq(keep[0], 0);
    ck_assert_int_eq(keep[1], 1);
    ck_assert_int_eq(keep[2], 3);
    /* IoU exactly at the threshold does not suppress (strictly greater does). */
    const float half[8] = {0, 0, 10, 10, 0, 0, 10, 5};
    const float s2[2] = {0.9f, 0.8f};
    ck_assert_int_eq(wb_nms(half, s2, NULL, 2, 0.5f, keep), 2);
    ck_assert_int_eq(wb_nms(half, s2, NULL, 2, 0.49f, keep), 1);
    ck_assert_int_eq(wb_nms(half, s2, NULL, 0, 0.5f, keep), 0);
}
END_TEST

/* Coder tolerance: coordinates up to ~40 carry float32 rounding of ~4e-6,
 * divided by sizes >= 1 and by stds 0.1 that is <= 4e-5 in a delta, so
 * atol 1e-4 on deltas; decoded boxes (up to ~600 wide after exp) rtol 1e-5. */
START_TEST(test_coder_matches_mmdet) {
    wb_st_file f;
    if (!wbt_parity_open("boxes_coder", &f)) return;
    const wb_st_tensor *anchors = tensor_in(&f, "anchors"), *gt = tensor_in(&f, "gt"),
                       *deltas = tensor_in(&f, "deltas");
    const float *means = wbt_parity_tensor(&f, "means", 4), *stds = wbt_parity_tensor(&f, "stds", 4);
    int n = (int)anchors->shape[0];
    float *out = malloc(sizeof(float) * 4 * (size_t)n);
    wb_box_encode(anchors->data, gt->data, n, means, stds, out);
    wbt_assert_close("box_encode", out, wbt_parity_tensor(&f, "encoded", 4 * n), 4 * n, 1e-4, 1e-5);
    wb_box_decode(anchors->data, deltas->data, n, means, stds, 0.0f, 0, 0, out);
    wbt_assert_close("box_decode (default max_ratio, no clip)", out,
                     wbt_parity_tensor(&f, "decoded_default", 4 * n), 4 * n, 1e-4, 1e-5);
    wb_box_decode(anchors->data, deltas->data, n, means, stds, 2.0f, 30, 40, out);
    wbt_assert_close("box_decode (max_ratio 2, clipped to 30x40)", out,
                     wbt_parity_tensor(&f, "decoded_ratio2_clip", 4 * n), 4 * n, 1e-4, 1e-5);
    free(out);
    wb_st_free(&f);
}
END_TEST

START_TEST(test_coder_round_trip) {
    const float means[4] = {0.1f, -0.05f, 0.02f, 0.0f}, stds[4] = {0.1f, 0.1f, 0.2f, 0.2f};
    enum { N = 64 };
    float anchors[4 * N], gt[4 * N], deltas[4 * N], back[4 * N];
    uint64_t rng = 12;
    for (int i = 0; i < N; i++) {
        float x = 100 * wb_rng_uniform(&rng), y = 100 * wb_rng_uniform(&rng);
        float w = 4 + 60 * wb_rng_uniform(&rng), h = 4 + 60 * wb_rng_uniform(&rng);
        float a[4] = {x, y, x + w, y + h};
        /* gt up to 8x smaller or larger than its anchor: inside the default clamp (62.5x). */
        float sw = exp2f(6 * wb_rng_uniform(&rng) - 3), sh = exp2f(6 * wb_rng_uniform(&rng) - 3);
        float cx = x + w * wb_rng_uniform(&rng), cy = y + h * wb_rng_uniform(&rng);
        float g[4] = {cx - 0.5f * w * sw, cy - 0.5f * h * sh, cx + 0.5f * w * sw, cy + 0.5f * h * sh};
        for (int k = 0; k < 4; k++) anchors[4 * i + k] = a[k], gt[4 * i + k] = g[k];
    }
    wb_box_encode(anchors, gt, N, means, stds, deltas);
    wb_box_decode(anchors, deltas, N, means, stds, 0.0f, 0, 0, back);
    /* Coordinates up to ~600: float32 rounding through log/exp stays below 1e-3. */
    wbt_assert_close("decode(encode(gt))", back, gt, 4 * N, 1e-3, 1e-5);
}
END_TEST

/* Anchors: float32 of values up to ~1000 against float64; rtol 2e-6 (~16 ulp). */
START_TEST(test_anchors_match_mmdet) {
    wb_st_file f;
    if (!wbt_parity_open("boxes_anchors", &f)) return;
    const float *scales = wbt_parity_tensor(&f, "scales", 3), *ratios = wbt_parity_tensor(&f, "ratios", 3);
    float base[9 * 4];
    static const int strides[] = {8, 16, 32, 64, 128};
    for (int s = 0; s < 5; s++) {
        char key[32];
        snprintf(key, sizeof key, "base_%d", strides[s]);
        wb_base_anchors((float)strides[s], scales, 3, ratios, 3, 0.0f, base);
        wbt_assert_close(key, base, wbt_parity_tensor(&f, key, 36), 36, 1e-5, 2e-6);
    }
    wb_base_anchors(16.0f, scales, 3, ratios, 3, 0.5f, base);
    wbt_assert_close("base_16 offset 0.5", base, wbt_parity_tensor(&f, "base_16_half", 36), 36, 1e-5, 2e-6);

    float grid[5 * 7 * 9 * 4];
    wb_base_anchors(16.0f, scales, 3, ratios, 3, 0.0f, base);
    wb_grid_anchors(base, 9, 5, 7, 16, grid);
    wbt_assert_close("grid 5x7 stride 16", grid, wbt_parity_tensor(&f, "grid_16", 5 * 7 * 36), 5 * 7 * 36,
                     1e-5, 2e-6);
    wb_base_anchors(128.0f, scales, 3, ratios, 3, 0.0f, base);
    wb_grid_anchors(base, 9, 3, 2, 128, grid);
    wbt_assert_close("grid 3x2 stride 128", grid, wbt_parity_tensor(&f, "grid_128", 3 * 2 * 36), 3 * 2 * 36,
                     1e-5, 2e-6);
    wb_st_free(&f);
}
END_TEST

static Suite *boxes_suite(void) {
    Suite *s = suite_create("boxes");
    TCase *tc = tcase_create("boxes");
    tcase_add_test(tc, test_box_iou_matches_torchvision);
    tcase_add_test(tc, test_box_iou_empty_pair_is_zero);
    tcase_add_test(tc, test_nms_matches_torchvision);
    tcase_add_test(tc, test_nms_ties_and_classes);
    tcase_add_test(tc, test_coder_matches_mmdet);
    tcase_add_test(tc, test_coder_round_trip);
    tcase_add_test(tc, test_anchors_match_mmdet);
    suite_add_tcase(s, tc);
    return s;
}

int main(void) { return wbt_run_suite(boxes_suite()); }
