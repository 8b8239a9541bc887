/* Channel-blocked activations at inference (backends/kernels_layout.h): the
 * layout kernels equal the plain ones bit for bit (max pooling with its ties,
 * signed zeros and NaNs; nearest upsampling at whole and fractional scales;
 * the conversion back to NCHW) and RoIAlign from blocked features gives the
 * reference's values; a chain of the ops that read blocked tensors (conv
 * with fused and separate activations, Winograd, 1x1, add, silu, concat,
 * upsampling, max pooling, RoIAlign) gives the reference backend's values,
 * with every intermediate really blocked, and plain again wherever an op or
 * tensor_map reads it as NCHW. */
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <workbench/ops.h>

#include "backends/families.h"
#include "backends/cpu/conv_dnnl.h"
#include "backends/kernels_conv.h"
#include "backends/kernels_dense.h"
#include "backends/kernels_layout.h"
#include "backends/kernels_pointwise.h"
#include "ops/ops.h"
#include "runtime/host_tensors.h"
#include "wbt_module.h"
#include "wbtest.h"

enum { B = WB_LAYOUT_BLOCK };

/* nChw16c of the NCHW x (c a multiple of 16), as oneDNN lays it out. */
static float *to_blocked(const float *x, int64_t n, int64_t c, int64_t hw) {
    float *b = malloc((size_t)(n * c * hw) * sizeof *b);
    ck_assert_ptr_nonnull(b);
    for (int64_t i = 0; i < n; i++)
        for (int64_t ch = 0; ch < c; ch++)
            for (int64_t p = 0; p < hw; p++)
                b[((i * (c / B) + ch / B) * hw + p) * B + ch % B] = x[(i * c + ch) * hw + p];
    return b;
}

static bool same_bits(float a, float b) { return isnan(a) ? isnan(b) : a == b && !signbit(a) == !signbit(b); }

static void assert_same_bits(const char *what, const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        ck_assert_msg(same_bits(a[i], b[i]), "%s: element %lld is %g, plain kernel %g", what, (long long)i, a[i], b[i]);
}

/* -1, -0, +0 and 1 (ties everywhere) and about 1 in 16 NaN. */
static float *tie_values(int64_t n, uint64_t *rng) {
    static const float levels[4] = {-1.0f, -0.0f, 0.0f, 1.0f};
    float *x = malloc((size_t)n * sizeof *x);
    ck_assert_ptr_nonnull(x);
    for (int64_t i = 0; i < n; i++) {
        float u = wb_rng_uniform(rng);
        x[i] = u < 0.0625f ? NAN : levels[(int)(u * 4.0f) & 3];
    }
    return x;
}

START_TEST(to_plain_inverts_the_blocking) {
    const int64_t n = 2, c = 48, hw = 7 * 5; /* pixels not a multiple of 16: the tail loop */
    uint64_t rng = 3;
    float *x = tie_values(n * c * hw, &rng), *back = malloc((size_t)(n * c * hw) * sizeof *back);
    float *b = to_blocked(x, n, c, hw);
    wb_cpu_layout_kernels()->to_plain(b, n, c, hw, back);
    assert_same_bits("to_plain", back, x, n * c * hw);
    free(x), free(b), free(back);
}
END_TEST

START_TEST(max_pool_matches_plain_kernel) {
    /* kh, kw, sh, sw, ph, pw, ceil_mode */
    static const int cases[][7] = {{5, 5, 1, 1, 2, 2, 0}, {3, 3, 2, 2, 1, 1, 1}, {1, 1, 2, 2, 0, 0, 0},
                                   {5, 4, 3, 2, 2, 1, 1}, {2, 2, 2, 2, 0, 0, 1}};
    const int64_t n = 2, c = 32, ih = 13, iw = 11;
    uint64_t rng = 5;
    float *x = tie_values(n * c * ih * iw, &rng), *xb = to_blocked(x, n, c, ih * iw);
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        const int *p = cases[k];
        wb_pool2d_params pp = {sizeof pp, p[0], p[1], p[2], p[3], p[4], p[5], p[6], 0};
        /* The op's own argument checks and output size, on a plain tensor of this shape. */
        wbt_env e;
        wbt_env_init(&e, wb_backend_cpu(), 1);
        e.c.grad_enabled = false;
        int64_t shape[4] = {n, c, ih, iw};
        wb_tensor *t = wbt_from(&e, 4, shape, x), *y = wb_op_max_pool2d(e.ctx, t, &pp);
        ck_assert_msg(y != NULL, "%s", e.c.msg);
        wb_pool_args a = {.planes = n * c / B, .ih = ih, .iw = iw, .oh = y->shape[2], .ow = y->shape[3],
                          .kh = p[0], .kw = p[1], .sh = p[2], .sw = p[3], .ph = p[4], .pw = p[5]};
        int64_t n_out = n * c * a.oh * a.ow;
        float *yb = malloc((size_t)n_out * sizeof *yb), *yp = malloc((size_t)n_out * sizeof *yp);
        wb_cpu_layout_kernels()->max_pool_forward(xb, &a, yb);
        wb_cpu_layout_kernels()->to_plain(yb, n, c, a.oh * a.ow, yp);
        assert_same_bits("max_pool", yp, y->data, n_out);
        free(yb), free(yp);
        wbt_env_free(&e);
    }
    free(x), free(xb);
}
END_TEST

START_TEST(nearest_matches_plain_kernel) {
    static const int sizes[][4] = {{5, 7, 10, 14}, {5, 7, 13, 9}, {8, 8, 5, 3}};
    const int64_t n = 1, c = 32;
    uint64_t rng = 9;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        const int *s = sizes[k];
        int64_t n_in = n * c * s[0] * s[1], n_out = n * c * s[2] * s[3];
        float *x = tie_values(n_in, &rng), *xb = to_blocked(x, n, c, s[0] * s[1]);
        float *y = malloc((size_t)n_out * sizeof *y), *yb = malloc((size_t)n_out * sizeof *yb),
              *yp = malloc((size_t)n_out * sizeof *yp);
        wb_cpu_pointwise_kernels()->nearest_forward(x, n * c, s[0], s[1], y, s[2], s[3]);
        wb_cpu_layout_kernels()->nearest_forward(xb, n * c / B, s[0], s[1], yb, s[2], s[3]);
        wb_cpu_layout_kernels()->to_plain(yb, n, c, s[2] * s[3], yp);
        assert_same_bits("nearest", yp, y, n_out);
        free(x), free(xb), free(y), free(yb), free(yp);
    }
}
END_TEST

/* A blocked image whose scratch passes the limit runs in bands of output
 * rows as a plain one does (conv_dnnl.c): bands of one row (limit 1 byte)
 * and of several (64 KiB), on a Winograd 3x3 and a strided 3x3, with the
 * ReLU inside the kernel. */
START_TEST(row_bands_of_blocked_images_match_reference) {
    const wb_conv_shape shapes[] = {
        {.n = 2, .c_in = 16, .h_in = 48, .w_in = 32, .c_out = 32, .h_out = 48, .w_out = 32, .k_h = 3, .k_w = 3,
         .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1, .inference = 1},
        {.n = 1, .c_in = 32, .h_in = 34, .w_in = 30, .c_out = 16, .h_out = 17, .w_out = 15, .k_h = 3, .k_w = 3,
         .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1, .inference = 1},
    };
    static const size_t limits[] = {1, (size_t)64 << 10};
    uint64_t rng = 17;
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const wb_conv_shape *s = &shapes[i];
        int64_t nx = s->n * s->c_in * s->h_in * s->w_in, ny = s->n * s->c_out * s->h_out * s->w_out;
        int64_t nw = s->c_out * s->c_in * s->k_h * s->k_w;
        float *x = malloc((size_t)nx * sizeof *x), *w = malloc((size_t)nw * sizeof *w), b[32];
        for (int64_t k = 0; k < nx; k++) x[k] = 2.0f * wb_rng_uniform(&rng) - 1.0f;
        for (int64_t k = 0; k < nw; k++) w[k] = 0.2f * wb_rng_uniform(&rng) - 0.1f;
        for (int64_t k = 0; k < s->c_out; k++) b[k] = 0.2f * wb_rng_uniform(&rng) - 0.1f;
        float *xb = to_blocked(x, s->n, s->c_in, s->h_in * s->w_in), *want = malloc((size_t)ny * sizeof *want);
        ck_assert_int_eq(wb_ref_conv_kernels()->forward(s, x, w, b, want), WB_OK);
        for (int64_t k = 0; k < ny; k++) want[k] = want[k] > 0.0f ? want[k] : 0.0f;
        for (size_t l = 0; l < sizeof limits / sizeof *limits; l++) {
            float *yb = malloc((size_t)ny * sizeof *yb), *y = malloc((size_t)ny * sizeof *y);
            for (int64_t k = 0; k < ny; k++) yb[k] = NAN; /* every row must be written */
            size_t before = wb_cpu_conv_set_group_limit(limits[l]);
            bool y_blocked = false;
            wb_status st =
                wb_cpu_conv_kernels()->forward_blocked(s, xb, true, w, b, NULL, false, WB_ACT_RELU, yb, &y_blocked);
            wb_cpu_conv_set_group_limit(before);
            ck_assert_int_eq(st, WB_OK);
            ck_assert(y_blocked);
            wb_cpu_layout_kernels()->to_plain(yb, s->n, s->c_out, s->h_out * s->w_out, y);
            wbt_assert_rel_close(i == 0 ? "winograd 3x3 in bands" : "strided 3x3 in bands", y, want, ny, 1e-5);
            free(yb), free(y);
        }
        free(x), free(w), free(xb), free(want);
    }
}
END_TEST

/* RoIAlign from blocked features gives the reference's values: torchvision's
 * sampling and legacy alignment, mmdetection's adaptive grid, a RoI so large
 * its samples outgrow the per-RoI table, one half outside the map and one
 * with no area. */
START_TEST(roi_align_reads_blocked_features) {
    enum { N = 2, C = 32, H = 20, W = 24, K = 5, OUT = 7 };
    static const float rois[K * 5] = {
        0, 2.0f, 3.0f, 30.0f, 26.0f,   1, 0.5f, 0.5f, 9.0f, 7.5f, 1, -20.0f, 4.0f, 150.0f, 180.0f,
        0, 30.0f, 20.0f, 70.0f, 60.0f, 1, 8.0f, 8.0f, 8.0f, 8.0f,
    };
    uint64_t rng = 23;
    float *x = malloc(N * C * H * W * sizeof *x), *want = malloc(K * C * OUT * OUT * sizeof *want),
          *got = malloc(K * C * OUT * OUT * sizeof *got);
    for (int64_t i = 0; i < N * C * H * W; i++) x[i] = 2.0f * wb_rng_uniform(&rng) - 1.0f;
    float *xb = to_blocked(x, N, C, H * W);
    for (int sampling = 0; sampling <= 2; sampling += 2) {
        wb_roi_args a = {.n = N, .c = C, .h = H, .w = W, .k = K, .out_h = OUT, .out_w = OUT, .spatial_scale = 0.5f,
                         .sampling_ratio = sampling, .aligned = sampling == 0};
        wb_ref_gather_kernels()->roi_align_forward(x, rois, &a, want);
        wb_cpu_layout_kernels()->roi_align_forward(xb, rois, &a, NULL, got);
        wbt_assert_rel_close(sampling ? "roi_align 2x2, legacy" : "roi_align adaptive, aligned", got, want,
                             K * C * OUT * OUT, 1e-5);
    }
    free(x), free(xb), free(want), free(got);
}
END_TEST

/* The chain's tensors, named for the messages. */
enum { S1, A, WINO, SUM, SG, UP, MP, MP2, ROI, MSR, CAT, HEAD, BIASED, N_OUT };
static const char *const names[N_OUT] = {"stem conv + silu", "1x1 conv + relu", "winograd conv", "add", "silu",
                                         "upsample", "max pool 5/1", "max pool 3/2", "roi_align",
                                         "multiscale_roi_align", "concat", "head conv", "broadcast add"};
static const bool want_blocked[N_OUT] = {true, true, true, true, true, true, true, true,
                                         false, false, true, false, false};

static wb_tensor *param(wbt_env *e, int64_t o, int64_t i, int64_t k, uint64_t *rng) {
    int64_t shape[4] = {o, i, k, k};
    return wbt_random(e, 4, shape, -0.3f, 0.3f, rng);
}

static wb_tensor *bias(wbt_env *e, int64_t o, uint64_t *rng) { return wbt_random(e, 1, &o, -0.1f, 0.1f, rng); }

/* Every op that passes blocked tensors on, in the order a YOLOv5 neck and a
 * ResNet use them; blocked[i] records each output's layout as made. */
static void chain(wbt_env *e, wb_tensor **out, bool *blocked) {
    uint64_t rng = 11;
    int64_t x_shape[4] = {2, 3, 64, 64}, b_shape[4] = {1, 96, 1, 1};
    wb_tensor *x = wbt_random(e, 4, x_shape, -1.0f, 1.0f, &rng);
    wb_conv2d_params s2 = {sizeof s2, 2, 2, 1, 1, 1, 1, 1}, p1 = {sizeof p1, 1, 1, 1, 1, 1, 1, 1},
                     p0 = {sizeof p0, 1, 1, 0, 0, 1, 1, 1};
    wb_pool2d_params k5 = {sizeof k5, 5, 5, 1, 1, 2, 2, 0, 0}, k3 = {sizeof k3, 3, 3, 2, 2, 1, 1, 0, 0};
    wb_ctx *c = e->ctx;
    out[S1] = wb_op_conv2d_act(c, x, param(e, 32, 3, 3, &rng), bias(e, 32, &rng), &s2, WB_ACTIVATION_SILU);
    out[A] = wb_op_conv2d_act(c, out[S1], param(e, 32, 32, 1, &rng), bias(e, 32, &rng), &p0, WB_ACTIVATION_RELU);
    out[WINO] = wb_op_conv2d(c, out[S1], param(e, 32, 32, 3, &rng), bias(e, 32, &rng), &p1);
    out[SUM] = wb_op_add(c, out[A], out[WINO]);
    out[SG] = wb_op_silu(c, out[SUM]);
    out[UP] = wb_op_upsample_nearest(c, out[SG], 2, 0, 0);
    out[MP] = wb_op_max_pool2d(c, out[SUM], &k5);
    out[MP2] = wb_op_max_pool2d(c, out[UP], &k3);
    int64_t roi_shape[2] = {3, 5};
    static const float rois[15] = {0, 4, 6, 40, 30, 1, 10, 2, 62, 60, 1, 0, 0, 12, 5};
    out[ROI] = wb_op_roi_align(c, out[SUM], wbt_from(e, 2, roi_shape, rois), 7, 7, 0.5f, 0, 1);
    /* levels 0, 1, 0, 1 in RoI order: each level's RoIs land in their own rows */
    int64_t ms_shape[2] = {4, 5};
    static const float ms_rois[20] = {0, 4, 6, 20, 18, 1, 10, 2, 62, 60, 1, 0, 0, 12, 5, 0, 30, 30, 63, 50};
    wb_tensor *levels[2] = {out[UP], out[SUM]};
    static const float scales[2] = {1.0f, 0.5f};
    wb_roi_levels lv = wb_roi_levels_mmdet();
    lv.finest_scale = 16.0f;
    out[MSR] = wb_op_multiscale_roi_align(c, levels, 2, scales, wbt_from(e, 2, ms_shape, ms_rois), 7, 7, 2, 1, &lv);
    wb_tensor *parts[3] = {out[MP], out[MP2], out[SG]};
    out[CAT] = wb_op_concat(c, parts, 3, 1);
    out[HEAD] = wb_op_conv2d(c, out[CAT], param(e, 24, 96, 1, &rng), NULL, &p0);
    for (int i = 0; i <= HEAD; i++) {
        ck_assert_msg(out[i] != NULL, "%s: %s", names[i], e->c.msg);
        blocked[i] = out[i]->blocked;
    }
    /* A broadcast operand: add reads both as NCHW, so the concat becomes plain. */
    out[BIASED] = wb_op_add(c, out[CAT], wbt_random(e, 4, b_shape, -1.0f, 1.0f, &rng));
    ck_assert_msg(out[BIASED] != NULL, "%s", e->c.msg);
    blocked[BIASED] = out[BIASED]->blocked;
    ck_assert_msg(!out[CAT]->blocked, "the broadcast add left its blocked operand blocked");
}

START_TEST(inference_chain_matches_reference) {
    wbt_env cpu, ref;
    wbt_env_init(&cpu, wb_backend_cpu(), 1);
    wbt_env_init(&ref, wb_backend_ref(), 1);
    cpu.c.grad_enabled = ref.c.grad_enabled = false;
    wb_tensor *got[N_OUT], *want[N_OUT];
    bool blocked[N_OUT], ref_blocked[N_OUT];
    chain(&cpu, got, blocked);
    chain(&ref, want, ref_blocked);
    for (int i = 0; i < N_OUT; i++) {
        ck_assert_msg(blocked[i] == want_blocked[i], "%s: blocked %d, expected %d", names[i], blocked[i],
                      want_blocked[i]);
        ck_assert_msg(!ref_blocked[i], "%s: the reference backend made a blocked tensor", names[i]);
        ck_assert(wb_shape_equal(got[i], want[i]));
    }
    /* tensor_map hands a plugin NCHW. */
    const float *mapped = wb_host_tensor_map(cpu.ctx, got[UP]);
    ck_assert_msg(mapped && !got[UP]->blocked, "tensor_map of a blocked tensor: %s", cpu.c.msg);
    for (int i = 0; i < N_OUT; i++)
        wbt_assert_rel_close(names[i], wbt_plain(got[i]), want[i]->data, got[i]->numel, 1e-5);
    wbt_env_free(&cpu);
    wbt_env_free(&ref);
}
END_TEST

/* Where a backward follows, convolutions write NCHW as ever. */
START_TEST(training_stays_plain) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_cpu(), 1);
    uint64_t rng = 2;
    int64_t x_shape[4] = {1, 16, 8, 8}, w_shape[4] = {16, 16, 3, 3};
    wb_conv2d_params p1 = {sizeof p1, 1, 1, 1, 1, 1, 1, 1};
    wb_tensor *x = wbt_random(&e, 4, x_shape, -1.0f, 1.0f, &rng), *w = wbt_random(&e, 4, w_shape, -1.0f, 1.0f, &rng);
    w->requires_grad = true;
    wb_tensor *y = wb_op_conv2d_act(e.ctx, x, w, NULL, &p1, WB_ACTIVATION_RELU);
    ck_assert_msg(y && !y->blocked, "a recorded conv made a blocked output");
    e.c.grad_enabled = false;
    wb_tensor *z = wb_op_conv2d(e.ctx, y, w, NULL, &p1);
    ck_assert_msg(z && z->blocked, "an inference conv on the CPU left its output plain");
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("blocked_layout");
    TCase *k = tcase_create("kernels");
    tcase_add_test(k, to_plain_inverts_the_blocking);
    tcase_add_test(k, max_pool_matches_plain_kernel);
    tcase_add_test(k, nearest_matches_plain_kernel);
    tcase_add_test(k, roi_align_reads_blocked_features);
    suite_add_tcase(s, k);
    TCase *o = tcase_create("ops");
    tcase_add_test(o, inference_chain_matches_reference);
    tcase_add_test(o, training_stays_plain);
    tcase_add_test(o, row_bands_of_blocked_images_match_reference);
    suite_add_tcase(s, o);
    return wbt_run_suite(s);
}
