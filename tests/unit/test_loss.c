/* Loss primitives: torch parity of values and gradients (ref and cpu),
 * finite-difference gradients for every loss and reduction, the CPU kernels
 * against the reference on large inputs, edge cases and error messages. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <workbench/ops.h>
#include "opcheck.h"

typedef enum loss_kind { FOCAL, BCE, CE, SMOOTH_L1, L1, IOU } loss_kind;

typedef struct loss_spec {
    loss_kind kind;
    float p0, p1;      /* focal gamma, alpha; smooth L1 beta; IoU eps */
    wb_iou_mode mode;
} loss_spec;

static wb_tensor *call_loss(wb_ctx *ctx, const loss_spec *s, wb_tensor *a, wb_tensor *b, wb_tensor *w,
                            wb_reduction r) {
    switch (s->kind) {
    case FOCAL: return wb_sigmoid_focal_loss(ctx, a, b, w, s->p0, s->p1, r);
    case BCE: return WB_H(ctx)->bce_with_logits(ctx, a, b, w, r);
    case CE: return WB_H(ctx)->softmax_cross_entropy(ctx, a, b, w, r);
    case SMOOTH_L1: return WB_H(ctx)->smooth_l1_loss(ctx, a, b, w, s->p0, r);
    case L1: return WB_H(ctx)->l1_loss(ctx, a, b, w, r);
    case IOU: return WB_H(ctx)->iou_loss(ctx, a, b, w, s->mode, s->p0, r);
    }
    return NULL;
}

static const char *const REDUCTION_NAMES[] = {"none", "sum", "mean"};

/* ---------------------------------------------------------------- parity */

typedef struct parity_case {
    const char *name;
    loss_kind kind;
    bool grad_b;       /* torch gives the target a gradient (regression losses) */
} parity_case;

static const parity_case PARITY[] = {
    {"focal", FOCAL, false}, {"focal_noalpha", FOCAL, false}, {"bce", BCE, false},
    {"ce", CE, false},       {"smooth_l1", SMOOTH_L1, true},  {"l1", L1, true},
    {"iou", IOU, true},      {"giou", IOU, true},             {"diou", IOU, true},
    {"ciou", IOU, true},
};
#define N_PARITY (int)(sizeof PARITY / sizeof PARITY[0])

static wb_tensor *tensor_of(wbt_env *e, const wb_st_file *f, const char *name) {
    const wb_st_tensor *t = wb_st_find(f, name);
    ck_assert_msg(t != NULL, "parity file has no tensor '%s'", name);
    return wbt_from(e, t->ndim, t->shape, t->data);
}

static loss_spec spec_from(const parity_case *pc, const wb_st_file *f) {
    loss_spec s = {.kind = pc->kind};
    if (pc->kind == FOCAL) s.p0 = (float)wbt_parity_attr(f, "gamma"), s.p1 = (float)wbt_parity_attr(f, "alpha");
    if (pc->kind == SMOOTH_L1) s.p0 = (float)wbt_parity_attr(f, "beta");
    if (pc->kind == IOU) s.p0 = (float)wbt_parity_attr(f, "eps"), s.mode = (wb_iou_mode)wbt_parity_attr(f, "mode");
    return s;
}

/* Tolerances against the float64 torch reference. Values: the kernels do
 * float32 transcendental math (a few ulp each), so rtol 2e-6 (~16 ulp) with
 * atol 1e-7 for losses that underflow towards 0. Gradients: rtol 1e-5 and
 * atol 2e-7, because p - t and softmax - onehot cancel to values far below
 * 1, where float32 keeps only an absolute ~6e-8 (half an ulp of 1).
 * Measured worst: 1.9e-6 absolute on the focal values (12% of the
 * tolerance), 6e-8 on gradients. */
#define VAL_ATOL 1e-7
#define VAL_RTOL 2e-6
#define GRAD_ATOL 2e-7
#define GRAD_RTOL 1e-5

static void check_parity_case(const wb_backend *backend, const parity_case *pc) {
    char file[64], what[128];
    snprintf(file, sizeof file, "loss_%s", pc->name);
    wb_st_file f;
    if (!wbt_parity_open(file, &f)) return;
    loss_spec s = spec_from(pc, &f);
    float upstream = (float)wbt_parity_attr(&f, "upstream");
    bool has_w = wbt_parity_attr(&f, "has_w") != 0;
    wbt_env e;
    wbt_env_init(&e, backend, 1);
    for (int r = 0; r < 3; r++) {
        wbt_env_reset(&e);
        wb_tensor *a = tensor_of(&e, &f, "a"), *b = tensor_of(&e, &f, "b");
        wb_tensor *w = has_w ? tensor_of(&e, &f, "w") : NULL;
        a->requires_grad = true;
        b->requires_grad = pc->grad_b;
        wb_tensor *out = call_loss(e.ctx, &s, a, b, w, (wb_reduction)r);
        ck_assert_msg(out != NULL, "%s: %s", file, e.c.msg);

        snprintf(what, sizeof what, "%s [%s] %s value", pc->name, backend->name, REDUCTION_NAMES[r]);
        char key[32];
        snprintf(key, sizeof key, "out_%s", REDUCTION_NAMES[r]);
        wbt_assert_close(what, out->data, wbt_parity_tensor(&f, key, out->numel), out->numel, VAL_ATOL, VAL_RTOL);

        float *gy = wb_grad_begin(&e.c, out);
        if (r == WB_REDUCE_NONE) memcpy(gy, wbt_parity_tensor(&f, "gy_none", out->numel), (size_t)out->numel * 4);
        else gy[0] = upstream;
        wb_grad_end(&e.c, out, gy);
        ck_assert_msg(wb_tape_backward(&e.c) == WB_OK, "%s backward: %s", file, e.c.msg);

        snprintf(key, sizeof key, "ga_%s", REDUCTION_NAMES[r]);
        snprintf(what, sizeof what, "%s [%s] %s d/d input", pc->name, backend->name, REDUCTION_NAMES[r]);
        ck_assert(a->grad_valid);
        wbt_assert_close(what, a->grad, wbt_parity_tensor(&f, key, a->numel), a->numel, GRAD_ATOL, GRAD_RTOL);
        if (pc->grad_b) {
            snprintf(key, sizeof key, "gb_%s", REDUCTION_NAMES[r]);
            snprintf(what, sizeof what, "%s [%s] %s d/d target", pc->name, backend->name, REDUCTION_NAMES[r]);
            ck_assert(b->grad_valid);
            wbt_assert_close(what, b->grad, wbt_parity_tensor(&f, key, b->numel), b->numel, GRAD_ATOL,
                             GRAD_RTOL);
        }
    }
    wbt_env_free(&e);
    wb_st_free(&f);
}

START_TEST(test_parity_ref) { check_parity_case(wb_backend_ref(), &PARITY[_i]); }
END_TEST

START_TEST(test_parity_cpu) { check_parity_case(wb_backend_cpu(), &PARITY[_i]); }
END_TEST

/* ---------------------------------------------------- finite differences */

typedef struct fd_user {
    loss_spec spec;
    wb_reduction r;
    bool has_w;
} fd_user;

static wb_tensor *fd_call(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    const fd_user *u = user;
    return call_loss(ctx, &u->spec, in[0], in[1], u->has_w ? in[2] : NULL, u->r);
}

/* Runs opcheck for every reduction, with and without a weight. inputs[2]
 * is the weight. */
static void fd_all_reductions(const char *op, loss_spec spec, opcheck_input *inputs, const wb_backend *backend) {
    for (int r = 0; r < 3; r++) {
        for (int has_w = 0; has_w < 2; has_w++) {
            char name[96];
            snprintf(name, sizeof name, "%s (%s%s)", op, REDUCTION_NAMES[r], has_w ? ", weighted" : "");
            fd_user u = {spec, (wb_reduction)r, has_w};
            opcheck_gradients(name, fd_call, &u, inputs, 2 + has_w,
                              (opcheck_opts){.backend = backend, .seed = (uint64_t)(10 * r + has_w + 1)});
        }
    }
}

static void fill_uniform(float *v, int n, float lo, float hi, uint64_t *rng) {
    for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * wb_rng_uniform(rng);
}

START_TEST(test_fd_focal_bce) {
    enum { R = 3, C = 5 };
    uint64_t rng = 5;
    float target[R * C];
    for (int i = 0; i < R * C; i++) target[i] = i % 4 == 3 ? wb_rng_uniform(&rng) : (float)(i % 2);
    opcheck_input in[3] = {
        {.ndim = 2, .shape = {R, C}, .lo = -4, .hi = 4, .grad = true},
        {.ndim = 2, .shape = {R, C}, .values = target},
        {.ndim = 2, .shape = {R, C}, .lo = 0, .hi = 2},
    };
    fd_all_reductions("sigmoid_focal_loss", (loss_spec){FOCAL, 2.0f, 0.25f, 0}, in, NULL);
    fd_all_reductions("sigmoid_focal_loss gamma 1.5 no alpha", (loss_spec){FOCAL, 1.5f, -1.0f, 0}, in, NULL);
    fd_all_reductions("bce_with_logits", (loss_spec){BCE, 0, 0, 0}, in, NULL);
    fd_all_reductions("sigmoid_focal_loss [cpu]", (loss_spec){FOCAL, 2.0f, 0.25f, 0}, in, wb_backend_cpu());
}
END_TEST

START_TEST(test_fd_softmax_ce) {
    enum { N = 6, C = 4 };
    float labels[N] = {0, 3, -1, 2, 1, 3};
    opcheck_input in[3] = {
        {.ndim = 2, .shape = {N, C}, .lo = -3, .hi = 3, .grad = true},
        {.ndim = 1, .shape = {N}, .values = labels},
        {.ndim = 1, .shape = {N}, .lo = 0, .hi = 2},
    };
    fd_all_reductions("softmax_cross_entropy", (loss_spec){CE, 0, 0, 0}, in, NULL);
}
END_TEST

/* pred - target kept 0.05 away from the kinks at 0 and +-beta, so a 1e-3
 * finite-difference step never straddles one. */
START_TEST(test_fd_smooth_l1) {
    enum { N = 14 };
    const float beta = 0.5f;
    static const float diffs[N] = {0.1f, -0.2f, 0.3f, -0.45f, 0.55f, -0.7f, 1.2f,
                                   -1.5f, 0.05f, -0.08f, 0.9f, -0.6f, 0.42f, -2.0f};
    float pred[N], target[N];
    uint64_t rng = 9;
    fill_uniform(pred, N, -2, 2, &rng);
    for (int i = 0; i < N; i++) target[i] = pred[i] - diffs[i];
    opcheck_input in[3] = {
        {.ndim = 2, .shape = {2, 7}, .values = pred, .grad = true},
        {.ndim = 2, .shape = {2, 7}, .values = target, .grad = true},
        {.ndim = 2, .shape = {2, 7}, .lo = 0, .hi = 2},
    };
    fd_all_reductions("smooth_l1_loss", (loss_spec){SMOOTH_L1, beta, 0, 0}, in, NULL);
    fd_all_reductions("l1_loss", (loss_spec){L1, 0, 0, 0}, in, NULL);
}
END_TEST

/* Boxes whose every compared coordinate pair (intersection and enclosing
 * box) differs by at least 0.1 and whose overlaps are at least 0.5 wide:
 * the max/min kinks stay out of reach of the finite-difference step. Rows 0
 * and 5 do not overlap at all (shifted by 12, larger than any box). */
static void make_box_pairs(float *pred, float *target, int n) {
    uint64_t rng = 77;
    for (int i = 0; i < n; i++) {
        float x = 10 * wb_rng_uniform(&rng), y = 10 * wb_rng_uniform(&rng);
        float w = 3.5f + 4 * wb_rng_uniform(&rng), h = 3.5f + 4 * wb_rng_uniform(&rng);
        float p[4] = {x, y, x + w, y + h};
        float shift = (i == 0 || i == 5) ? 12.0f : 0.0f;
        for (int k = 0; k < 4; k++) {
            float off = 0.1f + 1.4f * wb_rng_uniform(&rng);
            pred[4 * i + k] = p[k];
            target[4 * i + k] = p[k] + (wb_rng_uniform(&rng) < 0.5f ? -off : off) + shift;
        }
    }
}

START_TEST(test_fd_iou) {
    enum { N = 8 };
    float pred[4 * N], target[4 * N];
    make_box_pairs(pred, target, N);
    opcheck_input in[3] = {
        {.ndim = 2, .shape = {N, 4}, .values = pred, .grad = true},
        {.ndim = 2, .shape = {N, 4}, .values = target, .grad = true},
        {.ndim = 1, .shape = {N}, .lo = 0, .hi = 2},
    };
    /* CIoU is left out on purpose: its alpha is held constant in the
     * gradient (torchvision, mmdetection), so the analytic gradient is not
     * the derivative of the forward; the torch parity test covers it. */
    static const char *const names[] = {"iou_loss IoU", "iou_loss GIoU", "iou_loss DIoU"};
    for (int m = WB_IOU; m <= WB_DIOU; m++)
        fd_all_reductions(names[m], (loss_spec){IOU, 1e-7f, 0, (wb_iou_mode)m}, in, NULL);
}
END_TEST

/* ------------------------------------------------------- cpu vs reference */

typedef struct big_result {
    float *out, *ga, *gb;
    double seconds;
} big_result;

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Forward (reduction none) and backward of one loss on a backend; copies
 * the results out so the two backends can be compared. Runs twice and times
 * the second iteration, once the arena pages and OpenMP threads exist. */
static big_result run_big(const wb_backend *backend, const loss_spec *s, int nd_a, const int64_t *shape_a,
                          const float *a_data, int nd_b, const int64_t *shape_b, const float *b_data,
                          bool grad_b) {
    wbt_env e;
    wbt_env_init(&e, backend, 3);
    big_result res = {0};
    for (int iter = 0; iter < 2; iter++) {
        wbt_env_reset(&e);
        wb_tensor *a = wbt_from(&e, nd_a, shape_a, a_data), *b = wbt_from(&e, nd_b, shape_b, b_data);
        a->requires_grad = true;
        b->requires_grad = grad_b;
        double t0 = now();
        wb_tensor *out = call_loss(e.ctx, s, a, b, NULL, WB_REDUCE_NONE);
        ck_assert_msg(out != NULL, "%s", e.c.msg);
        float *gy = wb_grad_begin(&e.c, out);
        uint64_t rng = 4;
        for (int64_t i = 0; i < out->numel; i++) gy[i] = wb_rng_uniform(&rng) - 0.5f;
        wb_grad_end(&e.c, out, gy);
        ck_assert(wb_tape_backward(&e.c) == WB_OK);
        res.seconds = now() - t0;
        if (iter == 0) continue;
        res.out = malloc((size_t)out->numel * 4);
        res.ga = malloc((size_t)a->numel * 4);
        memcpy(res.out, out->data, (size_t)out->numel * 4);
        memcpy(res.ga, a->grad, (size_t)a->numel * 4);
        if (grad_b) {
            res.gb = malloc((size_t)b->numel * 4);
            memcpy(res.gb, b->grad, (size_t)b->numel * 4);
        }
    }
    wbt_env_free(&e);
    return res;
}

/* CPU kernels share the reference's element math and differ by threading
 * and compiler vectorization; with glibc's scalar libm they agree bit for
 * bit today, the tolerance (rtol 1e-5, atol 1e-6 for gradients that cancel
 * to near zero) leaves room for a vector libm (<= 4 ulp per call). */
static void compare_big(const char *op, const loss_spec *s, int nd_a, const int64_t *shape_a,
                        const float *a, int nd_b, const int64_t *shape_b, const float *b, bool grad_b,
                        int64_t n_out) {
    big_result ref = run_big(wb_backend_ref(), s, nd_a, shape_a, a, nd_b, shape_b, b, grad_b);
    big_result cpu = run_big(wb_backend_cpu(), s, nd_a, shape_a, a, nd_b, shape_b, b, grad_b);
    int64_t na = wb_shape_numel(nd_a, shape_a);
    char what[96];
    snprintf(what, sizeof what, "%s cpu vs ref value", op);
    wbt_assert_close(what, cpu.out, ref.out, n_out, 1e-6, 1e-5);
    snprintf(what, sizeof what, "%s cpu vs ref d/d input", op);
    wbt_assert_close(what, cpu.ga, ref.ga, na, 1e-6, 1e-5);
    if (grad_b) {
        snprintf(what, sizeof what, "%s cpu vs ref d/d target", op);
        wbt_assert_close(what, cpu.gb, ref.gb, wb_shape_numel(nd_b, shape_b), 1e-6, 1e-5);
    }
    printf("%-22s %9lld elements: ref %7.2f ms, cpu %7.2f ms (forward + backward)\n", op, (long long)na,
           1e3 * ref.seconds, 1e3 * cpu.seconds);
    free(ref.out), free(ref.ga), free(ref.gb), free(cpu.out), free(cpu.ga), free(cpu.gb);
}

START_TEST(test_cpu_matches_ref) {
    /* A RetinaNet-sized classification map: ~49k anchors x 20 classes. */
    const int64_t n = 49104, c = 20, total = n * c;
    float *x = malloc((size_t)total * 4), *t = malloc((size_t)total * 4), *labels = malloc((size_t)n * 4);
    uint64_t rng = 21;
    fill_uniform(x, (int)total, -8, 8, &rng);
    for (int64_t i = 0; i < total; i++) t[i] = wb_rng_uniform(&rng) < 0.02f ? 1.0f : 0.0f;
    for (int64_t i = 0; i < n; i++) labels[i] = (float)(wb_rng_next(&rng) % (uint64_t)(c + 1)) - 1.0f;
    int64_t shape[2] = {n, c};
    compare_big("sigmoid_focal_loss", &(loss_spec){FOCAL, 2.0f, 0.25f, 0}, 2, shape, x, 2, shape, t, false, total);
    compare_big("bce_with_logits", &(loss_spec){BCE, 0, 0, 0}, 2, shape, x, 2, shape, t, false, total);
    compare_big("softmax_cross_entropy", &(loss_spec){CE, 0, 0, 0}, 2, shape, x, 1, &n, labels, false, n);
    compare_big("smooth_l1_loss", &(loss_spec){SMOOTH_L1, 0.11f, 0, 0}, 2, shape, x, 2, shape, t, true, total);

    const int64_t nb = 20000;
    float *pb = malloc((size_t)nb * 16), *tb = malloc((size_t)nb * 16);
    make_box_pairs(pb, tb, (int)nb);
    int64_t bshape[2] = {nb, 4};
    for (int m = WB_IOU; m <= WB_CIOU; m++)
        compare_big("iou_loss", &(loss_spec){IOU, 1e-7f, 0, (wb_iou_mode)m}, 2, bshape, pb, 2, bshape, tb, true, nb);
    free(x), free(t), free(labels), free(pb), free(tb);
}
END_TEST

/* ------------------------------------------------------------ edge cases */

START_TEST(test_saturated_logits_stay_finite) {
    /* At |x| = 100 a naive log(sigmoid) gives -inf; the stable forms give
     * the exact limits: bce(100, 0) = 100, bce(-100, 0) = 0. */
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    int64_t shape[1] = {4};
    wb_tensor *x = wbt_from(&e, 1, shape, (float[]){100, -100, 100, -100});
    wb_tensor *t = wbt_from(&e, 1, shape, (float[]){0, 0, 1, 1});
    x->requires_grad = true;
    wb_tensor *bce = WB_H(e.ctx)->bce_with_logits(e.ctx, x, t, NULL, WB_REDUCE_NONE);
    wbt_assert_close("bce at +-100", bce->data, ((float[]){100, 0, 0, 100}), 4, 1e-6, 1e-6);
    wb_tensor *focal = wb_sigmoid_focal_loss(e.ctx, x, t, NULL, 2.0f, 0.25f, WB_REDUCE_SUM);
    /* Only the confidently wrong rows count: alpha_t * bce * 1^2 = 0.75 * 100 + 0.25 * 100. */
    ck_assert_float_eq_tol(focal->data[0], 100.0f, 1e-4f);
    float *g = wb_grad_begin(&e.c, focal);
    g[0] = 1.0f;
    wb_grad_end(&e.c, focal, g);
    ck_assert(wb_tape_backward(&e.c) == WB_OK);
    for (int i = 0; i < 4; i++) ck_assert_msg(isfinite(x->grad[i]), "focal gradient %d is %g", i, x->grad[i]);
    wbt_env_free(&e);
}
END_TEST

START_TEST(test_ce_all_ignored_mean_is_zero) {
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wb_tensor *x = wbt_from(&e, 2, (int64_t[]){2, 3}, (float[]){1, 2, 3, 4, 5, 6});
    wb_tensor *labels = wbt_from(&e, 1, (int64_t[]){2}, (float[]){-1, -1});
    x->requires_grad = true;
    wb_tensor *out = WB_H(e.ctx)->softmax_cross_entropy(e.ctx, x, labels, NULL, WB_REDUCE_MEAN);
    ck_assert_ptr_nonnull(out);
    ck_assert_float_eq(out->data[0], 0.0f);
    float *g = wb_grad_begin(&e.c, out);
    g[0] = 1.0f;
    wb_grad_end(&e.c, out, g);
    ck_assert(wb_tape_backward(&e.c) == WB_OK);
    for (int i = 0; i < 6; i++) ck_assert_float_eq(x->grad[i], 0.0f);
    wbt_env_free(&e);
}
END_TEST

/* ---------------------------------------------------------- bad arguments */

static void expect_error(wbt_env *e, wb_tensor *out, const char *message) {
    ck_assert_ptr_null(out);
    ck_assert_int_eq(e->c.err, WB_ERR_INVALID);
    ck_assert_str_eq(e->c.msg, message);
    wbt_env_reset(e);
}

START_TEST(test_error_messages) {
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wb_ctx *ctx = e.ctx;
    const wb_host_api *h = WB_H(ctx);
    uint64_t rng = 1;
    int64_t s23[2] = {2, 3}, s32[2] = {3, 2}, s35[2] = {3, 5}, s2[1] = {2};
#define RND(nd, s) wbt_random(&e, nd, s, 0, 1, &rng)
    expect_error(&e, wb_sigmoid_focal_loss(ctx, RND(2, s23), RND(2, s32), NULL, 2, 0.25f, WB_REDUCE_SUM),
                 "sigmoid_focal_loss: target has shape [3, 2] but logits has [2, 3] (they must match)");
    expect_error(&e, h->bce_with_logits(ctx, RND(2, s23), RND(2, s23), RND(1, s2), WB_REDUCE_MEAN),
                 "bce_with_logits: weight has shape [2] but the elementwise loss has [2, 3] (pass NULL for no "
                 "weight)");
    expect_error(&e, h->l1_loss(ctx, RND(2, s23), RND(2, s23), NULL, (wb_reduction)7),
                 "l1_loss: reduction 7 is not one of none (0), sum (1), mean (2)");
    expect_error(&e, h->iou_loss(ctx, RND(2, s35), RND(2, s35), NULL, WB_GIOU, 1e-7f, WB_REDUCE_SUM),
                 "iou_loss: pred [3, 5] must be [N, 4] boxes x1, y1, x2, y2");
    expect_error(&e, h->softmax_cross_entropy(ctx, RND(2, s23), RND(1, (int64_t[]){3}), NULL, WB_REDUCE_SUM),
                 "softmax_cross_entropy: labels [3] must be [2], one class index per row of logits [2, 3]");
    wb_tensor *bad = wbt_from(&e, 1, s2, (float[]){1, 3});
    expect_error(&e, h->softmax_cross_entropy(ctx, RND(2, s23), bad, NULL, WB_REDUCE_MEAN),
                 "softmax_cross_entropy: label 3 of row 1 is not a class index in [0, 3) nor -1 (ignored)");
    expect_error(&e, h->smooth_l1_loss(ctx, RND(2, s23), NULL, NULL, 1.0f, WB_REDUCE_SUM),
                 "smooth_l1_loss: input 1 is NULL");
#undef RND
    wbt_env_free(&e);
}
END_TEST

static Suite *loss_suite(void) {
    Suite *s = suite_create("loss");
    TCase *parity = tcase_create("torch parity");
    tcase_add_loop_test(parity, test_parity_ref, 0, N_PARITY);
    tcase_add_loop_test(parity, test_parity_cpu, 0, N_PARITY);
    suite_add_tcase(s, parity);
    TCase *fd = tcase_create("finite differences");
    tcase_add_test(fd, test_fd_focal_bce);
    tcase_add_test(fd, test_fd_softmax_ce);
    tcase_add_test(fd, test_fd_smooth_l1);
    tcase_add_test(fd, test_fd_iou);
    suite_add_tcase(s, fd);
    TCase *opt = tcase_create("cpu vs reference");
    tcase_add_test(opt, test_cpu_matches_ref);
    suite_add_tcase(s, opt);
    TCase *edge = tcase_create("edge cases and errors");
    tcase_add_test(edge, test_saturated_logits_stay_finite);
    tcase_add_test(edge, test_ce_all_ignored_mean_is_zero);
    tcase_add_test(edge, test_error_messages);
    suite_add_tcase(s, edge);
    return s;
}

int main(void) { return wbt_run_suite(loss_suite()); }
