/* Backend conformance: whole ops through a backend's kernel table against
 * the reference backend, forward and backward, on odd shapes, one case per
 * kernel family at least. The backend is named on the command line:
 *   backend_conformance cpu     the oneDNN + OpenMP backend
 *   backend_conformance cuda    the CUDA module on cuda:0 (exit 77 with the
 *                               reason when no device answers: ctest shows
 *                               SKIPPED, never PASSED)
 * Inputs go up and results come down through the backend's upload and
 * download only, so a device backend is checked as the core uses it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "autograd/tape.h"
#include "backends/backend_loader.h"
#include "backends/kernels_optim.h"
#include "ops/ops.h"
#include "runtime/context.h"

#define MAX_IN 4

typedef struct conf_input {
    int ndim;
    int64_t shape[4];
    float lo, hi;         /* uniform values, unless `values` */
    const float *values;
    int grad;             /* compare this input's gradient */
} conf_input;

typedef wb_tensor *(*conf_fn)(wb_ctx *ctx, wb_tensor *const *in);

typedef struct conf_case {
    const char *name;
    conf_fn fn;
    int n_in;
    conf_input in[MAX_IN];
    double atol, rtol;    /* fp32 kernels that sum in another order differ by rounding */
} conf_case;

static wb_tensor *conv(wb_ctx *c, wb_tensor *const *in) {
    wb_conv2d_params p = {sizeof p, 2, 1, 1, 2, 1, 1, 1};
    return wb_op_conv2d(c, in[0], in[1], in[2], &p);
}
static wb_tensor *conv_grouped(wb_ctx *c, wb_tensor *const *in) {
    wb_conv2d_params p = {sizeof p, 1, 1, 2, 2, 2, 2, 2};
    return wb_op_conv2d(c, in[0], in[1], NULL, &p);
}
static wb_tensor *bn(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_batch_norm(c, in[0], in[1], in[2], NULL, NULL, 1, 0.1f, 1e-5f);
}
static wb_tensor *max_pool(wb_ctx *c, wb_tensor *const *in) {
    wb_pool2d_params p = {sizeof p, 3, 3, 2, 2, 1, 1, 1, 0};
    return wb_op_max_pool2d(c, in[0], &p);
}
static wb_tensor *avg_pool(wb_ctx *c, wb_tensor *const *in) {
    wb_pool2d_params p = {sizeof p, 2, 3, 2, 1, 0, 1, 0, 0};
    return wb_op_avg_pool2d(c, in[0], &p);
}
static wb_tensor *linear(wb_ctx *c, wb_tensor *const *in) { return wb_op_linear(c, in[0], in[1], in[2]); }
static wb_tensor *act_mix(wb_ctx *c, wb_tensor *const *in) {
    wb_tensor *a = wb_op_silu(c, in[0]), *b = wb_op_sigmoid(c, in[0]), *r = wb_op_relu(c, in[0]);
    return wb_op_add(c, wb_op_mul(c, a, b), wb_op_hardswish(c, r));
}
static wb_tensor *broadcast(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_div(c, wb_op_sub(c, in[0], in[1]), wb_op_add_scalar(c, wb_op_mul(c, in[1], in[1]), 1.0f));
}
static wb_tensor *resize(wb_ctx *c, wb_tensor *const *in) {
    wb_tensor *up = wb_op_upsample_nearest(c, in[0], 2, 0, 0);
    return wb_op_add(c, up, wb_op_resize_bilinear(c, in[0], 14, 10, 0));
}
static wb_tensor *shapes(wb_ctx *c, wb_tensor *const *in) {
    wb_tensor *cat = wb_op_concat(c, in, 2, 1);
    wb_tensor *p = wb_op_permute(c, cat, (const int[]){0, 2, 3, 1});
    return wb_op_mean(c, wb_op_slice(c, p, 1, 1, 4), 2, 0);
}
static wb_tensor *focal(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_sigmoid_focal_loss(c, in[0], in[1], NULL, 2.0f, 0.25f, WB_REDUCE_NONE);
}
static wb_tensor *smooth_l1(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_smooth_l1_loss(c, in[0], in[1], in[2], 0.11f, WB_REDUCE_SUM);
}
static wb_tensor *cross_entropy(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_softmax_cross_entropy(c, in[0], in[1], NULL, WB_REDUCE_MEAN);
}
static wb_tensor *giou(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_iou_loss(c, in[0], in[1], NULL, WB_GIOU, 1e-6f, WB_REDUCE_NONE);
}
static wb_tensor *roi_align(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_roi_align(c, in[0], in[1], 3, 4, 0.5f, 2, 1);
}
static wb_tensor *index_select(wb_ctx *c, wb_tensor *const *in) { return wb_op_index_select(c, in[0], 0, in[1]); }
static wb_tensor *group_norm(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_group_norm(c, in[0], in[1], in[2], 3, 1e-5f);
}

static wb_tensor *bn_eval(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_batch_norm(c, in[0], in[1], in[2], in[3], in[3], 0, 0.1f, 1e-3f); /* var = mean: both positive */
}
static wb_tensor *matmul_t(wb_ctx *c, wb_tensor *const *in) { return wb_op_matmul(c, in[0], in[1], 1, 1); }
static wb_tensor *gap_leaky(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_global_avg_pool(c, wb_op_leaky_relu(c, wb_op_hardsigmoid(c, in[0]), 0.1f));
}
static wb_tensor *unary_mix(wb_ctx *c, wb_tensor *const *in) {
    wb_tensor *pos = wb_op_add_scalar(c, wb_op_abs(c, in[0]), 0.5f);
    wb_tensor *a = wb_op_mul(c, wb_op_log(c, pos), wb_op_pow(c, pos, 1.5f));
    return wb_op_clamp(c, wb_op_sub(c, a, wb_op_exp(c, wb_op_scale(c, in[0], 0.3f))), -2.0f, 1.5f);
}
static wb_tensor *select_mix(wb_ctx *c, wb_tensor *const *in) {
    wb_tensor *lo = wb_op_minimum(c, in[0], in[1]), *hi = wb_op_maximum(c, in[0], in[1]);
    wb_tensor *m = wb_op_where(c, wb_op_gt(c, in[0], in[1]), lo, hi);
    return wb_op_sum(c, m, 1, 1);
}
static wb_tensor *resize_sized(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_add(c, wb_op_upsample_nearest(c, in[0], 0, 11, 7), wb_op_resize_bilinear(c, in[0], 11, 7, 1));
}
static wb_tensor *bce(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_bce_with_logits(c, in[0], in[1], in[2], WB_REDUCE_MEAN);
}
static wb_tensor *l1(wb_ctx *c, wb_tensor *const *in) { return wb_op_l1_loss(c, in[0], in[1], NULL, WB_REDUCE_NONE); }
static wb_tensor *roi_pool(wb_ctx *c, wb_tensor *const *in) { return wb_op_roi_pool(c, in[0], in[1], 2, 3, 0.5f); }
static wb_tensor *index_select_cols(wb_ctx *c, wb_tensor *const *in) {
    return wb_op_index_select(c, in[0], 1, in[1]);
}

static const float ROIS[] = {0, 1.5f, 2.0f, 9.0f, 7.5f, 1, 0.0f, 0.0f, 13.0f, 11.0f, 1, 4.2f, 3.3f, 5.1f, 8.9f};
static const float LABELS[] = {0, 4, 2, -1, 3, 1, 4};
static const float INDEX[] = {3, 0, 3, 5, 1};
static const float BOXES_A[] = {0, 0, 4, 5, 2, 3, 9, 7, 1, 1, 2, 2, 5, 5, 6, 9};
static const float BOXES_B[] = {1, 0, 5, 4, 0, 0, 3, 3, 1, 1, 2, 2, 4, 6, 7, 8};

#define IN(nd, ...) {nd, {__VA_ARGS__}, -1.0f, 1.0f, NULL, 1}
static const conf_case CASES[] = {
    {"conv2d 3x3 stride (2,1) pad (1,2) + bias", conv, 3,
     {IN(4, 2, 5, 11, 13), IN(4, 6, 5, 3, 3), IN(1, 6)}, 1e-4, 1e-3},
    {"conv2d grouped, dilated", conv_grouped, 2, {IN(4, 1, 4, 9, 7), IN(4, 6, 2, 3, 3)}, 1e-4, 1e-3},
    {"batch_norm (training)", bn, 3, {IN(4, 3, 5, 7, 6), IN(1, 5), IN(1, 5)}, 1e-4, 1e-3},
    {"max_pool2d 3x3 s2 ceil", max_pool, 1, {IN(4, 2, 3, 10, 9)}, 1e-6, 1e-6},
    {"avg_pool2d 2x3 count_include_pad=0", avg_pool, 1, {IN(4, 2, 3, 9, 8)}, 1e-5, 1e-5},
    {"linear", linear, 3, {IN(2, 7, 33), IN(2, 17, 33), IN(1, 17)}, 1e-4, 1e-3},
    {"silu * sigmoid + hardswish(relu)", act_mix, 1, {IN(4, 2, 3, 5, 7)}, 1e-5, 1e-4},
    {"broadcast sub, mul, div", broadcast, 2, {IN(4, 2, 3, 5, 7), IN(4, 1, 3, 1, 7)}, 1e-5, 1e-4},
    {"upsample_nearest + resize_bilinear", resize, 1, {IN(4, 2, 3, 7, 5)}, 1e-5, 1e-4},
    {"concat, permute, slice, mean", shapes, 2, {IN(4, 2, 3, 4, 5), IN(4, 2, 2, 4, 5)}, 1e-5, 1e-4},
    {"sigmoid_focal_loss", focal, 2, {IN(2, 9, 5), {2, {9, 5}, 0.0f, 1.0f, NULL, 0}}, 1e-5, 1e-4},
    {"smooth_l1_loss weighted sum", smooth_l1, 3, {IN(2, 6, 4), IN(2, 6, 4), {2, {6, 4}, 0.0f, 2.0f, NULL, 0}},
     1e-5, 1e-4},
    {"softmax_cross_entropy (an ignored label)", cross_entropy, 2, {IN(2, 7, 5), {1, {7}, 0, 0, LABELS, 0}},
     1e-5, 1e-4},
    {"iou_loss giou", giou, 2, {{2, {4, 4}, 0, 0, BOXES_A, 1}, {2, {4, 4}, 0, 0, BOXES_B, 0}}, 1e-5, 1e-4},
    {"roi_align aligned", roi_align, 2, {IN(4, 2, 3, 8, 7), {2, {3, 5}, 0, 0, ROIS, 0}}, 1e-5, 1e-4},
    {"index_select rows (repeated)", index_select, 2, {IN(2, 6, 5), {1, {5}, 0, 0, INDEX, 0}}, 1e-6, 1e-6},
    {"group_norm", group_norm, 3, {IN(4, 2, 6, 5, 3), IN(1, 6), IN(1, 6)}, 1e-4, 1e-3},
    {"batch_norm (running statistics)", bn_eval, 4,
     {IN(4, 2, 4, 3, 5), IN(1, 4), IN(1, 4), {1, {4}, 0.5f, 2.0f, NULL, 0}}, 1e-5, 1e-4},
    {"matmul, both transposed", matmul_t, 2, {IN(2, 19, 6), IN(2, 9, 19)}, 1e-4, 1e-3},
    {"global_avg_pool(leaky_relu(hardsigmoid))", gap_leaky, 1, {{4, {2, 5, 7, 9}, -4.0f, 4.0f, NULL, 1}}, 1e-5, 1e-4},
    {"abs, log, pow, exp, clamp", unary_mix, 1, {IN(3, 3, 7, 5)}, 1e-5, 1e-4},
    {"gt, where, minimum, maximum, sum", select_mix, 2, {IN(3, 4, 6, 5), IN(3, 4, 6, 5)}, 1e-5, 1e-4},
    {"upsample_nearest to size + resize_bilinear align_corners", resize_sized, 1, {IN(4, 2, 3, 5, 4)}, 1e-5, 1e-4},
    {"bce_with_logits weighted mean", bce, 3,
     {IN(2, 8, 3), {2, {8, 3}, 0.0f, 1.0f, NULL, 0}, {2, {8, 3}, 0.0f, 2.0f, NULL, 0}}, 1e-5, 1e-4},
    {"l1_loss", l1, 2, {IN(2, 5, 4), IN(2, 5, 4)}, 1e-5, 1e-4},
    {"roi_pool", roi_pool, 2, {IN(4, 2, 3, 8, 7), {2, {3, 5}, 0, 0, ROIS, 0}}, 1e-6, 1e-6},
    {"index_select columns", index_select_cols, 2, {IN(2, 3, 6), {1, {5}, 0, 0, INDEX, 0}}, 1e-6, 1e-6},
};

typedef struct results {
    int64_t n[1 + MAX_IN];
    float *v[1 + MAX_IN]; /* the output, then each input's gradient (NULL where not compared) */
} results;

static void results_free(results *r) {
    for (int i = 0; i <= MAX_IN; i++) free(r->v[i]);
}

static float *download(const wb_backend *be, const float *src, int64_t n) {
    float *h = malloc((size_t)(n ? n : 1) * sizeof *h);
    if (h) be->download(h, src, (size_t)n * sizeof *h);
    return h;
}

/* Forward and backward of one case on backend be, L = sum(out * R) with a
 * fixed R; 0, or -1 with the failure printed. */
static int run_case(const wb_backend *be, const conf_case *k, float *const *values, results *r) {
    wb_session *s = wb_session_create(be, 1);
    if (!s) return -1;
    wb_context c;
    wb_context_init(&c, s, "conformance", true);
    wb_tensor *in[MAX_IN];
    for (int i = 0; i < k->n_in; i++) {
        in[i] = wb_ctx_tensor_uninit(&c, k->in[i].ndim, k->in[i].shape);
        if (!in[i]) break;
        be->upload(in[i]->data, values[i], (size_t)in[i]->numel * sizeof(float));
        in[i]->requires_grad = k->in[i].grad;
    }
    wb_tensor *out = c.err ? NULL : k->fn(&c.pub, in);
    int rc = -1;
    if (out) {
        r->n[0] = out->numel;
        r->v[0] = download(be, out->data, out->numel);
        float *seed = malloc((size_t)out->numel * sizeof *seed), *g = wb_grad_begin(&c, out);
        uint64_t rng = 99;
        for (int64_t j = 0; j < out->numel; j++) seed[j] = wb_rng_uniform(&rng) - 0.5f;
        if (g) {
            be->upload(g, seed, (size_t)out->numel * sizeof *seed);
            wb_grad_end(&c, out, g);
        }
        free(seed);
        rc = g && wb_tape_backward(&c) == WB_OK ? 0 : -1;
        for (int i = 0; rc == 0 && i < k->n_in; i++) {
            if (!k->in[i].grad) continue;
            r->n[1 + i] = in[i]->numel;
            /* no gradient reached it: zeros, which the other backend must match */
            r->v[1 + i] = in[i]->grad_valid ? download(be, in[i]->grad, in[i]->numel)
                                            : calloc((size_t)in[i]->numel + 1, sizeof(float));
        }
    }
    if (rc != 0) printf("FAIL %s on %s: %s\n", k->name, be->name, c.msg[0] ? c.msg : "no output");
    wb_session_destroy(s);
    return rc;
}

/* Worst |got - want| / (atol + rtol |want|) of one result; > 1 fails. */
static double worst(const float *got, const float *want, int64_t n, const conf_case *k, int64_t *at) {
    double w = 0.0;
    for (int64_t j = 0; j < n; j++) {
        double d = fabs((double)got[j] - (double)want[j]), r = d / (k->atol + k->rtol * fabs((double)want[j]));
        if (!(r <= w)) w = r, *at = j; /* NaN is the worst */
    }
    return w;
}

static int check_case(const wb_backend *be, const conf_case *k) {
    float *values[MAX_IN];
    uint64_t rng = 7;
    for (int i = 0; i < k->n_in; i++) {
        int64_t n = 1;
        for (int d = 0; d < k->in[i].ndim; d++) n *= k->in[i].shape[d];
        values[i] = malloc((size_t)n * sizeof(float));
        for (int64_t j = 0; j < n; j++)
            values[i][j] = k->in[i].values ? k->in[i].values[j]
                                           : k->in[i].lo + (k->in[i].hi - k->in[i].lo) * wb_rng_uniform(&rng);
    }
    results want = {0}, got = {0};
    int rc = run_case(wb_backend_ref(), k, values, &want);
    double worst_all = 0.0;
    if (rc == 0) rc = run_case(be, k, values, &got);
    for (int i = 0; rc == 0 && i <= k->n_in; i++) {
        if (!want.v[i]) continue;
        int64_t at = 0;
        double w = worst(got.v[i], want.v[i], want.n[i], k, &at);
        if (!(w <= worst_all)) worst_all = w;
        const char *what = i == 0 ? "output" : "gradient of input";
        if (w > 1.0) {
            printf("FAIL %s: %s %d element %lld is %.8g on %s, %.8g on ref (atol %g, rtol %g)\n", k->name, what,
                   i - 1 < 0 ? 0 : i - 1, (long long)at, got.v[i][at], be->name, want.v[i][at], k->atol, k->rtol);
            rc = -1;
        }
    }
    if (rc == 0) printf("ok   %s (worst difference %.3f of the tolerance)\n", k->name, worst_all);
    results_free(&want);
    results_free(&got);
    for (int i = 0; i < k->n_in; i++) free(values[i]);
    return rc;
}

/* The optimizer kernels have no op front-end: three SGD (Nesterov, weight
 * decay) and three AdamW steps, EMA, scale and the sum of squares, called
 * through each backend's table on the same buffers. */
enum { OPT_N = 1031, OPT_BUFS = 5 };

static int optim_run(const wb_backend *be, const float *init, float *out, double *sumsq) {
    float *d[OPT_BUFS];
    for (int b = 0; b < OPT_BUFS; b++) {
        d[b] = be->alloc(OPT_N * sizeof(float), WB_BUF_WEIGHTS);
        if (!d[b]) return -1;
        be->upload(d[b], init + b * OPT_N, OPT_N * sizeof(float));
    }
    float *param = d[0], *grad = d[1], *buf = d[2], *m = d[3], *v = d[4];
    be->zero(v, OPT_N * sizeof(float));
    for (int step = 1; step <= 3; step++) {
        wb_sgd_args sgd = {0.1f, 0.9f, 0.0f, 1e-4f, 1, step == 1};
        be->optim->sgd(param, grad, buf, OPT_N, &sgd);
        wb_adamw_args adamw = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.05f, step};
        be->optim->adamw(param, grad, m, v, OPT_N, &adamw);
    }
    be->optim->scale(grad, OPT_N, 0.5f);
    be->optim->ema(buf, param, OPT_N, 2e-4f);
    *sumsq = be->optim->sum_squares(grad, OPT_N);
    for (int b = 0; b < OPT_BUFS; b++) be->download(out + b * OPT_N, d[b], OPT_N * sizeof(float));
    for (int b = 0; b < OPT_BUFS; b++) be->free(d[b], WB_BUF_WEIGHTS);
    return 0;
}

static int check_optim(const wb_backend *be) {
    static float init[OPT_BUFS * OPT_N], want[OPT_BUFS * OPT_N], got[OPT_BUFS * OPT_N];
    uint64_t rng = 11;
    for (int j = 0; j < OPT_BUFS * OPT_N; j++) init[j] = wb_rng_uniform(&rng) - 0.5f;
    double ss_want = 0, ss_got = 0;
    if (optim_run(wb_backend_ref(), init, want, &ss_want) != 0 || optim_run(be, init, got, &ss_got) != 0) {
        printf("FAIL optimizer kernels: out of memory\n");
        return -1;
    }
    const conf_case k = {"sgd nesterov + adamw x3, scale, ema, sum_squares", NULL, 0, {{0}}, 1e-6, 1e-5};
    int64_t at = 0;
    double w = worst(got, want, OPT_BUFS * OPT_N, &k, &at), ws = fabs(ss_got - ss_want) / (1e-6 * ss_want);
    if (w > 1.0 || !(ws <= 1.0)) {
        printf("FAIL %s: element %lld is %.8g on %s, %.8g on ref; sum of squares %.10g vs %.10g\n", k.name,
               (long long)at, got[at], be->name, want[at], ss_got, ss_want);
        return -1;
    }
    printf("ok   %s (worst difference %.3f of the tolerance)\n", k.name, w > ws ? w : ws);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: backend_conformance cpu|cuda|cuda:N\n");
        return 2;
    }
    const wb_backend *be = NULL;
    int device = 0;
    if (strcmp(argv[1], "cpu") == 0) {
        be = wb_backend_cpu();
    } else if (wb_backend_parse_cuda(argv[1], &device)) {
        char why[768];
        if (!(be = wb_backend_cuda_open(device, why, sizeof why))) {
            printf("SKIPPED: %s\n", why);
            return 77;
        }
    } else {
        fprintf(stderr, "backend_conformance: unknown backend '%s' (cpu, cuda, cuda:N)\n", argv[1]);
        return 2;
    }
    printf("%s against the reference backend\n", be->name);
    int failed = 0, n = (int)(sizeof CASES / sizeof CASES[0]);
    for (int i = 0; i < n; i++) failed += check_case(be, &CASES[i]) != 0;
    failed += check_optim(be) != 0;
    printf("%d of %d cases agree\n", n + 1 - failed, n + 1);
    return failed ? 1 : 0;
}
