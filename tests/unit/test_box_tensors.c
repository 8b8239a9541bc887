/* The box utilities on tensors (ABI 1.4), called through the SDK's host
 * table as a plugin calls them, on the reference, CPU and devsim backends
 * (devsim: memory the host cannot read, so nothing crosses the boundary
 * except by map): each result is bit for bit the host-array utility's on
 * the same numbers, NMS keep lists identical (with and without labels,
 * empty, past a 64-box word), decode -> nms -> index_select keeps the host
 * pipeline's rows, and malformed shapes and a backend without box kernels
 * are refused with what was wrong. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <workbench/ops.h>
#include "backends/families.h"
#include "devsim_backend.h"
#include "wbtest.h"

static const wb_backend *backend_at(int i) {
    return i == 0 ? wb_backend_ref() : i == 1 ? wb_backend_cpu() : wbt_devsim_backend();
}

static const float MEANS[4] = {0, 0, 0, 0}, STDS[4] = {0.1f, 0.1f, 0.2f, 0.2f};

/* Boxes on a coarse grid (many overlaps and ties), positive sizes. */
static void make_boxes(float *b, int n, uint64_t *rng) {
    for (int i = 0; i < n; i++) {
        float u[4];
        for (int k = 0; k < 4; k++) {
            *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
            u[k] = (float)((*rng >> 40) * 0x1.0p-24);
        }
        float x = floorf(u[0] * 30) * 2, y = floorf(u[1] * 20) * 2;
        b[4 * i] = x, b[4 * i + 1] = y, b[4 * i + 2] = x + 2 + floorf(u[2] * 10) * 1.5f;
        b[4 * i + 3] = y + 2 + floorf(u[3] * 10) * 1.5f;
    }
}

/* The tensor's values on the host (a map: the one crossing a plugin has). */
static float *host_copy(wb_ctx *ctx, wb_tensor *t) {
    wb_tensor_info info = wb_info(ctx, t);
    float *copy = malloc(sizeof(float) * (size_t)(info.numel + 1));
    ck_assert_ptr_nonnull(copy);
    const float *m = wb_map(ctx, t);
    ck_assert_ptr_nonnull(m);
    memcpy(copy, m, sizeof(float) * (size_t)info.numel);
    return copy;
}

static void assert_identical(const char *what, const wb_backend *be, const float *got, const float *want, int64_t n) {
    int64_t i = 0;
    while (i < n && memcmp(&got[i], &want[i], sizeof *got) == 0) i++;
    ck_assert_msg(i == n, "%s on %s: element %lld is %.9g, the host utility's %.9g", what, be->name, (long long)i,
                  i < n ? (double)got[i] : 0.0, i < n ? (double)want[i] : 0.0);
}

START_TEST(tensor_boxes_are_the_host_utilities) {
    const wb_backend *be = backend_at(_i);
    wbt_env e;
    wbt_env_init(&e, be, 1);
    wb_ctx *ctx = e.ctx;
    const wb_host_api *h = ctx->host;
    enum { NA = 37, NB = 11 };
    uint64_t rng = 5;
    float a[4 * NA], b[4 * NB], d[4 * NA], want[NA * NB];
    make_boxes(a, NA, &rng), make_boxes(b, NB, &rng);
    for (int i = 0; i < 4 * NA; i++) d[i] = (float)((i * 7919) % 61 - 30) / 10.0f; /* |d| up to 3 */
    int64_t sa[2] = {NA, 4}, sb[2] = {NB, 4};
    wb_tensor *ta = wb_tensor_from_host(ctx, 2, sa, a), *tb = wb_tensor_from_host(ctx, 2, sb, b), *td = wb_tensor_from_host(ctx, 2, sa, d);

    float *got = host_copy(ctx, wb_box_iou_tensor(ctx, ta, tb));
    h->box_iou(a, NA, b, NB, want);
    assert_identical("box_iou_tensor", be, got, want, NA * NB);
    free(got);

    got = host_copy(ctx, wb_box_encode_tensor(ctx, ta, td, MEANS, STDS)); /* d as boxes: sizes may be negative */
    h->box_encode(a, d, NA, MEANS, STDS, want);
    assert_identical("box_encode_tensor", be, got, want, 4 * NA);
    free(got);

    got = host_copy(ctx, wb_box_decode_tensor(ctx, ta, td, MEANS, STDS, 0.0f, 50, 70));
    h->box_decode(a, d, NA, MEANS, STDS, 0.0f, 50, 70, want);
    assert_identical("box_decode_tensor", be, got, want, 4 * NA);
    free(got);

    float base[12], anchors[4 * 3 * 5 * 7];
    static const float SCALES[] = {1.0f}, RATIOS[] = {0.5f, 1.0f, 2.0f};
    h->base_anchors(16.0f, SCALES, 1, RATIOS, 3, 0.5f, base);
    got = host_copy(ctx, wb_grid_anchors_tensor(ctx, base, 3, 5, 7, 16));
    h->grid_anchors(base, 3, 5, 7, 16, anchors);
    assert_identical("grid_anchors_tensor", be, got, anchors, 4 * 3 * 5 * 7);
    free(got);
    ck_assert_msg(wb_ok(ctx) == WB_OK, "%s: %s", be->name, e.c.msg);
    wbt_env_free(&e);
}
END_TEST

START_TEST(nms_tensor_keeps_the_host_list) {
    const wb_backend *be = backend_at(_i);
    static const int SIZES[] = {0, 1, 65, 500};
    for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++) {
        for (int with_labels = 0; with_labels < 2; with_labels++) {
            wbt_env e;
            wbt_env_init(&e, be, 1);
            wb_ctx *ctx = e.ctx;
            int n = SIZES[s];
            uint64_t rng = 17 + s;
            float *boxes = malloc(sizeof(float) * (size_t)(4 * n + 1)), *scores = malloc(sizeof(float) * (size_t)(n + 1));
            float *labels_f = malloc(sizeof(float) * (size_t)(n + 1));
            int *labels = malloc(sizeof(int) * (size_t)(n + 1)), *want = malloc(sizeof(int) * (size_t)(n + 1));
            make_boxes(boxes, n, &rng);
            for (int i = 0; i < n; i++) {
                scores[i] = (float)((i * 37) % 23) / 23.0f; /* 23 values: ties */
                labels[i] = i % 4, labels_f[i] = (float)labels[i];
            }
            int64_t sh[2] = {n, 4}, s1 = n;
            wb_tensor *tb = wb_tensor_from_host(ctx, 2, sh, boxes), *ts = wb_tensor_from_host(ctx, 1, &s1, scores);
            wb_tensor *tl = with_labels ? wb_tensor_from_host(ctx, 1, &s1, labels_f) : NULL;
            wb_tensor *keep = wb_nms_tensor(ctx, tb, ts, tl, 0.4f);
            ck_assert_msg(keep != NULL, "%s: %s", be->name, e.c.msg);
            int kept = ctx->host->nms(boxes, scores, with_labels ? labels : NULL, n, 0.4f, want);
            wb_tensor_info info = wb_info(ctx, keep);
            ck_assert_int_eq(info.ndim, 1);
            ck_assert_msg(info.shape[0] == kept, "%s n %d labels %d: %lld kept, host nms %d", be->name, n,
                          with_labels, (long long)info.shape[0], kept);
            float *got = host_copy(ctx, keep);
            for (int k = 0; k < kept; k++)
                ck_assert_msg(got[k] == (float)want[k], "%s n %d: keep[%d] %g, host %d", be->name, n, k,
                              (double)got[k], want[k]);
            if (n > 64) ck_assert(kept > 1 && kept < n);
            /* The kept rows picked on the backend are the host's rows. */
            float *rows = host_copy(ctx, wb_index_select(ctx, tb, 0, keep));
            for (int k = 0; k < 4 * kept; k++) ck_assert_float_eq(rows[k], boxes[4 * want[k / 4] + k % 4]);
            ck_assert_msg(wb_ok(ctx) == WB_OK, "%s: %s", be->name, e.c.msg);
            free(got), free(rows), free(boxes), free(scores), free(labels_f), free(labels), free(want);
            wbt_env_free(&e);
        }
    }
}
END_TEST

START_TEST(malformed_box_tensors_are_refused) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    wb_ctx *ctx = e.ctx;
    int64_t s5[2] = {3, 5}, s4[2] = {3, 4}, s2[2] = {2, 4}, n3 = 3, n2 = 2;
    wbt_expect_error(&e, wb_box_iou_tensor(ctx, wb_tensor_new(ctx, 2, s5), wb_tensor_new(ctx, 2, s4)),
                     "box_iou_tensor: a [3, 5] must be [N, 4] boxes");
    wbt_expect_error(&e, wb_box_decode_tensor(ctx, wb_tensor_new(ctx, 2, s4), wb_tensor_new(ctx, 2, s2), MEANS, STDS,
                                              0.0f, 0, 0),
                     "box_decode_tensor: deltas [2, 4] must have one row per box of [3, 4]");
    wbt_expect_error(&e, wb_nms_tensor(ctx, wb_tensor_new(ctx, 2, s4), wb_tensor_new(ctx, 1, &n2), NULL, 0.5f),
                     "nms_tensor: scores [2] must be 1-D with one value per box (3 boxes)");
    wbt_expect_error(&e, wb_nms_tensor(ctx, wb_tensor_new(ctx, 2, s4), wb_tensor_new(ctx, 1, &n3),
                                       wb_tensor_new(ctx, 2, s4), 0.5f),
                     "nms_tensor: labels [3, 4] must be 1-D");
    wbt_expect_error(&e, wb_grid_anchors_tensor(ctx, NULL, 3, 2, 2, 8), "grid_anchors_tensor: needs base anchors");
    wbt_env_free(&e);
}
END_TEST

/* A backend without the box family (a CUDA module older than ABI 1.4). */
START_TEST(backend_without_box_kernels_is_refused) {
    wb_backend old = *wb_backend_ref();
    old.boxes = NULL;
    wbt_env e;
    wbt_env_init(&e, &old, 1);
    int64_t s4[2] = {3, 4}, n3 = 3;
    wb_tensor *keep = wb_nms_tensor(e.ctx, wb_tensor_new(e.ctx, 2, s4), wb_tensor_new(e.ctx, 1, &n3), NULL, 0.5f);
    ck_assert_ptr_null(keep);
    ck_assert_int_eq(e.c.err, WB_ERR_UNSUPPORTED);
    ck_assert_msg(strstr(e.c.msg, "nms_tensor: the ref backend has no box kernels (a CUDA module older than this "
                                  "workbench): rebuild the module"),
                  "%s", e.c.msg);
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("box_tensors");
    TCase *t = tcase_create("box_tensors");
    tcase_add_loop_test(t, tensor_boxes_are_the_host_utilities, 0, 3);
    tcase_add_loop_test(t, nms_tensor_keeps_the_host_list, 0, 3);
    tcase_add_test(t, malformed_box_tensors_are_refused);
    tcase_add_test(t, backend_without_box_kernels_is_refused);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
