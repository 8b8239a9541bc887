/* The elementwise SDK ops (ABI 1.2), called through the host table as a
 * plugin calls them: torch parity of forward and backward on both backends
 * (tests/parity/gen_elementwise.py, broadcasting, ties, bounds, NaN), finite
 * differences, the OpenMP kernels against the reference, comparisons and
 * detach recording nothing, and two losses written only with these ops
 * (varifocal, GIoU) against torch's autograd. */
#include <math.h>
#include <workbench/ops.h>
#include "pointwise_testing.h"
#include "runtime/tensor_refs.h"

#define IN0 in[0]
#define OP1(name, expr) \
    static wb_tensor *name(wb_ctx *c, wb_tensor *const *in, void *u) { (void)u; return expr; }

OP1(run_sub, wb_sub(c, in[0], in[1]))
OP1(run_div, wb_div(c, in[0], in[1]))
OP1(run_minimum, wb_minimum(c, in[0], in[1]))
OP1(run_maximum, wb_maximum(c, in[0], in[1]))
OP1(run_gt, wb_gt(c, in[0], in[1]))
OP1(run_ge, wb_ge(c, in[0], in[1]))
OP1(run_lt, wb_lt(c, in[0], in[1]))
OP1(run_le, wb_le(c, in[0], in[1]))
OP1(run_eq, wb_eq(c, in[0], in[1]))
OP1(run_ne, wb_ne(c, in[0], in[1]))
OP1(run_neg, wb_neg(c, IN0))
OP1(run_exp, wb_exp(c, IN0))
OP1(run_ln, wb_ln(c, IN0))
OP1(run_abs, wb_abs(c, IN0))
OP1(run_add_scalar, wb_add_scalar(c, IN0, 0.75f))
OP1(run_where, wb_where(c, in[0], in[1], in[2]))
/* where(m, x, x): both branches are one tensor, whose gradient is dy. */
OP1(run_where_self, wb_where(c, in[0], in[1], in[1]))

static wb_tensor *run_pow(wb_ctx *c, wb_tensor *const *in, void *u) { return wb_pow(c, in[0], *(const float *)u); }

static wb_tensor *run_clamp(wb_ctx *c, wb_tensor *const *in, void *u) {
    const float *b = u;
    return wb_clamp(c, in[0], b[0], b[1]);
}

/* mmdetection's varifocal loss (iou_weighted, alpha 0.75, gamma 2, sum) with
 * BCE-with-logits spelled out: max(x, 0) - x t + log(1 + exp(-|x|)). */
static wb_tensor *varifocal(wb_ctx *c, wb_tensor *const *in, void *u) {
    (void)u;
    wb_tensor *x = in[0], *t = in[1], *zero = wb_tensor_new(c, 1, (int64_t[]){1});
    wb_tensor *p = wb_sigmoid(c, x);
    wb_tensor *negative_w = wb_scale(c, wb_pow(c, wb_abs(c, wb_sub(c, p, t)), 2.0f), 0.75f);
    wb_tensor *w = wb_where(c, wb_gt(c, t, zero), t, negative_w);
    wb_tensor *softplus = wb_ln(c, wb_add_scalar(c, wb_exp(c, wb_neg(c, wb_abs(c, x))), 1.0f));
    wb_tensor *bce = wb_add(c, wb_sub(c, wb_clamp(c, x, 0.0f, NAN), wb_mul(c, x, t)), softplus);
    return wb_sum(c, wb_mul(c, bce, w), -1, 0);
}

/* Width times height of [N,4] x1y1x2y2 rows, as [N,1]. */
static wb_tensor *box_area(wb_ctx *c, wb_tensor *lt, wb_tensor *rb) {
    wb_tensor *wh = wb_sub(c, rb, lt);
    return wb_mul(c, wb_slice(c, wh, 1, 0, 1), wb_slice(c, wh, 1, 1, 2));
}

/* mmdetection's giou_loss (eps 1e-6, mean). */
static wb_tensor *giou(wb_ctx *c, wb_tensor *const *in, void *u) {
    (void)u;
    const float eps = 1e-6f;
    wb_tensor *p_lt = wb_slice(c, in[0], 1, 0, 2), *p_rb = wb_slice(c, in[0], 1, 2, 4);
    wb_tensor *t_lt = wb_slice(c, in[1], 1, 0, 2), *t_rb = wb_slice(c, in[1], 1, 2, 4);
    wb_tensor *wh = wb_clamp(c, wb_sub(c, wb_minimum(c, p_rb, t_rb), wb_maximum(c, p_lt, t_lt)), 0.0f, NAN);
    wb_tensor *overlap = wb_mul(c, wb_slice(c, wh, 1, 0, 1), wb_slice(c, wh, 1, 1, 2));
    wb_tensor *areas = wb_add(c, box_area(c, p_lt, p_rb), box_area(c, t_lt, t_rb));
    wb_tensor *uni = wb_add_scalar(c, wb_sub(c, areas, overlap), eps);
    wb_tensor *ewh = wb_clamp(c, wb_sub(c, wb_maximum(c, p_rb, t_rb), wb_minimum(c, p_lt, t_lt)), 0.0f, NAN);
    wb_tensor *enclose = wb_add_scalar(c, wb_mul(c, wb_slice(c, ewh, 1, 0, 1), wb_slice(c, ewh, 1, 1, 2)), eps);
    wb_tensor *g = wb_sub(c, wb_div(c, overlap, uni), wb_div(c, wb_sub(c, enclose, uni), enclose));
    return wb_mean(c, wb_rsub_scalar(c, 1.0f, g), -1, 0);
}

/* Torch parity of one case on backend be. grads: bit i set when input i
 * has a gradient in the case; 0 means the op records nothing at all. */
static void ew_parity(const char *case_name, const wb_backend *be, opcheck_fn fn, void *user,
                      const char *const *names, int n_in, unsigned grads, double atol, double rtol) {
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    char what[160];
    wb_tensor *in[PW_MAX_IN];
    for (int i = 0; i < n_in; i++) in[i] = wbt_parity_input(&e, &f, names[i], (grads >> i) & 1u);
    int nodes_before = e.c.tape.count;
    wb_tensor *y = fn(e.ctx, in, user);
    ck_assert_msg(y != NULL, "%s on %s: forward failed: %s", case_name, be->name, e.c.msg);
    const wb_st_tensor *ty = wb_st_find(&f, "y");
    ck_assert_ptr_nonnull(ty);
    snprintf(what, sizeof what, "%s on %s: output", case_name, be->name);
    if (wbt_parity_attr(&f, "y_ndim") == 0)
        ck_assert_msg(y->ndim == 0, "%s: rank %d, expected 0 (a scalar)", what, y->ndim);
    else
        pw_assert_shape(what, y, ty->ndim, ty->shape);
    wbt_assert_close(what, y->data, ty->data, ty->numel, atol, rtol);
    if (!grads) {
        ck_assert_msg(!y->requires_grad && e.c.tape.count == nodes_before, "%s: recorded a gradient", what);
        wbt_env_free(&e);
        wb_st_free(&f);
        return;
    }
    const float *dy = wbt_parity_tensor(&f, "dy", y->numel);
    float *g = wb_grad_begin(&e.c, y);
    memcpy(g, dy, (size_t)y->numel * sizeof *g);
    wb_grad_end(&e.c, y, g);
    ck_assert_msg(wb_tape_backward(&e.c) == WB_OK, "%s: backward failed: %s", case_name, e.c.msg);
    for (int i = 0; i < n_in; i++) {
        snprintf(what, sizeof what, "%s on %s: gradient d%s", case_name, be->name, names[i]);
        if (!((grads >> i) & 1u)) {
            ck_assert_msg(!in[i]->grad_valid, "%s: written, but the input takes no gradient", what);
            continue;
        }
        char name[WB_NAME_MAX];
        snprintf(name, sizeof name, "d%s", names[i]);
        const float *expect = wbt_parity_tensor(&f, name, in[i]->numel);
        ck_assert_msg(in[i]->grad_valid, "%s: never written", what);
        wbt_assert_close(what, in[i]->grad, expect, in[i]->numel, atol, rtol);
    }
    wbt_env_free(&e);
    wb_st_free(&f);
}

static const char *const TAGS[] = {"same", "bias", "rank", "both", "scalar", "odd", "long"};
#define N_TAGS (int)(sizeof TAGS / sizeof TAGS[0])
static const char *const AB[] = {"a", "b"};
static const char *const X[] = {"x"};
static const char *const CAB[] = {"cond", "a", "b"};
static const char *const PT[] = {"pred", "target"};

/* "Exactly equal": wbt_tol_ratio needs a non-zero bound, and no float
 * difference is below the smallest normal float. */
#define EXACT 1e-38, 0.0

static const wb_backend *backend_at(int i) { return i == 0 ? wb_backend_ref() : wb_backend_cpu(); }

/* sub, min and max are exact; div's quotients too, and its gradients are
 * the same formulas as torch's. Broadcast gradients are sums, in another
 * order than torch's: up to 24 terms stay within 1e-6; "long" sums 371
 * unit-variance terms serially in float on the reference (seen: 1.1e-5 off
 * at a value of 3.9), hence 2e-5 there. */
START_TEST(binary_parity_with_torch) {
    char name[64];
    double tol = strcmp(TAGS[_i], "long") == 0 ? 2e-5 : 1e-6;
    for (int b = 0; b < 2; b++) {
        const wb_backend *be = backend_at(b);
        snprintf(name, sizeof name, "ew_sub_%s", TAGS[_i]);
        ew_parity(name, be, run_sub, NULL, AB, 2, 3u, tol, tol);
        snprintf(name, sizeof name, "ew_div_%s", TAGS[_i]);
        ew_parity(name, be, run_div, NULL, AB, 2, 3u, tol, tol);
        /* Small integers: ties everywhere, where torch splits the gradient. */
        snprintf(name, sizeof name, "ew_minimum_%s", TAGS[_i]);
        ew_parity(name, be, run_minimum, NULL, AB, 2, 3u, tol, tol);
        snprintf(name, sizeof name, "ew_maximum_%s", TAGS[_i]);
        ew_parity(name, be, run_maximum, NULL, AB, 2, 3u, tol, tol);
    }
}
END_TEST

START_TEST(comparisons_match_torch_and_record_nothing) {
    static const struct {
        const char *name;
        opcheck_fn fn;
    } cmp[] = {{"gt", run_gt}, {"ge", run_ge}, {"lt", run_lt}, {"le", run_le}, {"eq", run_eq}, {"ne", run_ne}};
    char name[64];
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < 6; k++) {
            for (int t = 0; t < N_TAGS; t++) {
                snprintf(name, sizeof name, "ew_%s_%s", cmp[k].name, TAGS[t]);
                ew_parity(name, backend_at(b), cmp[k].fn, NULL, AB, 2, 0u, EXACT);
            }
            snprintf(name, sizeof name, "ew_%s_nan", cmp[k].name);
            ew_parity(name, backend_at(b), cmp[k].fn, NULL, AB, 2, 0u, EXACT);
        }
    /* NaN propagates through minimum and maximum, as in torch. */
    for (int b = 0; b < 2; b++) {
        ew_parity("ew_minimum_nan", backend_at(b), run_minimum, NULL, AB, 2, 0u, EXACT);
        ew_parity("ew_maximum_nan", backend_at(b), run_maximum, NULL, AB, 2, 0u, EXACT);
    }
}
END_TEST

/* neg, abs, clamp and add_scalar are exact; exp, log and pow are libm's
 * against torch's vectorized kernels: a couple of ulp (2.4e-7 relative). */
START_TEST(unary_parity_with_torch) {
    static const struct {
        const char *tag;
        float p;
    } pows[] = {{"2", 2}, {"3", 3}, {"0", 0}, {"1", 1}, {"m1", -1}, {"m2", -2},
                {"0p5", 0.5f}, {"m0p5", -0.5f}, {"1p7", 1.7f}, {"m1p3", -1.3f}};
    static const struct {
        const char *tag;
        float b[2];
    } clamps[] = {{"both", {-1.0f, 1.5f}}, {"lo", {0.5f, NAN}}, {"hi", {NAN, 0.25f}}, {"crossed", {1.0f, -1.0f}}};
    char name[64];
    for (int b = 0; b < 2; b++) {
        const wb_backend *be = backend_at(b);
        ew_parity("ew_neg", be, run_neg, NULL, X, 1, 1u, EXACT);
        ew_parity("ew_abs", be, run_abs, NULL, X, 1, 1u, EXACT);
        ew_parity("ew_add_scalar", be, run_add_scalar, NULL, X, 1, 1u, EXACT);
        ew_parity("ew_exp", be, run_exp, NULL, X, 1, 1u, 1e-7, 1e-6);
        ew_parity("ew_log", be, run_ln, NULL, X, 1, 1u, 1e-7, 1e-6);
        for (int k = 0; k < (int)(sizeof pows / sizeof pows[0]); k++) {
            snprintf(name, sizeof name, "ew_pow_%s", pows[k].tag);
            ew_parity(name, be, run_pow, (void *)&pows[k].p, X, 1, 1u, 1e-7, 1e-6);
        }
        for (int k = 0; k < 4; k++) {
            snprintf(name, sizeof name, "ew_clamp_%s", clamps[k].tag);
            ew_parity(name, be, run_clamp, (void *)clamps[k].b, X, 1, 1u, EXACT);
        }
    }
}
END_TEST

START_TEST(where_parity_with_torch) {
    static const char *const tags[] = {"same", "mixed", "cond_small"};
    char name[64];
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < 3; k++) {
            snprintf(name, sizeof name, "ew_where_%s", tags[k]);
            ew_parity(name, backend_at(b), run_where, NULL, CAB, 3, 6u, 1e-6, 1e-6);
        }
}
END_TEST

/* "A few lines of ops with a free backward": the two losses' gradients from
 * the tape against torch's autograd of the same formulas. */
START_TEST(losses_from_ops_match_torch_autograd) {
    for (int b = 0; b < 2; b++) {
        ew_parity("ew_varifocal", backend_at(b), varifocal, NULL, PT, 2, 1u, 1e-6, 1e-5);
        ew_parity("ew_giou", backend_at(b), giou, NULL, PT, 2, 1u, 1e-6, 1e-5);
    }
}
END_TEST

START_TEST(gradients_by_finite_differences) {
    const wb_backend *be = backend_at(_i);
    opcheck_opts o = {.backend = be, .seed = 11};
    opcheck_input ab[2] = {{.ndim = 3, .shape = {2, 1, 5}, .lo = -2, .hi = 2, .grad = true},
                           {.ndim = 2, .shape = {3, 1}, .lo = -2, .hi = 2, .grad = true}};
    opcheck_gradients("sub", run_sub, NULL, ab, 2, o);
    opcheck_gradients("minimum", run_minimum, NULL, ab, 2, o);
    opcheck_gradients("maximum", run_maximum, NULL, ab, 2, o);
    ab[1].lo = 0.5f, ab[1].hi = 2.0f;
    opcheck_gradients("div", run_div, NULL, ab, 2, o);
    ab[1].lo = -2.0f, ab[1].hi = -0.5f;
    opcheck_gradients("div by negatives", run_div, NULL, ab, 2, o);

    opcheck_input x = {.ndim = 2, .shape = {4, 9}, .lo = -2, .hi = 2, .grad = true};
    opcheck_gradients("neg", run_neg, NULL, &x, 1, o);
    opcheck_gradients("exp", run_exp, NULL, &x, 1, o);
    opcheck_gradients("abs", run_abs, NULL, &x, 1, o);
    opcheck_gradients("add_scalar", run_add_scalar, NULL, &x, 1, o);
    float p3 = 3.0f, bounds[2] = {-1.0f, 1.5f}, lower[2] = {0.25f, NAN};
    opcheck_gradients("pow 3", run_pow, &p3, &x, 1, o);
    opcheck_gradients("clamp", run_clamp, bounds, &x, 1, o);
    opcheck_gradients("clamp below only", run_clamp, lower, &x, 1, o);
    x.lo = 0.5f, x.hi = 3.0f;
    float p17 = 1.7f, pm13 = -1.3f;
    opcheck_gradients("log", run_ln, NULL, &x, 1, o);
    opcheck_gradients("pow 1.7", run_pow, &p17, &x, 1, o);
    opcheck_gradients("pow -1.3", run_pow, &pm13, &x, 1, o);

    static const float mask[15] = {1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 0, 0, 1, 1, 1};
    opcheck_input w[3] = {{.ndim = 2, .shape = {3, 5}, .values = mask},
                          {.ndim = 2, .shape = {1, 5}, .lo = -2, .hi = 2, .grad = true},
                          {.ndim = 3, .shape = {2, 3, 1}, .lo = -2, .hi = 2, .grad = true}};
    opcheck_gradients("where", run_where, NULL, w, 3, o);
    w[1] = (opcheck_input){.ndim = 2, .shape = {3, 5}, .lo = -2, .hi = 2, .grad = true};
    opcheck_gradients("where(m, x, x)", run_where_self, NULL, w, 2, o);

    static const float target[12] = {0, 0.8f, 0, 0.3f, 0, 0, 0.55f, 0, 0, 0.9f, 0, 0.1f};
    opcheck_input vf[2] = {{.ndim = 2, .shape = {3, 4}, .lo = -3, .hi = 3, .grad = true},
                           {.ndim = 2, .shape = {3, 4}, .values = target}};
    opcheck_gradients("varifocal from ops", varifocal, NULL, vf, 2, o);
}
END_TEST

/* The OpenMP kernels against the reference on a detector-sized input (above
 * the threading threshold) and broadcast patterns. Elementwise results are
 * the same formulas, so they must agree exactly; gradients summed over
 * broadcast dims (the reference in float, the CPU in double) within 1e-4. */
START_TEST(cpu_matches_reference) {
    opcheck_input big = {.ndim = 4, .shape = {4, 32, 40, 40}, .lo = -3, .hi = 3, .grad = true};
    opcheck_input pos = big;
    pos.lo = 0.1f;
    float p = 1.7f, bounds[2] = {-1.0f, 1.5f};
    pw_cpu_vs_ref("neg", run_neg, NULL, &big, 1, EXACT);
    pw_cpu_vs_ref("exp", run_exp, NULL, &big, 1, EXACT);
    pw_cpu_vs_ref("abs", run_abs, NULL, &big, 1, EXACT);
    pw_cpu_vs_ref("clamp", run_clamp, bounds, &big, 1, EXACT);
    pw_cpu_vs_ref("add_scalar", run_add_scalar, NULL, &big, 1, EXACT);
    pw_cpu_vs_ref("log", run_ln, NULL, &pos, 1, EXACT);
    pw_cpu_vs_ref("pow 1.7", run_pow, &p, &pos, 1, EXACT);
    struct {
        const char *what;
        int nb;
        int64_t sb[4];
    } pats[] = {{"same", 4, {4, 32, 40, 40}}, {"[32,1,1]", 3, {32, 1, 1}}, {"[4,1,40,40]", 4, {4, 1, 40, 40}}};
    static const struct {
        const char *name;
        opcheck_fn fn;
    } ops[] = {{"sub", run_sub}, {"div", run_div}, {"minimum", run_minimum}, {"maximum", run_maximum}};
    for (int k = 0; k < 3; k++) {
        opcheck_input in[2] = {big, {.ndim = pats[k].nb, .lo = 0.5f, .hi = 2.0f, .grad = true}};
        memcpy(in[1].shape, pats[k].sb, sizeof pats[k].sb);
        double atol = k == 0 ? 1e-38 : 1e-3, rtol = k == 0 ? 0.0 : 1e-4;
        for (int o = 0; o < 4; o++) {
            char what[96];
            snprintf(what, sizeof what, "%s [4,32,40,40] op %s", ops[o].name, pats[k].what);
            pw_cpu_vs_ref(what, ops[o].fn, NULL, in, 2, atol, rtol);
        }
        opcheck_input w[3] = {{.ndim = pats[k].nb, .lo = -1, .hi = 1}, big, big};
        memcpy(w[0].shape, pats[k].sb, sizeof pats[k].sb);
        char what[96];
        snprintf(what, sizeof what, "where, cond %s", pats[k].what);
        pw_cpu_vs_ref(what, run_where, NULL, w, 3, EXACT);
        /* Broadcast branches: their gradients are sums, as above. */
        opcheck_input wb[3] = {{.ndim = 4, .shape = {4, 32, 40, 40}, .lo = -1, .hi = 1}, in[1], big};
        snprintf(what, sizeof what, "where, a %s", pats[k].what);
        pw_cpu_vs_ref(what, run_where, NULL, wb, 3, atol, rtol);
    }
}
END_TEST

/* detach: the same values without an edge: sum(detach(x) * x) has gradient x, not 2x. */
START_TEST(detach_stops_the_gradient) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 3;
    wb_tensor *x = wbt_random(&e, 2, (int64_t[]){3, 4}, -1, 1, &rng);
    x->requires_grad = true;
    int nodes = e.c.tape.count;
    wb_tensor *d = wb_detach(e.ctx, x);
    ck_assert_ptr_nonnull(d);
    ck_assert(!d->requires_grad);
    ck_assert_int_eq(e.c.tape.count, nodes);
    for (int k = 0; k < 12; k++) ck_assert_float_eq(d->data[k], x->data[k]);
    wb_tensor *y = wb_sum(e.ctx, wb_mul(e.ctx, d, x), -1, 0);
    float *g = wb_grad_begin(&e.c, y);
    g[0] = 1.0f;
    wb_grad_end(&e.c, y, g);
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    for (int k = 0; k < 12; k++) ck_assert_float_eq_tol(x->grad[k], x->data[k], 1e-7f);
    wbt_env_free(&e);
}
END_TEST

/* Every op's backward reads only what its node keeps: with the inputs'
 * own references dropped right after the forward (as a module's forward
 * returning does), the gradients are unchanged, and under ASan reading
 * freed (poisoned) data would abort. */
static void grads_after_release(const wb_backend *be, const char *what, opcheck_fn fn, void *user, int n_in,
                                bool release, float *grads) {
    wbt_env e;
    wbt_env_init(&e, be, 1);
    uint64_t rng = 77;
    wb_tensor *in[3];
    for (int i = 0; i < n_in; i++) {
        in[i] = wbt_random(&e, 2, (int64_t[]){4, 6}, 0.5f, 2.0f, &rng);
        in[i]->requires_grad = true;
    }
    wb_tensor *y = fn(e.ctx, in, user);
    ck_assert_msg(y != NULL, "%s: %s", what, e.c.msg);
    for (int i = 0; release && i < n_in; i++) wb_tensor_release(e.s, in[i]);
    float *g = wb_grad_begin(&e.c, y);
    for (int64_t k = 0; k < y->numel; k++) g[k] = (float)(k % 5) - 2.0f;
    wb_grad_end(&e.c, y, g);
    ck_assert_msg(wb_tape_backward(&e.c) == WB_OK, "%s: %s", what, e.c.msg);
    for (int i = 0; i < n_in; i++)
        for (int k = 0; k < 24; k++) grads[i * 24 + k] = in[i]->grad_valid ? in[i]->grad[k] : 0.0f;
    wbt_env_free(&e);
}

START_TEST(backward_reads_only_what_it_keeps) {
    float p = 1.7f, bounds[2] = {0.8f, 1.6f};
    static const struct {
        const char *name;
        opcheck_fn fn;
        int n_in;
    } ops[] = {{"sub", run_sub, 2},  {"div", run_div, 2},          {"minimum", run_minimum, 2},
               {"maximum", run_maximum, 2}, {"neg", run_neg, 1},   {"exp", run_exp, 1},
               {"log", run_ln, 1},   {"abs", run_abs, 1},          {"add_scalar", run_add_scalar, 1},
               {"pow", run_pow, 1},  {"clamp", run_clamp, 1},      {"where", run_where, 3}};
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < (int)(sizeof ops / sizeof ops[0]); k++) {
            void *user = ops[k].fn == run_pow ? (void *)&p : ops[k].fn == run_clamp ? (void *)bounds : NULL;
            float kept[72], released[72];
            grads_after_release(backend_at(b), ops[k].name, ops[k].fn, user, ops[k].n_in, false, kept);
            grads_after_release(backend_at(b), ops[k].name, ops[k].fn, user, ops[k].n_in, true, released);
            wbt_assert_close(ops[k].name, released, kept, 24 * ops[k].n_in, 1e-38, 0.0);
        }
}
END_TEST

START_TEST(bad_arguments_are_errors) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    wb_tensor *a = wb_ctx_tensor_zeros(&e.c, 3, (int64_t[]){2, 3, 4});
    wb_tensor *b = wb_ctx_tensor_zeros(&e.c, 2, (int64_t[]){5, 4});
    ck_assert_ptr_null(wb_sub(e.ctx, a, b));
    pw_assert_error(&e, "sub: shapes [2, 3, 4] and [5, 4] do not broadcast", "3 vs 5");
    a = wb_ctx_tensor_zeros(&e.c, 3, (int64_t[]){2, 3, 4});
    b = wb_ctx_tensor_zeros(&e.c, 2, (int64_t[]){3, 4});
    wb_tensor *m = wb_ctx_tensor_zeros(&e.c, 1, (int64_t[]){3});
    ck_assert_ptr_null(wb_where(e.ctx, m, a, b));
    pw_assert_error(&e, "where: shapes [3], [2, 3, 4] and [3, 4] do not broadcast", "3 vs 4");
    a = wb_ctx_tensor_zeros(&e.c, 1, (int64_t[]){3});
    ck_assert_ptr_null(wb_pow(e.ctx, a, NAN));
    pw_assert_error(&e, "pow: the exponent is NaN", NULL);
    a = wb_ctx_tensor_zeros(&e.c, 1, (int64_t[]){3});
    ck_assert_ptr_null(wb_maximum(e.ctx, a, NULL));
    pw_assert_error(&e, "maximum", "input 1 is NULL");
    ck_assert_ptr_null(wb_detach(e.ctx, NULL));
    pw_assert_error(&e, "detach", "input 0 is NULL");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("elementwise");
    TCase *tc = tcase_create("elementwise");
    tcase_add_loop_test(tc, binary_parity_with_torch, 0, N_TAGS);
    tcase_add_test(tc, comparisons_match_torch_and_record_nothing);
    tcase_add_test(tc, unary_parity_with_torch);
    tcase_add_test(tc, where_parity_with_torch);
    tcase_add_test(tc, losses_from_ops_match_torch_autograd);
    tcase_add_loop_test(tc, gradients_by_finite_differences, 0, 2);
    tcase_add_test(tc, cpu_matches_reference);
    tcase_add_test(tc, detach_stops_the_gradient);
    tcase_add_test(tc, backward_reads_only_what_it_keeps);
    tcase_add_test(tc, bad_arguments_are_errors);
    suite_add_tcase(s, tc);
    return wbt_run_suite(s);
}
