/* The CUDA optimizer kernels' per-element updates (cuda/optim_math.h) run
 * on the CPU the way the kernels run them, over several steps, against the
 * reference backend: SGD (plain, momentum, dampening, Nesterov, weight
 * decay), AdamW with its bias corrections, EMA and scale bit-identical
 * after every step; sum_squares over the tree of cuda/tree_reduce.h within
 * double rounding of the reference's ordered sum. */
#include <stdio.h>
#include "backends/cuda/optim_math.h"
#include "backends/families.h"
#include "cuda_replay.h"
#include "wbtest.h"

static const wb_optim_kernels *ref(void) { return wb_ref_optim_kernels(); }

static const int64_t SIZES[] = {1, 7, 1031};
#define STEPS 5

typedef struct opt_ctx {
    float *p, *buf, *m, *v;
    const float *g;
    wb_sgd_args sgd;
    wb_adamw_step adam;
    float s;
} opt_ctx;

/* The kernels' bodies: load, update through the shared function, store. */
static void sgd_body(void *c, int64_t i) {
    opt_ctx *e = c;
    bool has_buf = e->sgd.momentum != 0.0f;
    float pv = e->p[i], bv = has_buf ? e->buf[i] : 0.0f;
    wb_sgd_elem(&pv, e->g[i], &bv, e->sgd);
    e->p[i] = pv;
    if (has_buf) e->buf[i] = bv;
}

static void adamw_body(void *c, int64_t i) {
    opt_ctx *e = c;
    float pv = e->p[i], mv = e->m[i], vv = e->v[i];
    wb_adamw_elem(&pv, e->g[i], &mv, &vv, &e->adam);
    e->p[i] = pv, e->m[i] = mv, e->v[i] = vv;
}

static void ema_body(void *c, int64_t i) {
    opt_ctx *e = c;
    e->p[i] = wb_ema_elem(e->p[i], e->g[i], e->s);
}

static void scale_body(void *c, int64_t i) {
    opt_ctx *e = c;
    e->p[i] *= e->s;
}

static float *copy_of(const float *x, int64_t n) {
    float *y = malloc((size_t)n * sizeof *y);
    memcpy(y, x, (size_t)n * sizeof *y);
    return y;
}

START_TEST(sgd_matches_reference_over_steps) {
    static const wb_sgd_args configs[] = {
        {0.1f, 0.0f, 0.0f, 0.0f, 0, 0},     /* plain: no momentum buffer at all */
        {0.02f, 0.9f, 0.0f, 5e-4f, 0, 0},   /* torchvision detection recipes */
        {0.01f, 0.937f, 0.1f, 5e-4f, 0, 0}, /* dampening */
        {0.01f, 0.9f, 0.0f, 1e-4f, 1, 0},   /* Nesterov (YOLOv5) */
    };
    for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++)
        for (size_t c = 0; c < sizeof configs / sizeof *configs; c++) {
            int64_t n = SIZES[s];
            float *p_ref = cr_random(n, -1, 1, 1), *p = copy_of(p_ref, n);
            bool has_buf = configs[c].momentum != 0.0f;
            float *buf_ref = has_buf ? calloc(n, sizeof(float)) : NULL;
            float *buf = has_buf ? calloc(n, sizeof(float)) : NULL;
            for (int step = 0; step < STEPS; step++) {
                float *g = cr_random(n, -2, 2, 10 + step);
                wb_sgd_args a = configs[c];
                a.first_step = step == 0;
                ref()->sgd(p_ref, g, buf_ref, n, &a);
                opt_ctx e = {.p = p, .buf = buf, .g = g, .sgd = a};
                cr_grid(n, sgd_body, &e);
                char what[80];
                snprintf(what, sizeof what, "sgd config %zu, n %lld, step %d", c, (long long)n, step + 1);
                cr_assert_same(what, p, p_ref, n);
                if (has_buf) cr_assert_same(what, buf, buf_ref, n);
                free(g);
            }
            free(p_ref), free(p), free(buf_ref), free(buf);
        }
}
END_TEST

START_TEST(adamw_matches_reference_over_steps) {
    static const wb_adamw_args configs[] = {
        {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0},
        {1e-4f, 0.9f, 0.999f, 1e-6f, 0.05f, 0},
        {2e-3f, 0.5f, 0.9f, 1e-8f, 0.0f, 0},
    };
    for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++)
        for (size_t c = 0; c < sizeof configs / sizeof *configs; c++) {
            int64_t n = SIZES[s];
            float *p_ref = cr_random(n, -1, 1, 2), *p = copy_of(p_ref, n);
            float *m_ref = calloc(n, sizeof(float)), *m = calloc(n, sizeof(float));
            float *v_ref = calloc(n, sizeof(float)), *v = calloc(n, sizeof(float));
            for (int step = 1; step <= STEPS; step++) {
                /* Zero gradients too: v stays 0 there and eps alone guards the division. */
                float *g = cr_random(n, -1, 1, 20 + step);
                if (n > 3) g[3] = 0.0f;
                wb_adamw_args a = configs[c];
                a.step = step;
                ref()->adamw(p_ref, g, m_ref, v_ref, n, &a);
                opt_ctx e = {.p = p, .m = m, .v = v, .g = g, .adam = wb_adamw_step_of(&a)};
                cr_grid(n, adamw_body, &e);
                char what[80];
                snprintf(what, sizeof what, "adamw config %zu, n %lld, step %d", c, (long long)n, step);
                cr_assert_same(what, p, p_ref, n);
                cr_assert_same(what, m, m_ref, n);
                cr_assert_same(what, v, v_ref, n);
                free(g);
            }
            free(p_ref), free(p), free(m_ref), free(m), free(v_ref), free(v);
        }
}
END_TEST

START_TEST(ema_and_scale_match_reference) {
    for (size_t s = 0; s < sizeof SIZES / sizeof *SIZES; s++) {
        int64_t n = SIZES[s];
        float *avg_ref = cr_random(n, -1, 1, 3), *avg = copy_of(avg_ref, n);
        for (int step = 0; step < STEPS; step++) {
            float *x = cr_random(n, -1, 1, 30 + step), momentum = 1.0f - 0.9999f * (1.0f - 1.0f / (step + 2.0f));
            ref()->ema(avg_ref, x, n, momentum);
            opt_ctx e = {.p = avg, .g = x, .s = momentum};
            cr_grid(n, ema_body, &e);
            cr_assert_same("ema", avg, avg_ref, n);
            free(x);
        }
        ref()->scale(avg_ref, n, 0.3f);
        opt_ctx e = {.p = avg, .s = 0.3f};
        cr_grid(n, scale_body, &e);
        cr_assert_same("scale", avg, avg_ref, n);
        free(avg_ref), free(avg);
    }
}
END_TEST

static double square_term(const void *c, int64_t j, int64_t k) {
    (void)j;
    const float *x = c;
    return (double)x[k] * x[k];
}

/* Both sums are double in different orders. The reference's ordered sum of
 * n positive terms is within (n - 1) * 2^-53 of the true sum, relatively;
 * the tree (at most 1 + WB_TREE_CHUNK / WB_TREE_BLOCK + 2 * 8 additions deep
 * per term) is checked against a long double sum to 1e-14. */
START_TEST(sum_squares_matches_reference) {
    static const int64_t sizes[] = {0, 1, 33, 4097, 1000000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int64_t n = sizes[s];
        float *x = cr_random(n, -3, 3, 40 + s);
        double want = ref()->sum_squares(x, n), got;
        cr_tree(1, n, square_term, x, &got);
        long double exact = 0.0L;
        for (int64_t i = 0; i < n; i++) exact += (long double)x[i] * x[i];
        ck_assert_msg(fabs(got - want) <= (double)n * 0x1.0p-53 * want,
                      "sum_squares of %lld: %.17g, the reference says %.17g", (long long)n, got, want);
        ck_assert_msg(fabsl((long double)got - exact) <= 1e-14L * exact,
                      "sum_squares of %lld: %.17g, long double %.17Lg", (long long)n, got, exact);
        free(x);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("cuda_math_optim");
    TCase *t = tcase_create("cuda_math_optim");
    tcase_add_test(t, sgd_matches_reference_over_steps);
    tcase_add_test(t, adamw_matches_reference_over_steps);
    tcase_add_test(t, ema_and_scale_match_reference);
    tcase_add_test(t, sum_squares_matches_reference);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
