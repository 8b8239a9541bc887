/* The CUDA pointwise kernels' per-element and per-index code
 * (pointwise_math.h, kernels_pointwise.h's resize rules,
 * cuda/pointwise_index.h, cuda/tree_reduce.h), run on the CPU the way the
 * kernels run it, against the reference backend on odd shapes: one element,
 * primes, broadcasting on every axis, 0-size, merged dims. Bit-identical
 * wherever the expression and the order of additions are the reference's;
 * the sums the reference forms in float (gradients of broadcast operands)
 * are held to the float-summation error bound, since the kernels add in
 * double over a tree. */
#include <stdio.h>
#include "backends/cuda/pointwise_index.h"
#include "backends/families.h"
#include "backends/pointwise_math.h"
#include "cuda_replay.h"
#include "ops/broadcast.h"
#include "wbtest.h"

static const wb_pointwise_kernels *ref(void) { return wb_ref_pointwise_kernels(); }

/* ---- elementwise: activations, unary math, scale ---- */

typedef struct ew_ctx {
    int kind;
    float p, q;
    const float *x, *y, *dy;
    float *out;
} ew_ctx;

static void act_fwd_body(void *c, int64_t i) {
    ew_ctx *e = c;
    e->out[i] = wb_act_value((wb_act_kind)e->kind, e->p, e->x[i]);
}

static void act_bwd_body(void *c, int64_t i) {
    ew_ctx *e = c;
    bool from_y = wb_act_reads_output((wb_act_kind)e->kind);
    e->out[i] = wb_act_grad((wb_act_kind)e->kind, e->p, from_y ? 0.0f : e->x[i], from_y ? e->y[i] : 0.0f, e->dy[i]);
}

static void unary_fwd_body(void *c, int64_t i) {
    ew_ctx *e = c;
    e->out[i] = wb_unary_value((wb_unary_kind)e->kind, e->p, e->q, e->x[i]);
}

static void unary_bwd_body(void *c, int64_t i) {
    ew_ctx *e = c;
    wb_unary_kind k = (wb_unary_kind)e->kind;
    bool rx = wb_unary_reads_input(k), ry = wb_unary_reads_output(k);
    e->out[i] = wb_unary_grad(k, e->p, e->q, rx ? e->x[i] : 0.0f, ry ? e->y[i] : 0.0f, e->dy[i]);
}

static void scale_body(void *c, int64_t i) {
    ew_ctx *e = c;
    e->out[i] = e->p * e->x[i];
}

static const int64_t ELEM_SIZES[] = {1, 7, 1031};

/* x spans every kink (0, +-3) and the saturated tails. */
static float *kinked_input(int64_t n, uint64_t seed) {
    float *x = cr_random(n, -12.0f, 12.0f, seed);
    static const float kinks[] = {0.0f, -3.0f, 3.0f, -0.0f, 40.0f, -40.0f, 1e-8f};
    for (int64_t i = 0; i < n && i < 7; i++) x[n - 1 - i] = kinks[i];
    return x;
}

START_TEST(activations_match_reference) {
    for (size_t s = 0; s < sizeof ELEM_SIZES / sizeof *ELEM_SIZES; s++) {
        int64_t n = ELEM_SIZES[s];
        float *x = kinked_input(n, 11 + s), *dy = cr_random(n, -2, 2, 5), *y = malloc(n * sizeof *y),
              *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
        for (int kind = WB_ACT_RELU; kind <= WB_ACT_HARDSIGMOID; kind++) {
            char what[96];
            ew_ctx e = {kind, 0.1f, 0.0f, x, y, dy, got};
            ref()->act_forward((wb_act_kind)kind, 0.1f, x, y, n);
            cr_grid(n, act_fwd_body, &e);
            snprintf(what, sizeof what, "act %d forward, n %lld", kind, (long long)n);
            cr_assert_same(what, got, y, n);
            ref()->act_backward((wb_act_kind)kind, 0.1f, x, y, dy, want, n);
            cr_grid(n, act_bwd_body, &e);
            snprintf(what, sizeof what, "act %d backward, n %lld", kind, (long long)n);
            cr_assert_same(what, got, want, n);
        }
        free(x), free(dy), free(y), free(want), free(got);
    }
}
END_TEST

START_TEST(unary_math_matches_reference) {
    /* pow by the special exponents and a general one; clamp with lo > hi. */
    static const struct { wb_unary_kind k; float p, q; } cases[] = {
        {WB_UNARY_NEG, 0, 0},       {WB_UNARY_EXP, 0, 0},        {WB_UNARY_LOG, 0, 0},
        {WB_UNARY_POW, 2, 0},       {WB_UNARY_POW, 3, 0},        {WB_UNARY_POW, 0.5f, 0},
        {WB_UNARY_POW, -0.5f, 0},   {WB_UNARY_POW, -1, 0},       {WB_UNARY_POW, -2, 0},
        {WB_UNARY_POW, 2.5f, 0},    {WB_UNARY_POW, 0, 0},        {WB_UNARY_ABS, 0, 0},
        {WB_UNARY_CLAMP, -1, 2},    {WB_UNARY_CLAMP, 1, -1},     {WB_UNARY_CLAMP, -INFINITY, 0.5f},
        {WB_UNARY_ADD_SCALAR, 0.75f, 0},
    };
    for (size_t s = 0; s < sizeof ELEM_SIZES / sizeof *ELEM_SIZES; s++) {
        int64_t n = ELEM_SIZES[s];
        float *x = kinked_input(n, 21 + s), *dy = cr_random(n, -2, 2, 6), *y = malloc(n * sizeof *y),
              *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            char what[96];
            ew_ctx e = {cases[c].k, cases[c].p, cases[c].q, x, y, dy, got};
            ref()->unary_forward(cases[c].k, cases[c].p, cases[c].q, x, y, n);
            cr_grid(n, unary_fwd_body, &e);
            snprintf(what, sizeof what, "unary case %zu forward, n %lld", c, (long long)n);
            cr_assert_same(what, got, y, n);
            ref()->unary_backward(cases[c].k, cases[c].p, cases[c].q, x, y, dy, want, n);
            cr_grid(n, unary_bwd_body, &e);
            snprintf(what, sizeof what, "unary case %zu backward, n %lld", c, (long long)n);
            cr_assert_same(what, got, want, n);
        }
        ew_ctx e = {0, -0.3f, 0, x, NULL, NULL, got};
        ref()->scale(x, -0.3f, want, n);
        cr_grid(n, scale_body, &e);
        cr_assert_same("scale", got, want, n);
        free(x), free(dy), free(y), free(want), free(got);
    }
}
END_TEST

/* ---- broadcast binary ops and where ---- */

typedef struct shape2 {
    int na, nb;
    int64_t a[WB_MAX_DIMS], b[WB_MAX_DIMS];
} shape2;

/* Odd shapes: one element, primes, every axis broadcast on one side or the
 * other, 0-size, merges; the last three reach the tree's chunked passes
 * (one operand summed over 6000 terms: two chunks) and its
 * one-thread-per-segment form for many segments (18000 of 40 terms). */
static const shape2 SHAPES[] = {
    {1, 1, {1}, {1}},
    {1, 1, {7}, {1}},
    {3, 3, {3, 5, 7}, {3, 5, 7}},
    {4, 3, {2, 3, 5, 7}, {3, 1, 7}},
    {3, 3, {5, 1, 7}, {1, 3, 1}},
    {4, 4, {1, 13, 1, 11}, {2, 1, 3, 1}},
    {2, 1, {0, 3}, {3}},
    {4, 3, {4, 37, 9, 11}, {37, 1, 1}},
    {3, 3, {2, 3000, 3}, {1, 1, 3}},
    {2, 2, {40, 18000}, {1, 18000}},
};

static wb_tensor fake(int ndim, const int64_t *shape) {
    wb_tensor t;
    memset(&t, 0, sizeof t);
    t.ndim = ndim;
    t.numel = 1;
    for (int d = 0; d < ndim; d++) t.numel *= (t.shape[d] = shape[d]);
    return t;
}

typedef struct bin_ctx {
    wb_binary_kind kind;
    wb_bcast g;
    wb_slices s;
    const float *a, *b, *dy;
    float *out;
    bool for_a, absolute;
} bin_ctx;

static void binary_fwd_body(void *c, int64_t i) {
    bin_ctx *e = c;
    int64_t oa, ob;
    wb_bcast_offsets(&e->g, i, &oa, &ob);
    e->out[i] = wb_binary_value(e->kind, e->a[oa], e->b[ob]);
}

static void binary_grad_body(void *c, int64_t i) {
    bin_ctx *e = c;
    bool reads = wb_binary_backward_reads_operands(e->kind);
    int64_t oa, ob;
    wb_bcast_offsets(&e->g, i, &oa, &ob);
    float av = reads ? e->a[oa] : 0.0f, bv = reads ? e->b[ob] : 0.0f;
    e->out[i] = e->for_a ? wb_binary_grad_a(e->kind, av, bv, e->dy[i]) : wb_binary_grad_b(e->kind, av, bv, e->dy[i]);
}

static double binary_term(const void *c, int64_t j, int64_t k) {
    const bin_ctx *e = c;
    bool reads = wb_binary_backward_reads_operands(e->kind);
    int64_t off[WB_SLICE_SLOTS];
    wb_slice_offsets(&e->s, j, k, off);
    float av = reads ? e->a[off[1]] : 0.0f, bv = reads ? e->b[off[2]] : 0.0f, g = e->dy[off[0]];
    double v = e->for_a ? wb_binary_grad_a(e->kind, av, bv, g) : wb_binary_grad_b(e->kind, av, bv, g);
    return e->absolute ? fabs(v) : v;
}

/* The reference adds `len` float terms in order: its result is within
 * len * 2^-24 * sum|terms| of the exact sum; ours is the double sum rounded
 * once more (half an ulp). */
static void assert_sum_bound(const char *what, const float *got, const float *want, const double *abs_sum,
                             int64_t count, int64_t len) {
    for (int64_t j = 0; j < count; j++) {
        double bound = (double)len * 0x1.0p-24 * abs_sum[j] + 0x1.0p-24 * fabs(want[j]) + 1e-30;
        if (!(fabs((double)got[j] - want[j]) <= bound))
            ck_abort_msg("%s: element %lld is %.9g, the reference says %.9g (bound %.3g)", what, (long long)j,
                         (double)got[j], (double)want[j], bound);
    }
}

/* Our gradient of one operand, as the backward kernels form it. */
static void binary_operand_grad(bin_ctx *e, bool for_a, int64_t n) {
    const int64_t *strides[2] = {e->g.a_stride, e->g.b_stride};
    wb_slices_of(e->g.ndim, e->g.shape, 2, strides, for_a ? 0 : 1, &e->s);
    e->for_a = for_a;
    e->absolute = false;
    if (e->s.nr == 0) {
        ck_assert_int_eq(e->s.count, n);
        cr_grid(n, binary_grad_body, e);
        return;
    }
    double *sum = malloc((size_t)(e->s.count + 1) * sizeof *sum);
    cr_tree(e->s.count, e->s.len, binary_term, e, sum);
    for (int64_t j = 0; j < e->s.count; j++) e->out[j] = (float)(1.0f * sum[j]);
    free(sum);
}

static void check_binary_shape(const shape2 *sh) {
    wb_context ctx;
    memset(&ctx, 0, sizeof ctx);
    wb_tensor ta = fake(sh->na, sh->a), tb = fake(sh->nb, sh->b);
    bin_ctx e;
    memset(&e, 0, sizeof e);
    int ndim;
    int64_t shape[WB_MAX_DIMS];
    ck_assert(wb_broadcast2(&ctx, "test", &ta, &tb, &e.g, &ndim, shape));
    int64_t n = wb_shape_numel(e.g.ndim, e.g.shape);
    /* Few distinct values, so min and max see ties; b stays away from 0 for div. */
    float *a = cr_random(ta.numel, -2, 2, 3), *b = cr_random(tb.numel, 0.5f, 2, 4), *dy = cr_random(n, -1, 1, 9);
    for (int64_t i = 0; i < ta.numel; i += 2) a[i] = roundf(a[i]);
    for (int64_t i = 0; i < tb.numel; i += 3) b[i] = roundf(b[i]);
    size_t big = (size_t)(n + ta.numel + tb.numel + 1) * sizeof(float);
    float *want = malloc(big), *got = malloc(big), *want2 = malloc(big);
    double *abs_sum = malloc(big / sizeof(float) * sizeof(double));
    e.a = a, e.b = b, e.dy = dy, e.out = got;
    char what[160];
    for (int kind = WB_BINARY_ADD; kind <= WB_BINARY_NE; kind++) {
        e.kind = (wb_binary_kind)kind;
        snprintf(what, sizeof what, "binary %d forward on [%lld..] x [%lld..] (ndim %d)", kind, (long long)sh->a[0],
                 (long long)sh->b[0], e.g.ndim);
        ref()->binary_forward(e.kind, &e.g, a, b, want);
        cr_grid(n, binary_fwd_body, &e);
        cr_assert_same(what, got, want, n);
        if (wb_binary_is_comparison(e.kind)) continue;
        ref()->binary_backward(e.kind, &e.g, a, b, dy, want, want2);
        for (int op = 0; op < 2; op++) {
            binary_operand_grad(&e, op == 0, n);
            snprintf(what, sizeof what, "binary %d gradient of %c on [%lld..] x [%lld..]", kind, op ? 'b' : 'a',
                     (long long)sh->a[0], (long long)sh->b[0]);
            const float *expect = op == 0 ? want : want2;
            if (e.s.nr == 0) {
                cr_assert_same(what, got, expect, e.s.count);
                continue;
            }
            e.absolute = true;
            for (int64_t j = 0; j < e.s.count; j++) {
                abs_sum[j] = 0.0;
                for (int64_t k = 0; k < e.s.len; k++) abs_sum[j] += binary_term(&e, j, k);
            }
            assert_sum_bound(what, got, expect, abs_sum, e.s.count, e.s.len);
        }
    }
    free(a), free(b), free(dy), free(want), free(got), free(want2), free(abs_sum);
}

START_TEST(binary_ops_match_reference) { check_binary_shape(&SHAPES[_i]); }
END_TEST

typedef struct where_ctx {
    wb_bcast3 g;
    wb_slices s;
    const float *cond, *a, *b, *dy;
    float *out;
    int pick_a, absolute;
} where_ctx;

static void where_fwd_body(void *c, int64_t i) {
    where_ctx *e = c;
    int64_t off[3];
    wb_bcast3_offsets(&e->g, i, off);
    e->out[i] = e->cond[off[0]] != 0.0f ? e->a[off[1]] : e->b[off[2]];
}

static void where_grad_body(void *c, int64_t i) {
    where_ctx *e = c;
    int64_t off[3];
    wb_bcast3_offsets(&e->g, i, off);
    e->out[i] = wb_where_grad(e->cond[off[0]], e->dy[i], e->pick_a);
}

static double where_term(const void *c, int64_t j, int64_t k) {
    const where_ctx *e = c;
    int64_t off[WB_SLICE_SLOTS];
    wb_slice_offsets(&e->s, j, k, off);
    float v = wb_where_grad(e->cond[off[1]], e->dy[off[0]], e->pick_a);
    return e->absolute ? fabsf(v) : v;
}

/* where(cond, a, b) with the three operands broadcast against each other. */
START_TEST(where_matches_reference) {
    static const struct { int n[3]; int64_t s[3][4]; } cases[] = {
        {{1, 1, 1}, {{1}, {1}, {1}}},
        {{3, 2, 1}, {{5, 1, 7}, {3, 1}, {7}}},
        {{2, 3, 3}, {{3, 1}, {2, 1, 11}, {1, 3, 1}}},
        {{2, 2, 2}, {{0, 3}, {1, 3}, {0, 1}}},
        {{3, 1, 3}, {{2, 5000, 1}, {1}, {2, 5000, 3}}},
    };
    wb_context ctx;
    memset(&ctx, 0, sizeof ctx);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        wb_tensor tc = fake(cases[c].n[0], cases[c].s[0]), ta = fake(cases[c].n[1], cases[c].s[1]),
                  tb = fake(cases[c].n[2], cases[c].s[2]);
        where_ctx e;
        memset(&e, 0, sizeof e);
        int ndim;
        int64_t shape[WB_MAX_DIMS];
        ck_assert(wb_broadcast3(&ctx, "test", &tc, &ta, &tb, &e.g, &ndim, shape));
        int64_t n = wb_shape_numel(e.g.ndim, e.g.shape);
        float *cond = cr_random(tc.numel, -1, 1, 2), *a = cr_random(ta.numel, -1, 1, 3),
              *b = cr_random(tb.numel, -1, 1, 4), *dy = cr_random(n, -1, 1, 5);
        for (int64_t i = 0; i < tc.numel; i++) cond[i] = cond[i] > 0 ? 1.0f : 0.0f;
        size_t big = (size_t)(n + ta.numel + tb.numel + 1) * sizeof(float);
        float *want = malloc(big), *want_b = malloc(big), *got = malloc(big);
        e.cond = cond, e.a = a, e.b = b, e.dy = dy, e.out = got;
        char what[96];
        ref()->where_forward(&e.g, cond, a, b, want);
        cr_grid(n, where_fwd_body, &e);
        snprintf(what, sizeof what, "where case %zu forward", c);
        cr_assert_same(what, got, want, n);
        ref()->where_backward(&e.g, cond, dy, want, want_b);
        for (int k = 1; k <= 2; k++) {
            const int64_t *strides[3] = {e.g.stride[0], e.g.stride[1], e.g.stride[2]};
            wb_slices_of(e.g.ndim, e.g.shape, 3, strides, k, &e.s);
            e.pick_a = k == 1;
            snprintf(what, sizeof what, "where case %zu gradient of %c", c, k == 1 ? 'a' : 'b');
            const float *expect = k == 1 ? want : want_b;
            if (e.s.nr == 0) {
                cr_grid(n, where_grad_body, &e);
                cr_assert_same(what, got, expect, n);
                continue;
            }
            size_t bytes = (size_t)(e.s.count + 1) * sizeof(double);
            double *sum = malloc(bytes), *abs_sum = malloc(bytes);
            e.absolute = 0;
            cr_tree(e.s.count, e.s.len, where_term, &e, sum);
            e.absolute = 1;
            for (int64_t j = 0; j < e.s.count; j++) {
                got[j] = (float)(1.0f * sum[j]);
                abs_sum[j] = 0.0;
                for (int64_t q = 0; q < e.s.len; q++) abs_sum[j] += where_term(&e, j, q);
            }
            assert_sum_bound(what, got, expect, abs_sum, e.s.count, e.s.len);
            free(sum), free(abs_sum);
        }
        free(cond), free(a), free(b), free(dy), free(want), free(want_b), free(got);
    }
}
END_TEST

/* ---- resize ---- */

typedef struct resize_ctx {
    const float *src;
    float *out;
    int in_h, in_w, out_h, out_w, ac;
} resize_ctx;

static void nearest_fwd_body(void *c, int64_t i) {
    resize_ctx *e = c;
    e->out[i] = wb_nearest_at(e->src, i, e->in_h, e->in_w, e->out_h, e->out_w);
}
static void nearest_bwd_body(void *c, int64_t i) {
    resize_ctx *e = c;
    e->out[i] = wb_nearest_grad_at(e->src, i, e->in_h, e->in_w, e->out_h, e->out_w);
}
static void bilinear_fwd_body(void *c, int64_t i) {
    resize_ctx *e = c;
    e->out[i] = wb_bilinear_at(e->src, i, e->in_h, e->in_w, e->out_h, e->out_w, e->ac);
}
static void bilinear_bwd_body(void *c, int64_t i) {
    resize_ctx *e = c;
    e->out[i] = wb_bilinear_grad_at(e->src, i, e->in_h, e->in_w, e->out_h, e->out_w, e->ac);
}

/* Up, down, exactly 2x, unchanged, 1 pixel, odd factors; the backward
 * gathers must equal the reference's scatter bit for bit (same order). */
START_TEST(resize_matches_reference) {
    static const int sizes[][4] = {{1, 1, 5, 3}, {3, 5, 7, 11}, {4, 4, 8, 8}, {7, 5, 3, 2},
                                   {6, 9, 6, 9}, {5, 3, 1, 1}, {2, 13, 17, 4}, {10, 10, 3, 29}};
    const int64_t planes = 3;
    for (size_t c = 0; c < sizeof sizes / sizeof *sizes; c++) {
        int in_h = sizes[c][0], in_w = sizes[c][1], out_h = sizes[c][2], out_w = sizes[c][3];
        int64_t nin = planes * in_h * in_w, nout = planes * out_h * out_w;
        float *x = cr_random(nin, -1, 1, 7), *dy = cr_random(nout, -1, 1, 8);
        float *want = malloc((size_t)(nin + nout) * sizeof *want), *got = malloc((size_t)(nin + nout) * sizeof *got);
        char what[96];
        resize_ctx fwd = {x, got, in_h, in_w, out_h, out_w, 0}, bwd = {dy, got, in_h, in_w, out_h, out_w, 0};
        ref()->nearest_forward(x, planes, in_h, in_w, want, out_h, out_w);
        cr_grid(nout, nearest_fwd_body, &fwd);
        snprintf(what, sizeof what, "nearest %dx%d -> %dx%d forward", in_h, in_w, out_h, out_w);
        cr_assert_same(what, got, want, nout);
        ref()->nearest_backward(dy, planes, in_h, in_w, out_h, out_w, want);
        cr_grid(nin, nearest_bwd_body, &bwd);
        snprintf(what, sizeof what, "nearest %dx%d -> %dx%d backward", in_h, in_w, out_h, out_w);
        cr_assert_same(what, got, want, nin);
        for (int ac = 0; ac < 2; ac++) {
            fwd.ac = bwd.ac = ac;
            ref()->bilinear_forward(x, planes, in_h, in_w, want, out_h, out_w, ac);
            cr_grid(nout, bilinear_fwd_body, &fwd);
            snprintf(what, sizeof what, "bilinear %dx%d -> %dx%d (ac %d) forward", in_h, in_w, out_h, out_w, ac);
            cr_assert_same(what, got, want, nout);
            ref()->bilinear_backward(dy, planes, in_h, in_w, out_h, out_w, ac, want);
            cr_grid(nin, bilinear_bwd_body, &bwd);
            snprintf(what, sizeof what, "bilinear %dx%d -> %dx%d (ac %d) backward", in_h, in_w, out_h, out_w, ac);
            cr_assert_same(what, got, want, nin);
        }
        free(x), free(dy), free(want), free(got);
    }
}
END_TEST

/* ---- shape copies and reductions ---- */

typedef struct copy_ctx {
    const float *src;
    float *dst;
    int64_t a, b, c;
    float scale;
    wb_permute_geom pg;
} copy_ctx;

static void block_body(void *c, int64_t i) {
    copy_ctx *e = c;
    int64_t s, d;
    wb_block_offsets(i, e->a, e->b, e->c, &s, &d);
    e->dst[d] = e->src[s];
}
static void permute_body(void *c, int64_t i) {
    copy_ctx *e = c;
    e->dst[i] = e->src[wb_permute_src(&e->pg, i)];
}
static void axis_body(void *c, int64_t i) {
    copy_ctx *e = c;
    e->dst[i] = e->scale * e->src[wb_axis_source(i, e->a, e->b)];
}
static double axis_term_fn(const void *c, int64_t j, int64_t k) {
    const copy_ctx *e = c;
    return e->src[wb_axis_term(j, k, e->a, e->b)];
}

START_TEST(copies_match_reference) {
    /* copy_block: rows x cols between strides, also 0 rows / 0 cols. */
    static const int64_t blocks[][4] = {{5, 7, 11, 13}, {1, 1, 1, 1}, {0, 3, 3, 3}, {4, 0, 2, 2}, {3, 9, 9, 20}};
    float *src = cr_random(400, -1, 1, 1), *want = calloc(400, sizeof(float)), *got = calloc(400, sizeof(float));
    for (size_t c = 0; c < sizeof blocks / sizeof *blocks; c++) {
        int64_t rows = blocks[c][0], cols = blocks[c][1], ss = blocks[c][2], ds = blocks[c][3];
        memset(want, 0, 400 * sizeof(float));
        memset(got, 0, 400 * sizeof(float));
        ref()->copy_block(want, ds, src, ss, rows, cols);
        copy_ctx e = {src, got, cols, ss, ds, 0, {0}};
        cr_grid(rows * cols, block_body, &e);
        cr_assert_same("copy_block", got, want, 400);
    }
    /* permute: 0-d, 1-d, size-1 dims, a 4-d transpose of primes. */
    static const struct { int ndim; int64_t shape[4]; int perm[4]; } perms[] = {
        {0, {0}, {0}}, {1, {7}, {0}}, {3, {1, 6, 1}, {2, 0, 1}}, {4, {2, 3, 5, 7}, {3, 1, 0, 2}},
        {4, {2, 3, 5, 7}, {0, 2, 3, 1}}, {2, {0, 4}, {1, 0}},
    };
    for (size_t c = 0; c < sizeof perms / sizeof *perms; c++) {
        int64_t n = wb_shape_numel(perms[c].ndim, perms[c].shape);
        ref()->permute(src, perms[c].ndim, perms[c].shape, perms[c].perm, want);
        copy_ctx e = {src, got, 0, 0, 0, 0, wb_permute_geom_of(perms[c].ndim, perms[c].shape, perms[c].perm)};
        cr_grid(n, permute_body, &e);
        cr_assert_same("permute", got, want, n);
    }
    free(src), free(want), free(got);
}
END_TEST

/* reduce_sum and its backward on [outer, len, inner]; the reference sums in
 * double in order, the kernels in double over the tree: the floats agree
 * within one ulp. The cases reach every form of the tree: one thread per
 * segment (short, or 18000 segments), one chunk, several chunks (a 10^6
 * vector: 245 chunks and pass 2). */
START_TEST(reductions_match_reference) {
    static const int64_t cases[][3] = {{1, 1, 1}, {3, 0, 5}, {2, 5, 3}, {1, 1000000, 1},
                                       {2, 5000, 3}, {7, 33, 11}, {2, 40, 9000}, {0, 4, 4}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        int64_t outer = cases[c][0], len = cases[c][1], inner = cases[c][2], n = outer * len * inner;
        int64_t m = outer * inner;
        float *x = cr_random(n, -1, 1, 100 + c), *want = malloc((size_t)(m + n + 1) * sizeof(float)),
              *got = malloc((size_t)(m + n + 1) * sizeof(float));
        double *sum = malloc((size_t)(m + 1) * sizeof *sum);
        ref()->reduce_sum(x, outer, len, inner, 0.37f, want);
        copy_ctx e = {x, got, len, inner, 0, 0.37f, {0}};
        cr_tree(m, len, axis_term_fn, &e, sum);
        for (int64_t j = 0; j < m; j++) {
            got[j] = (float)(0.37f * sum[j]);
            if (cr_ulps(got[j], want[j]) > 1)
                ck_abort_msg("reduce_sum [%lld, %lld, %lld] element %lld: %.9g vs %.9g", (long long)outer,
                             (long long)len, (long long)inner, (long long)j, (double)got[j], (double)want[j]);
        }
        /* broadcast_axis reads what reduce_sum wrote. */
        float *dx_want = malloc((size_t)(n + 1) * sizeof(float)), *dx_got = malloc((size_t)(n + 1) * sizeof(float));
        ref()->broadcast_axis(want, outer, len, inner, -1.5f, dx_want);
        copy_ctx b = {want, dx_got, len, inner, 0, -1.5f, {0}};
        cr_grid(n, axis_body, &b);
        cr_assert_same("broadcast_axis", dx_got, dx_want, n);
        free(x), free(want), free(got), free(sum), free(dx_want), free(dx_got);
    }
}
END_TEST

/* The launch loop visits each index exactly once, also past the grid's
 * capacity (WB_CUDA_MAX_BLOCKS blocks, then grid-stride steps). */
static void count_body(void *c, int64_t i) { ((unsigned char *)c)[i]++; }

START_TEST(grid_loop_covers_every_index_once) {
    static const int64_t sizes[] = {0, 1, 255, 256, 257, (int64_t)WB_CUDA_MAX_BLOCKS * WB_CUDA_BLOCK + 5};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        unsigned char *seen = calloc((size_t)sizes[s] + 1, 1);
        cr_grid(sizes[s], count_body, seen);
        for (int64_t i = 0; i < sizes[s]; i++)
            if (seen[i] != 1)
                ck_abort_msg("n %lld: index %lld visited %d times", (long long)sizes[s], (long long)i, seen[i]);
        free(seen);
    }
}
END_TEST

/* Past 2^31 elements every index stays exact (64-bit arithmetic all the
 * way), checked at single indices against hand-computed offsets. */
START_TEST(index_math_is_64_bit) {
    const int64_t big = ((int64_t)1 << 31) + 5;
    wb_bcast g = {2, {3, big}, {big, 1}, {0, 1}};
    int64_t oa, ob, i = 2 * big + 9;
    wb_bcast_offsets(&g, i, &oa, &ob);
    ck_assert(oa == i && ob == 9);
    const int64_t *strides[2] = {g.a_stride, g.b_stride};
    wb_slices sl;
    wb_slices_of(g.ndim, g.shape, 2, strides, 1, &sl);
    ck_assert(sl.count == big && sl.len == 3);
    int64_t off[WB_SLICE_SLOTS], j = big - 4;
    wb_slice_offsets(&sl, j, 2, off);
    ck_assert(off[0] == 2 * big + j && off[1] == 2 * big + j && off[2] == j);
    ck_assert(wb_axis_term(big + 5, 1, 2, big) == 3 * big + 5);
    ck_assert(wb_axis_source(3 * big + 5, 2, big) == big + 5);
    const int64_t shape[2] = {2, big};
    const int perm[2] = {1, 0};
    wb_permute_geom pg = wb_permute_geom_of(2, shape, perm);
    ck_assert(wb_permute_src(&pg, 2 * (big - 1) + 1) == (big - 1) + big);
    /* A 2^33-term sum: 2^21 chunks, whose last thread's last step is the last term. */
    const int64_t len = (int64_t)1 << 33;
    wb_tree_plan p = wb_tree_plan_of(1, len);
    ck_assert(p.chunks == len / WB_TREE_CHUNK && wb_tree_whole(p.chunks) == p.chunks);
    ck_assert(wb_tree_index(p.chunks - 1, WB_TREE_CHUNK, WB_TREE_BLOCK - 1, WB_TREE_CHUNK / WB_TREE_BLOCK - 1) ==
              len - 1);
    ck_assert_uint_eq(wb_cuda_blocks(len), WB_CUDA_MAX_BLOCKS);
}
END_TEST

int main(void) {
    Suite *s = suite_create("cuda_math_pointwise");
    TCase *t = tcase_create("cuda_math_pointwise");
    tcase_add_test(t, activations_match_reference);
    tcase_add_test(t, unary_math_matches_reference);
    tcase_add_loop_test(t, binary_ops_match_reference, 0, (int)(sizeof SHAPES / sizeof *SHAPES));
    tcase_add_test(t, where_matches_reference);
    tcase_add_test(t, resize_matches_reference);
    tcase_add_test(t, copies_match_reference);
    tcase_add_test(t, reductions_match_reference);
    tcase_add_test(t, grid_loop_covers_every_index_once);
    tcase_add_test(t, index_math_is_64_bit);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
