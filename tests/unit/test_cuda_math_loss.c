/* The CUDA loss kernels' per-element and per-row code (loss_math.h,
 * cuda/loss_rows.h) run on the CPU the way the kernels run it, against the
 * reference backend: bit-identical (same expressions), with and without
 * weights, elementwise and scalar upstream gradients, ignored and refused
 * labels, every IoU mode. sum runs the CUDA tree (cuda/tree_reduce.h) and
 * must round to the reference's float within one ulp. */
#include <stdio.h>
#include "backends/cuda/loss_rows.h"
#include "backends/families.h"
#include "cuda_replay.h"
#include "wbtest.h"

static const wb_loss_kernels *ref(void) { return wb_ref_loss_kernels(); }

static const int64_t SIZES[] = {1, 13, 1031};

typedef struct loss_ctx {
    const float *x, *t, *w;
    float gamma, alpha, beta, eps;
    wb_iou_mode mode;
    wb_loss_grad gy;
    int64_t c;
    float *out, *out2;
    int64_t counted, first_bad;
} loss_ctx;

static void focal_body(void *c, int64_t i) {
    loss_ctx *e = c;
    e->out[i] = wb_focal_elem(e->x[i], e->t[i], e->gamma, e->alpha) * wb_loss_weight(e->w, i);
}
static void focal_grad_body(void *c, int64_t i) {
    loss_ctx *e = c;
    e->out[i] = wb_focal_grad(e->x[i], e->t[i], e->gamma, e->alpha) * wb_loss_weight(e->w, i) *
                wb_loss_upstream(e->gy, i);
}
static void bce_body(void *c, int64_t i) {
    loss_ctx *e = c;
    e->out[i] = wb_bce_elem(e->x[i], e->t[i]) * wb_loss_weight(e->w, i);
}
static void bce_grad_body(void *c, int64_t i) {
    loss_ctx *e = c;
    e->out[i] = wb_bce_grad(e->x[i], e->t[i]) * wb_loss_weight(e->w, i) * wb_loss_upstream(e->gy, i);
}
static void smooth_l1_body(void *c, int64_t i) {
    loss_ctx *e = c;
    e->out[i] = wb_smooth_l1_elem(e->x[i] - e->t[i], e->beta) * wb_loss_weight(e->w, i);
}
static void smooth_l1_grad_body(void *c, int64_t i) {
    loss_ctx *e = c;
    float g = wb_smooth_l1_grad(e->x[i] - e->t[i], e->beta) * wb_loss_weight(e->w, i) * wb_loss_upstream(e->gy, i);
    if (e->out) e->out[i] = g;
    if (e->out2) e->out2[i] = -g;
}

/* Logits from confident to undecided, targets hard and soft. */
static void classification_data(int64_t n, float **x, float **t, float **w, float **g) {
    *x = cr_random(n, -8, 8, 1);
    *t = cr_random(n, 0, 1, 2);
    *w = cr_random(n, 0, 2, 3);
    *g = cr_random(n, -1, 1, 4);
    static const float extremes[] = {0.0f, 30.0f, -30.0f, 100.0f, -100.0f, 1e-6f};
    for (int64_t i = 0; i < n; i++) {
        if (i % 3 == 0) (*t)[i] = 1.0f;
        if (i % 3 == 1) (*t)[i] = 0.0f;
        if (i < 6 && n > 6) (*x)[n - 1 - i] = extremes[i];
    }
}

START_TEST(classification_losses_match_reference) {
    static const float gammas[] = {0.0f, 1.5f, 2.0f}, alphas[] = {-1.0f, 0.25f};
    for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++) {
        int64_t n = SIZES[s];
        float *x, *t, *w, *g, *want = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
        classification_data(n, &x, &t, &w, &g);
        const float scalar = 0.125f;
        /* Upstream: elementwise (reduction none) or one scalar (stride 0). */
        wb_loss_grad ups[2] = {{g, 1, 1.0f}, {&scalar, 0, 0.5f}};
        for (int weighted = 0; weighted < 2; weighted++)
            for (int u = 0; u < 2; u++) {
                const float *wp = weighted ? w : NULL;
                char what[128];
                loss_ctx e = {x, t, wp, 0, 0, 0, 0, WB_IOU, ups[u], 0, got, NULL, 0, 0};
                for (size_t gi = 0; gi < 3; gi++)
                    for (size_t ai = 0; ai < 2; ai++) {
                        e.gamma = gammas[gi], e.alpha = alphas[ai];
                        snprintf(what, sizeof what, "focal n %lld gamma %g alpha %g weighted %d upstream %d",
                                 (long long)n, gammas[gi], alphas[ai], weighted, u);
                        ref()->sigmoid_focal(x, t, wp, n, e.gamma, e.alpha, want);
                        cr_grid(n, focal_body, &e);
                        cr_assert_same(what, got, want, n);
                        ref()->sigmoid_focal_backward(x, t, wp, n, e.gamma, e.alpha, ups[u], want);
                        cr_grid(n, focal_grad_body, &e);
                        cr_assert_same(what, got, want, n);
                    }
                snprintf(what, sizeof what, "bce n %lld weighted %d upstream %d", (long long)n, weighted, u);
                ref()->bce_with_logits(x, t, wp, n, want);
                cr_grid(n, bce_body, &e);
                cr_assert_same(what, got, want, n);
                ref()->bce_with_logits_backward(x, t, wp, n, ups[u], want);
                cr_grid(n, bce_grad_body, &e);
                cr_assert_same(what, got, want, n);
            }
        free(x), free(t), free(w), free(g), free(want), free(got);
    }
}
END_TEST

START_TEST(smooth_l1_matches_reference) {
    static const float betas[] = {0.0f, 1.0f / 9.0f, 1.0f};
    for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++) {
        int64_t n = SIZES[s];
        float *p = cr_random(n, -2, 2, 5), *t = cr_random(n, -2, 2, 6), *w = cr_random(n, 0, 1, 7),
              *g = cr_random(n, -1, 1, 8);
        float *want = malloc(n * sizeof(float)), *want2 = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float)),
              *got2 = malloc(n * sizeof(float));
        t[0] = p[0]; /* d = 0: gradient 0 */
        wb_loss_grad gy = {g, 1, 2.0f};
        for (size_t b = 0; b < 3; b++)
            for (int weighted = 0; weighted < 2; weighted++) {
                const float *wp = weighted ? w : NULL;
                loss_ctx e = {p, t, wp, 0, 0, betas[b], 0, WB_IOU, gy, 0, got, got2, 0, 0};
                ref()->smooth_l1(p, t, wp, n, betas[b], want);
                cr_grid(n, smooth_l1_body, &e);
                cr_assert_same("smooth_l1", got, want, n);
                ref()->smooth_l1_backward(p, t, wp, n, betas[b], gy, want, want2);
                cr_grid(n, smooth_l1_grad_body, &e);
                cr_assert_same("smooth_l1 gradient of p", got, want, n);
                cr_assert_same("smooth_l1 gradient of t", got2, want2, n);
                /* gt not wanted. */
                e.out2 = NULL;
                cr_grid(n, smooth_l1_grad_body, &e);
                cr_assert_same("smooth_l1 gradient of p alone", got, want, n);
            }
        free(p), free(t), free(w), free(g), free(want), free(want2), free(got), free(got2);
    }
}
END_TEST

static void ce_body(void *c, int64_t i) {
    loss_ctx *e = c;
    wb_ce_row r = wb_softmax_ce_at(e->x, e->t, e->w, i, e->c, e->out);
    /* The kernel's integer atomics: a count and a minimum. */
    if (r == WB_CE_COUNTED) e->counted++;
    else if (r == WB_CE_BAD_LABEL && (e->first_bad < 0 || i < e->first_bad)) e->first_bad = i;
}
static void ce_grad_body(void *c, int64_t i) {
    loss_ctx *e = c;
    wb_softmax_ce_grad_at(e->x, e->t, e->w, i, e->c, e->gy, e->out);
}

/* Rows of 1, 3 and 81 classes; labels valid, ignored (-1) and refused
 * (c, 1.5, -2) in the later rows, so the first bad row is not row 0. */
START_TEST(softmax_ce_matches_reference) {
    static const int64_t classes[] = {1, 3, 81};
    for (size_t ci = 0; ci < 3; ci++)
        for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++) {
            int64_t n = SIZES[s], c = classes[ci];
            float *x = cr_random(n * c, -20, 20, 9), *labels = cr_random(n, 0, (float)c, 10),
                  *w = cr_random(n, 0, 1, 11), *g = cr_random(n, -1, 1, 12);
            for (int64_t i = 0; i < n; i++) labels[i] = floorf(labels[i]);
            if (n > 5) labels[3] = -1.0f;
            for (int pass = 0; pass < 2; pass++) {
                if (pass == 1 && n > 9) labels[9] = (float)c, labels[7] = 1.5f, labels[n - 1] = -2.0f;
                float *want = malloc((size_t)(n * c) * sizeof(float)), *got = malloc((size_t)(n * c) * sizeof(float));
                int64_t bad_ref;
                int64_t counted_ref = ref()->softmax_ce(x, labels, w, n, c, want, &bad_ref);
                loss_ctx e = {x, labels, w, 0, 0, 0, 0, WB_IOU, {g, 1, 1.0f}, c, got, NULL, 0, -1};
                cr_grid(n, ce_body, &e);
                ck_assert_int_eq(e.counted, counted_ref);
                ck_assert_int_eq(e.first_bad, bad_ref);
                cr_assert_same("softmax_ce", got, want, n);
                if (pass == 0) {
                    ref()->softmax_ce_backward(x, labels, w, n, c, e.gy, want);
                    cr_grid(n, ce_grad_body, &e);
                    cr_assert_same("softmax_ce gradient", got, want, n * c);
                }
                free(want), free(got);
            }
            free(x), free(labels), free(w), free(g);
        }
}
END_TEST

static void iou_body(void *c, int64_t i) {
    loss_ctx *e = c;
    e->out[i] = wb_iou_at(e->x, e->t, e->w, i, e->mode, e->eps);
}
static void iou_grad_body(void *c, int64_t i) {
    loss_ctx *e = c;
    wb_iou_grad_at(e->x, e->t, e->w, i, e->mode, e->eps, e->gy, e->out, e->out2);
}

/* Boxes overlapping, disjoint, identical, nested and touching. */
START_TEST(iou_losses_match_reference) {
    for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++) {
        int64_t n = SIZES[s];
        float *p = malloc((size_t)(4 * n) * sizeof(float)), *t = malloc((size_t)(4 * n) * sizeof(float));
        uint64_t rng = 77 + s;
        for (int64_t i = 0; i < n; i++) {
            float x = cr_uniform(&rng, 0, 50), y = cr_uniform(&rng, 0, 50);
            p[4 * i] = x, p[4 * i + 1] = y;
            p[4 * i + 2] = x + cr_uniform(&rng, 1, 30), p[4 * i + 3] = y + cr_uniform(&rng, 1, 30);
            float dx = i % 5 == 0 ? 0 : cr_uniform(&rng, -20, 40), dy = i % 5 == 0 ? 0 : cr_uniform(&rng, -20, 40);
            t[4 * i] = p[4 * i] + dx, t[4 * i + 1] = p[4 * i + 1] + dy;
            t[4 * i + 2] = i % 5 == 0 ? p[4 * i + 2] : t[4 * i] + cr_uniform(&rng, 1, 30);
            t[4 * i + 3] = i % 7 == 3 ? p[4 * i + 1] : t[4 * i + 1] + cr_uniform(&rng, 1, 30);
            if (i % 7 == 3) t[4 * i + 1] = t[4 * i + 3] - 4.0f;
        }
        float *w = cr_random(n, 0, 1, 13), *g = cr_random(n, -1, 1, 14);
        float *want = malloc((size_t)(4 * n) * sizeof(float)), *want2 = malloc((size_t)(4 * n) * sizeof(float)),
              *got = malloc((size_t)(4 * n) * sizeof(float)), *got2 = malloc((size_t)(4 * n) * sizeof(float));
        for (int mode = WB_IOU; mode <= WB_CIOU; mode++) {
            char what[64];
            snprintf(what, sizeof what, "iou mode %d, n %lld", mode, (long long)n);
            wb_loss_grad gy = {g, 1, 1.0f};
            loss_ctx e = {p, t, w, 0, 0, 0, 1e-7f, (wb_iou_mode)mode, gy, 0, got, got2, 0, 0};
            ref()->iou(p, t, w, n, e.mode, e.eps, want);
            cr_grid(n, iou_body, &e);
            cr_assert_same(what, got, want, n);
            ref()->iou_backward(p, t, w, n, e.mode, e.eps, gy, want, want2);
            cr_grid(n, iou_grad_body, &e);
            cr_assert_same(what, got, want, 4 * n);
            cr_assert_same(what, got2, want2, 4 * n);
            e.out2 = NULL; /* gt not wanted */
            cr_grid(n, iou_grad_body, &e);
            cr_assert_same(what, got, want, 4 * n);
        }
        free(p), free(t), free(w), free(g), free(want), free(want2), free(got), free(got2);
    }
}
END_TEST

static double value_term(const void *c, int64_t j, int64_t k) {
    (void)j;
    return ((const float *)c)[k];
}

/* sum over the tree against the reference's ordered double sum: the same
 * float within one ulp; for the 10^6-element vector (245 chunks, pass 2)
 * the tree's double agrees with a long double sum to 1e-13 relative. */
START_TEST(sum_matches_reference) {
    static const int64_t sizes[] = {0, 1, 31, 33, 4097, 1000000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int64_t n = sizes[s];
        float *x = cr_random(n, -1, 1, 15 + s), want, got;
        ref()->sum(x, n, 0.25f, &want);
        double tree;
        cr_tree(1, n, value_term, x, &tree);
        got = (float)(0.25f * tree);
        ck_assert_msg(cr_ulps(got, want) <= 1, "sum of %lld: %.9g vs the reference's %.9g", (long long)n, (double)got,
                      (double)want);
        long double exact = 0.0L, mag = 0.0L;
        for (int64_t i = 0; i < n; i++) exact += x[i], mag += fabsf(x[i]);
        ck_assert_msg(fabsl((long double)tree - exact) <= 1e-13L * (mag + 1e-30L),
                      "sum of %lld: tree %.17g, long double %.17Lg", (long long)n, tree, exact);
        free(x);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("cuda_math_loss");
    TCase *t = tcase_create("cuda_math_loss");
    tcase_add_test(t, classification_losses_match_reference);
    tcase_add_test(t, smooth_l1_matches_reference);
    tcase_add_test(t, softmax_ce_matches_reference);
    tcase_add_test(t, iou_losses_match_reference);
    tcase_add_test(t, sum_matches_reference);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
