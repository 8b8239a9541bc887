/* The CUDA box kernels (boxes_cuda.cu) replayed on the host as they run:
 * their grid-stride index arithmetic over boxes_math.h, against the host
 * utilities of the SDK (core/ops) and the reference box kernels.
 *
 * IoU, delta coding and anchors: bit for bit (the same expressions; the
 * IoU also within 1e-6 relative of a double-precision IoU). NMS: the kept
 * lists identical to the host nms's, for n = 0, 1, 63, 64, 65 (the 64-box
 * word edges) and 1000, in clusters, with tied, NaN and signed-zero scores,
 * class-aware and not: the sort key's order (what cub's stable radix sort
 * gives) is the host order, the mask words one thread each, and the block
 * pass over the mask with its words shared by 256 threads. On the device
 * nvcc may contract a * b + c into an FMA and expf / logf are CUDA's (within
 * 2 ulp), so device results can differ from these by a rounding step. */
#include <float.h>
#include <math.h>
#include "backends/boxes_math.h"
#include "backends/families.h"
#include "backends/kernels_boxes.h"
#include "cuda_math_testing.h"
#include "ops/ops.h"

/* The kernels' launch: one 256-thread block per 256 items, grid-stride. */
#define THREADS 256

/* Boxes whose corners sit on a coarse grid, so many pairs tie, touch or
 * coincide; every 7th is degenerate (zero width) and every 11th inverted. */
static float *random_boxes(int64_t n, uint64_t *rng) {
    float *u = cm_random(4 * n, 0, 1, rng), *b = cm_zeros(4 * n);
    for (int64_t i = 0; i < n; i++) {
        float x = floorf(u[4 * i] * 40) * 2, y = floorf(u[4 * i + 1] * 30) * 2;
        float w = 1 + floorf(u[4 * i + 2] * 12) * 1.5f, h = 1 + floorf(u[4 * i + 3] * 12) * 1.5f;
        if (i % 7 == 3) w = 0;
        float *r = b + 4 * i;
        r[0] = x, r[1] = y, r[2] = x + w, r[3] = y + h;
        if (i % 11 == 5) r[0] = x + w, r[2] = x;
    }
    free(u);
    return b;
}

START_TEST(iou_is_the_host_utility) {
    static const int64_t SHAPES[][2] = {{7, 13}, {1, 1}, {65, 3}, {0, 5}, {4, 0}};
    for (size_t s = 0; s < sizeof SHAPES / sizeof *SHAPES; s++) {
        int64_t na = SHAPES[s][0], nb = SHAPES[s][1];
        uint64_t rng = 3 + s;
        float *a = random_boxes(na, &rng), *b = random_boxes(nb, &rng);
        float *got = cm_zeros(na * nb), *want = cm_zeros(na * nb), *ref = cm_zeros(na * nb);
        for (int64_t e = 0; e < na * nb; e++) got[e] = wb_box_iou_pair(a + 4 * (e / nb), b + 4 * (e % nb));
        wb_box_iou(a, (int)na, b, (int)nb, want);
        wb_ref_box_kernels()->iou(a, na, b, nb, ref);
        cm_assert_identical("iou vs box_iou", got, want, na * nb);
        cm_assert_identical("iou vs ref", got, ref, na * nb);
        for (int64_t e = 0; e < na * nb; e++) {
            const float *p = a + 4 * (e / nb), *q = b + 4 * (e % nb);
            double iw = fmax(fmin(p[2], q[2]) - fmax(p[0], q[0]), 0), ih = fmax(fmin(p[3], q[3]) - fmax(p[1], q[1]), 0);
            double uni = (double)(p[2] - p[0]) * (p[3] - p[1]) + (double)(q[2] - q[0]) * (q[3] - q[1]) - iw * ih;
            double exact = uni > 0 ? iw * ih / uni : 0;
            ck_assert_msg(fabs(got[e] - exact) <= 1e-6 * exact, "iou %lld: %.9g, double %.9g", (long long)e,
                          (double)got[e], exact);
        }
        free(a), free(b), free(got), free(want), free(ref);
    }
}
END_TEST

/* Decoded boxes: gcc (-march=native, -ffp-contract=fast) fuses the center
 * and corner products into FMAs differently in differently shaped loops, so
 * the same expression may round once less: within 2 ulp of the larger of
 * the box's anchor and decoded coordinates and sizes. */
static void assert_decoded_close(const char *what, const float *anchors, const float *got, const float *want,
                                 int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float scale = 0;
        for (int k = 0; k < 4; k++) scale = fmaxf(scale, fmaxf(fabsf(anchors[4 * i + k]), fabsf(want[4 * i + k])));
        scale = fmaxf(scale, fmaxf(want[4 * i + 2] - want[4 * i], want[4 * i + 3] - want[4 * i + 1]));
        for (int k = 0; k < 4; k++)
            ck_assert_msg(fabsf(got[4 * i + k] - want[4 * i + k]) <= 2 * FLT_EPSILON * scale,
                          "%s: box %lld[%d] is %.9g, expected %.9g (2 ulp of %g)", what, (long long)i, k,
                          (double)got[4 * i + k], (double)want[4 * i + k], (double)scale);
    }
}

/* Deltas from N(0, 1)-ish plus wild ones (|d| 20) that the bound clamps. */
START_TEST(delta_coding_is_the_host_utility) {
    static const float MEANS[4] = {0.1f, -0.2f, 0.0f, 0.05f}, STDS[4] = {0.1f, 0.1f, 0.2f, 0.2f};
    static const float RATIOS[] = {0.0f, 2.5f};
    static const int CLIPS[][2] = {{0, 0}, {37, 53}};
    const int64_t n = 301;
    uint64_t rng = 41;
    float *anchors = random_boxes(n, &rng), *gt = random_boxes(n, &rng), *d = cm_random(4 * n, -3, 3, &rng);
    for (int64_t i = 0; i < n; i++) {
        anchors[4 * i + 2] = anchors[4 * i] + 1 + fabsf(anchors[4 * i + 2] - anchors[4 * i]); /* positive sizes */
        gt[4 * i + 2] = gt[4 * i] + 1 + fabsf(gt[4 * i + 2] - gt[4 * i]);
        if (i % 13 == 0) d[4 * i + 2] = 20.0f, d[4 * i + 3] = -20.0f;
    }
    float *got = cm_zeros(4 * n), *want = cm_zeros(4 * n), *ref = cm_zeros(4 * n);
    for (int64_t i = 0; i < n; i++) wb_box_encode_one(anchors + 4 * i, gt + 4 * i, MEANS, STDS, got + 4 * i);
    wb_box_encode(anchors, gt, (int)n, MEANS, STDS, want);
    wb_box_coder k = {{0.1f, -0.2f, 0.0f, 0.05f}, {0.1f, 0.1f, 0.2f, 0.2f}, wb_box_decode_bound(0), 0, 0};
    wb_ref_box_kernels()->encode(anchors, gt, n, &k, ref);
    cm_assert_identical("encode vs box_encode", got, want, 4 * n);
    cm_assert_identical("encode vs ref", got, ref, 4 * n);
    for (size_t r = 0; r < 2; r++) {
        for (size_t c = 0; c < 2; c++) {
            k.bound = wb_box_decode_bound(RATIOS[r]), k.clip_h = CLIPS[c][0], k.clip_w = CLIPS[c][1];
            for (int64_t i = 0; i < n; i++)
                wb_box_decode_one(anchors + 4 * i, d + 4 * i, k.means, k.stds, k.bound, k.clip_h, k.clip_w,
                                  got + 4 * i);
            wb_box_decode(anchors, d, (int)n, MEANS, STDS, RATIOS[r], k.clip_h, k.clip_w, want);
            wb_ref_box_kernels()->decode(anchors, d, n, &k, ref);
            assert_decoded_close("decode vs box_decode", anchors, got, want, n);
            assert_decoded_close("decode vs ref", anchors, got, ref, n);
            for (int64_t e = 0; e < 4 * n; e++) ck_assert(isfinite(got[e])); /* the clamp held */
        }
    }
    ck_assert_float_eq(wb_box_decode_bound(0), fabsf(logf(16.0f / 1000.0f)));
    free(anchors), free(gt), free(d), free(got), free(want), free(ref);
}
END_TEST

START_TEST(anchors_are_the_host_utility) {
    static const float SCALES[] = {1.0f, 1.2599f, 1.5874f}, RATIOS[] = {0.5f, 1.0f, 2.0f};
    static const int SIZES[][2] = {{1, 1}, {3, 5}, {7, 1}, {13, 11}, {0, 5}, {25, 38}};
    static const int STRIDES[] = {8, 16, 128};
    for (int nb = 1; nb <= 9; nb += 8) { /* one base anchor, or RetinaNet's nine */
        float base[36];
        wb_base_anchors(32.0f, SCALES, nb == 1 ? 1 : 3, RATIOS, nb == 1 ? 1 : 3, 0.5f, base);
        for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++) {
            int h = SIZES[s][0], w = SIZES[s][1], stride = STRIDES[s % 3];
            int64_t rows = (int64_t)h * w * nb;
            float *got = cm_zeros(4 * rows), *want = cm_zeros(4 * rows), *ref = cm_zeros(4 * rows);
            for (int64_t r = 0; r < rows; r++) {
                wb_anchor_cell c = wb_anchor_cell_of(r, nb, w);
                wb_grid_anchor(base + 4 * c.a, c.x, c.y, stride, got + 4 * r);
            }
            wb_grid_anchors(base, nb, h, w, stride, want);
            wb_ref_box_kernels()->grid_anchors(base, nb, h, w, stride, ref);
            cm_assert_identical("anchors vs grid_anchors", got, want, 4 * rows);
            cm_assert_identical("anchors vs ref", got, ref, 4 * rows);
        }
    }
}
END_TEST

/* The key orders as the scores do: equal keys exactly for equal scores
 * (-0 == +0), NaN below everything. */
START_TEST(order_key_is_the_score_order) {
    static const float V[] = {-INFINITY, -3.5f, -1e-38f, -0.0f, 0.0f, 1e-45f, 0.25f, 0.2500001f, 7.0f, INFINITY};
    const int n = (int)(sizeof V / sizeof *V);
    for (int i = 0; i < n; i++) {
        ck_assert_uint_gt(wb_nms_order_key(V[i]), wb_nms_order_key(NAN));
        ck_assert_uint_gt(wb_nms_order_key(V[i]), wb_nms_order_key(-NAN));
        for (int j = 0; j < n; j++) {
            uint32_t ki = wb_nms_order_key(V[i]), kj = wb_nms_order_key(V[j]);
            ck_assert_msg((ki < kj) == (V[i] < V[j]) && (ki == kj) == (V[i] == V[j]), "key order of %g vs %g",
                          (double)V[i], (double)V[j]);
        }
    }
}
END_TEST

static const float *g_key_scores;

/* What a stable descending radix sort of (key, index) pairs gives. */
static int by_key_then_index(const void *pa, const void *pb) {
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    uint32_t ka = wb_nms_order_key(g_key_scores[a]), kb = wb_nms_order_key(g_key_scores[b]);
    if (ka != kb) return ka > kb ? -1 : 1;
    return (a > b) - (a < b);
}

/* boxes_cuda.cu's nms: keys and sort, gather, one thread per mask word, then
 * nms_reduce_kernel's loop with each row's words spread over THREADS
 * threads (removed starts zeroed). Returns the kept count; keep gets the original indices. */
static int64_t replay_nms(const float *boxes, const float *scores, const float *labels, int64_t n, float thr,
                          float *keep) {
    int32_t *order = malloc(sizeof *order * (size_t)(n + 1));
    ck_assert_ptr_nonnull(order);
    for (int64_t i = 0; i < n; i++) order[i] = (int32_t)i;
    g_key_scores = scores;
    qsort(order, (size_t)n, sizeof *order, by_key_then_index);
    float *sb = cm_zeros(4 * n), *sl = labels ? cm_zeros(n) : NULL;
    for (int64_t i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++) sb[4 * i + k] = boxes[4 * (int64_t)order[i] + k];
        if (labels) sl[i] = labels[order[i]];
    }
    int64_t words = wb_nms_words(n);
    uint64_t *mask = calloc((size_t)(n * words + 1), sizeof *mask), *removed = calloc((size_t)words + 1, 8);
    ck_assert(mask && removed);
    for (int64_t w = 0; w < n * words; w++) mask[w] = wb_nms_mask_word(sb, sl, n, w / words, w % words, thr);
    int64_t kept = 0;
    for (int64_t i = 0; i < n; i++) {
        if (wb_nms_removed(removed, i)) continue;
        keep[kept++] = (float)order[i];
        for (int t = 0; t < THREADS; t++) wb_nms_absorb_row(removed, mask + i * words, i, words, t, THREADS);
    }
    free(order), free(sb), free(sl), free(mask), free(removed);
    return kept;
}

/* Returns how many boxes were kept. */
static int64_t check_nms(int64_t n, int ties, int with_labels, float thr, uint64_t seed) {
    uint64_t rng = seed;
    float *boxes = random_boxes(n, &rng), *scores = cm_random(n, 0, 1, &rng), *labels = cm_zeros(n);
    int *int_labels = malloc(sizeof(int) * (size_t)(n + 1)), *want = malloc(sizeof(int) * (size_t)(n + 1));
    for (int64_t i = 0; i < n; i++) {
        if (ties) scores[i] = floorf(scores[i] * 4) / 4; /* four score values: long runs of ties */
        if (i % 17 == 9) scores[i] = NAN;
        if (i % 19 == 4) scores[i] = i % 2 ? -0.0f : 0.0f;
        int_labels[i] = (int)(i % 3), labels[i] = (float)int_labels[i];
    }
    float *got = cm_zeros(n), *ref = cm_zeros(n);
    int64_t kept = replay_nms(boxes, scores, with_labels ? labels : NULL, n, thr, got);
    int want_n = wb_nms(boxes, scores, with_labels ? int_labels : NULL, (int)n, thr, want);
    int64_t ref_n = wb_ref_box_kernels()->nms(boxes, scores, with_labels ? labels : NULL, n, thr, ref);
    ck_assert_msg(kept == want_n && ref_n == want_n, "n %lld ties %d labels %d thr %g: kept %lld, host %d, ref %lld",
                  (long long)n, ties, with_labels, (double)thr, (long long)kept, want_n, (long long)ref_n);
    for (int64_t k = 0; k < kept; k++) {
        ck_assert_msg(got[k] == (float)want[k] && ref[k] == got[k], "n %lld: keep[%lld] %g, host %d, ref %g",
                      (long long)n, (long long)k, (double)got[k], want[k], (double)ref[k]);
    }
    free(boxes), free(scores), free(labels), free(int_labels), free(want), free(got), free(ref);
    return kept;
}

START_TEST(nms_is_the_host_utility) {
    static const int64_t SIZES[] = {0, 1, 63, 64, 65, 1000};
    for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++) {
        int64_t fewest = SIZES[s];
        for (int ties = 0; ties < 2; ties++)
            for (int labels = 0; labels < 2; labels++) {
                int64_t k1 = check_nms(SIZES[s], ties, labels, 0.5f, 100 + s);
                int64_t k2 = check_nms(SIZES[s], ties, labels, 0.1f, 200 + s);
                fewest = k1 < fewest ? k1 : fewest;
                fewest = k2 < fewest ? k2 : fewest;
            }
        /* The lists compared are the outcome of real suppression. */
        if (SIZES[s] > 1) ck_assert_msg(fewest < SIZES[s], "n %lld: nothing was ever suppressed", (long long)SIZES[s]);
    }
}
END_TEST

/* Identical boxes: only the best-scored survives, ties to the lowest index. */
START_TEST(nms_identical_boxes_keep_the_first_best) {
    float boxes[4 * 70], scores[70], keep[70];
    for (int i = 0; i < 70; i++) {
        boxes[4 * i] = 1, boxes[4 * i + 1] = 2, boxes[4 * i + 2] = 9, boxes[4 * i + 3] = 5;
        scores[i] = i == 66 || i == 67 ? 0.9f : 0.5f;
    }
    ck_assert_int_eq(replay_nms(boxes, scores, NULL, 70, 0.5f, keep), 1);
    ck_assert_float_eq(keep[0], 66.0f);
}
END_TEST

int main(void) {
    Suite *s = suite_create("cuda_math_boxes");
    TCase *t = tcase_create("cuda_math_boxes");
    tcase_add_test(t, iou_is_the_host_utility);
    tcase_add_test(t, delta_coding_is_the_host_utility);
    tcase_add_test(t, anchors_are_the_host_utility);
    tcase_add_test(t, order_key_is_the_score_order);
    tcase_add_test(t, nms_is_the_host_utility);
    tcase_add_test(t, nms_identical_boxes_keep_the_first_best);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
