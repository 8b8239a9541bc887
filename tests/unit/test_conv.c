/* conv2d: torch parity (ref and cpu kernels), finite-difference gradients,
 * oneDNN vs reference, primitive cache reuse and shape errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <workbench/ops.h>

#include "backends/cpu/conv_dnnl.h"
#include "backends/cpu/conv_1x1_matmul.h"
#include "backends/cpu/conv_wgrad_1x1.h"
#include "backends/cpu/dnnl_common.h"
#include "backends/families.h"
#include "backends/kernels_conv.h"
#include "ops/ops.h"
#include "opcheck.h"

/* float32 results of sums of up to ~600 products whose order differs between
 * torch (float64 here), the reference (double accumulation) and oneDNN
 * (blocked float32 FMAs): we allow 1e-4 relative plus 1e-4 of the tensor's
 * largest magnitude, i.e. hundreds of float32 ulps, far below any real bug. */
#define CONV_RTOL 1e-4
#define CONV_ATOL_SCALE 1e-4

static double max_abs(const float *a, int64_t n) {
    double m = 0.0;
    for (int64_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

static void assert_conv_close(const char *what, const float *got, const float *want, int64_t n) {
    double atol = CONV_ATOL_SCALE * fmax(max_abs(want, n), 1.0);
    wbt_assert_close(what, got, want, n, atol, CONV_RTOL);
}


static const char *const PARITY_CASES[] = {
    "conv_basic", "conv_stride2_odd", "conv_rect_kernel", "conv_dilated", "conv_groups",
    "conv_depthwise", "conv_1x1", "conv_7x7_s2", "conv_wide",
};
#define N_PARITY_CASES ((int)(sizeof PARITY_CASES / sizeof *PARITY_CASES))

static void check_parity(const wb_backend *backend, const char *case_name) {
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, backend, 1);
    wb_conv2d_params p = {sizeof p,
                          (int)wbt_parity_attr(&f, "stride_h"), (int)wbt_parity_attr(&f, "stride_w"),
                          (int)wbt_parity_attr(&f, "pad_h"), (int)wbt_parity_attr(&f, "pad_w"),
                          (int)wbt_parity_attr(&f, "dil_h"), (int)wbt_parity_attr(&f, "dil_w"),
                          (int)wbt_parity_attr(&f, "groups")};
    bool with_bias = wb_st_find(&f, "b") != NULL;
    wb_tensor *x = wbt_parity_input(&e, &f, "x", true), *w = wbt_parity_input(&e, &f, "w", true);
    wb_tensor *b = with_bias ? wbt_parity_input(&e, &f, "b", true) : NULL;

    wb_tensor *y = wb_op_conv2d(e.ctx, x, w, b, &p);
    ck_assert_msg(y != NULL, "%s/%s: conv2d failed: %s", backend->name, case_name, e.c.msg);
    char what[128];
    snprintf(what, sizeof what, "%s/%s y", backend->name, case_name);
    assert_conv_close(what, y->data, wbt_parity_tensor(&f, "y", y->numel), y->numel);

    y->grad = wb_ctx_scratch(&e.c, (size_t)y->numel * sizeof(float));
    memcpy(y->grad, wbt_parity_tensor(&f, "dy", y->numel), (size_t)y->numel * sizeof(float));
    y->grad_valid = true;
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    snprintf(what, sizeof what, "%s/%s dx", backend->name, case_name);
    assert_conv_close(what, x->grad, wbt_parity_tensor(&f, "dx", x->numel), x->numel);
    snprintf(what, sizeof what, "%s/%s dw", backend->name, case_name);
    assert_conv_close(what, w->grad, wbt_parity_tensor(&f, "dw", w->numel), w->numel);
    if (b) {
        snprintf(what, sizeof what, "%s/%s db", backend->name, case_name);
        assert_conv_close(what, b->grad, wbt_parity_tensor(&f, "db", b->numel), b->numel);
    }
    wbt_env_free(&e);
    wb_st_free(&f);
}

START_TEST(torch_parity_ref) { check_parity(wb_backend_ref(), PARITY_CASES[_i]); }
END_TEST

START_TEST(torch_parity_cpu) { check_parity(wb_backend_cpu(), PARITY_CASES[_i]); }
END_TEST

/* ---- finite differences ---- */

typedef struct fd_case {
    int64_t x[4], w[4];
    wb_conv2d_params p;
    bool bias;
} fd_case;

static const fd_case FD_CASES[] = {
    {{2, 3, 5, 7}, {4, 3, 3, 3}, {sizeof(wb_conv2d_params), 1, 1, 1, 1, 1, 1, 1}, true},
    {{1, 4, 9, 7}, {6, 2, 3, 2}, {sizeof(wb_conv2d_params), 2, 2, 1, 0, 1, 1, 2}, true},
    {{1, 3, 9, 8}, {5, 3, 3, 3}, {sizeof(wb_conv2d_params), 1, 2, 2, 1, 2, 3, 1}, false},
    {{2, 6, 6, 5}, {6, 1, 3, 3}, {sizeof(wb_conv2d_params), 2, 1, 1, 1, 1, 1, 6}, false},
};
#define N_FD_CASES ((int)(sizeof FD_CASES / sizeof *FD_CASES))

static wb_tensor *conv_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    const fd_case *fc = user;
    return wb_op_conv2d(ctx, in[0], in[1], fc->bias ? in[2] : NULL, &fc->p);
}

static void check_fd(const wb_backend *backend, int i) {
    const fd_case *fc = &FD_CASES[i];
    opcheck_input in[3] = {
        {.ndim = 4, .lo = -1, .hi = 1, .grad = true},
        {.ndim = 4, .lo = -1, .hi = 1, .grad = true},
        {.ndim = 1, .shape = {fc->w[0]}, .lo = -1, .hi = 1, .grad = true},
    };
    memcpy(in[0].shape, fc->x, sizeof fc->x);
    memcpy(in[1].shape, fc->w, sizeof fc->w);
    /* Default opcheck tolerances (2e-3 abs, 2e-2 rel) cover central differences
     * of a bilinear op in float32 with step 1e-3. */
    opcheck_gradients("conv2d", conv_fn, (void *)fc, in, fc->bias ? 3 : 2,
                      (opcheck_opts){.backend = backend, .seed = 10u + (uint64_t)i});
}

START_TEST(finite_differences_ref) { check_fd(wb_backend_ref(), _i); }
END_TEST

/* A frozen weight with a trainable bias (and input): the weights kernel
 * still runs for db, writing dw to scratch, and w gets no gradient. */
START_TEST(frozen_weight_trainable_bias) {
    const fd_case *fc = &FD_CASES[0];
    opcheck_input in[3] = {
        {.ndim = 4, .lo = -1, .hi = 1, .grad = true},
        {.ndim = 4, .lo = -1, .hi = 1, .grad = false},
        {.ndim = 1, .shape = {fc->w[0]}, .lo = -1, .hi = 1, .grad = true},
    };
    memcpy(in[0].shape, fc->x, sizeof fc->x);
    memcpy(in[1].shape, fc->w, sizeof fc->w);
    opcheck_gradients("conv2d", conv_fn, (void *)fc, in, 3, (opcheck_opts){.backend = wb_backend_cpu(), .seed = 5});
}
END_TEST

START_TEST(finite_differences_cpu) { check_fd(wb_backend_cpu(), _i); }
END_TEST

/* x feeding two convs: the second gradient of x is added in place by the
 * backend where it can (oneDNN: the 3x3 in its output reorder, the 1x1 by
 * its GEMM) and from a temporary where it cannot (the reference kernels). */
static wb_tensor *two_convs_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    int k2 = *(const int *)user;
    wb_conv2d_params p3 = {sizeof p3, 1, 1, 1, 1, 1, 1, 1}, p2 = {sizeof p2, 1, 1, k2 / 2, k2 / 2, 1, 1, 1};
    return wb_op_add(ctx, wb_op_conv2d(ctx, in[0], in[1], NULL, &p3), wb_op_conv2d(ctx, in[0], in[2], NULL, &p2));
}

START_TEST(second_gradient_added_in_place) {
    static const int second_kernel[] = {3, 1};
    for (int backend = 0; backend < 2; backend++)
        for (int k = 0; k < 2; k++) {
            opcheck_input in[3] = {
                {.ndim = 4, .shape = {2, 16, 9, 8}, .lo = -1, .hi = 1, .grad = true},
                {.ndim = 4, .shape = {16, 16, 3, 3}, .lo = -1, .hi = 1, .grad = true},
                {.ndim = 4, .shape = {16, 16, second_kernel[k], second_kernel[k]}, .lo = -1, .hi = 1, .grad = true},
            };
            opcheck_gradients("conv2d + conv2d", two_convs_fn, (void *)&second_kernel[k], in, 3,
                              (opcheck_opts){.backend = backend ? wb_backend_cpu() : wb_backend_ref(), .seed = 7});
        }
}
END_TEST

/* ---- oneDNN against the reference kernel on mid-size shapes ---- */

static float *random_buf(int64_t n, uint64_t *rng) {
    float *p = malloc((size_t)n * sizeof *p);
    ck_assert_ptr_nonnull(p);
    for (int64_t i = 0; i < n; i++) p[i] = 2.0f * wb_rng_uniform(rng) - 1.0f;
    return p;
}

/* limit: the oneDNN kernels' scratch limit (wb_cpu_conv_set_group_limit) for
 * these calls, 0 to keep the default. Outputs start as NaN: every element
 * must be written. */
static void check_cpu_vs_ref(const wb_conv_shape *s, size_t limit) {
    const wb_conv_kernels *ref = wb_ref_conv_kernels(), *cpu = wb_cpu_conv_kernels();
    size_t default_limit = limit ? wb_cpu_conv_set_group_limit(limit) : 0;
    int64_t nx = s->n * s->c_in * s->h_in * s->w_in, ny = s->n * s->c_out * s->h_out * s->w_out;
    int64_t nw = s->c_out * (s->c_in / s->groups) * s->k_h * s->k_w;
    uint64_t rng = 42;
    float *x = random_buf(nx, &rng), *w = random_buf(nw, &rng), *b = random_buf(s->c_out, &rng);
    float *dy = random_buf(ny, &rng);
    float *y_ref = malloc((size_t)ny * 4), *y_cpu = malloc((size_t)ny * 4);
    float *dx_ref = malloc((size_t)nx * 4), *dx_cpu = malloc((size_t)nx * 4);
    float *dw_ref = malloc((size_t)nw * 4), *dw_cpu = malloc((size_t)nw * 4);
    float *db_ref = malloc((size_t)s->c_out * 4), *db_cpu = malloc((size_t)s->c_out * 4);
    for (int64_t i = 0; i < ny; i++) y_cpu[i] = NAN;
    for (int64_t i = 0; i < nx; i++) dx_cpu[i] = NAN;

    ck_assert_int_eq(ref->forward(s, x, w, b, y_ref), WB_OK);
    ck_assert_int_eq(cpu->forward(s, x, w, b, y_cpu), WB_OK);
    assert_conv_close("cpu vs ref y", y_cpu, y_ref, ny);
    ck_assert_int_eq(ref->backward_data(s, dy, w, dx_ref), WB_OK);
    ck_assert_int_eq(cpu->backward_data(s, dy, w, dx_cpu), WB_OK);
    assert_conv_close("cpu vs ref dx", dx_cpu, dx_ref, nx);
    /* dx added into what dx_cpu holds. Declined only where a primitive
     * picks the plain layout for dx (narrow groups, few channels); the plain
     * 1x1 convs add by their GEMM. */
    float *held = random_buf(nx, &rng);
    memcpy(dx_cpu, held, (size_t)nx * 4);
    wb_status added = cpu->backward_data_add(s, dy, w, dx_cpu);
    bool must_add = s->groups == 1 && s->c_in % 16 == 0;
    ck_assert_msg(added == WB_OK || (added == WB_ERR_UNSUPPORTED && !must_add), "backward_data_add: status %d",
                  (int)added);
    for (int64_t i = 0; i < nx && added == WB_OK; i++) held[i] += dx_ref[i];
    if (added == WB_OK) assert_conv_close("cpu vs ref dx added", dx_cpu, held, nx);
    free(held);
    ck_assert_int_eq(ref->backward_weights(s, x, dy, dw_ref, db_ref), WB_OK);
    ck_assert_int_eq(cpu->backward_weights(s, x, dy, dw_cpu, db_cpu), WB_OK);
    assert_conv_close("cpu vs ref dw", dw_cpu, dw_ref, nw);
    assert_conv_close("cpu vs ref db", db_cpu, db_ref, s->c_out);
    if (limit) wb_cpu_conv_set_group_limit(default_limit);

    float *bufs[] = {x, w, b, dy, y_ref, y_cpu, dx_ref, dx_cpu, dw_ref, dw_cpu, db_ref, db_cpu};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]);
}

START_TEST(cpu_matches_reference) {
    /* A ResNet-like 3x3 layer, a strided grouped dilated one and a 1x1. */
    const wb_conv_shape shapes[] = {
        {.n = 2, .c_in = 32, .h_in = 28, .w_in = 28, .c_out = 48, .h_out = 28, .w_out = 28, .k_h = 3,
         .k_w = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1},
        {.n = 2, .c_in = 32, .h_in = 29, .w_in = 27, .c_out = 64, .h_out = 15, .w_out = 14, .k_h = 3,
         .k_w = 3, .stride_h = 2, .stride_w = 2, .pad_h = 2, .pad_w = 2, .dil_h = 2, .dil_w = 2, .groups = 4},
        {.n = 2, .c_in = 64, .h_in = 17, .w_in = 19, .c_out = 96, .h_out = 17, .w_out = 19, .k_h = 1,
         .k_w = 1, .stride_h = 1, .stride_w = 1, .pad_h = 0, .pad_w = 0, .dil_h = 1, .dil_w = 1, .groups = 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) check_cpu_vs_ref(&shapes[i], 0);
}
END_TEST

/* A 1x1 conv of stride 1 without padding (runs_plain in conv_dnnl.c). */
static wb_conv_shape plain_1x1(int64_t n, int64_t c_in, int64_t c_out, int64_t h, int64_t w) {
    return (wb_conv_shape){.n = n, .c_in = c_in, .h_in = h, .w_in = w, .c_out = c_out, .h_out = h, .w_out = w,
                           .k_h = 1, .k_w = 1, .stride_h = 1, .stride_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1};
}

/* The plain 1x1 convs' weight gradient is a batched matmul over (image,
 * pixel chunk) pairs whose partial products are summed (conv_wgrad_1x1.c):
 * maps of several chunks (96x96: two of 4608 pixels), one whose pixel count
 * has no divisor in range (a prime 8209: one chunk), narrow channels with
 * a bias; all against the reference, the chunk sizes, and a repeated call
 * creates nothing. */
START_TEST(plain_1x1_weight_gradient_in_pixel_chunks) {
    const wb_conv_shape shapes[] = {plain_1x1(2, 24, 40, 96, 96), plain_1x1(1, 16, 8, 1, 8209),
                                    plain_1x1(3, 3, 5, 130, 127)};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) check_cpu_vs_ref(&shapes[i], 0);
    /* yolov5s at 640: 160x160 in chunks of 6400; never a chunk under 1024 pixels (9207 = 1023 x 9). */
    const int64_t hw[] = {400, 8192, 9216, 25600, 8209, 2 * 8209, 1023 * 9};
    const int64_t chunk[] = {400, 8192, 4608, 6400, 8209, 2 * 8209, 3069};
    for (int i = 0; i < 7; i++)
        ck_assert_msg(wb_cpu_conv_wgrad_1x1_chunk(hw[i]) == chunk[i], "chunk of %lld pixels: %lld, expected %lld",
                      (long long)hw[i], (long long)wb_cpu_conv_wgrad_1x1_chunk(hw[i]), (long long)chunk[i]);
    const wb_conv_shape *s = &shapes[0];
    int64_t nx = s->n * s->c_in * 96 * 96, ny = s->n * s->c_out * 96 * 96, nw = s->c_out * s->c_in;
    uint64_t rng = 3;
    float *x = random_buf(nx, &rng), *dy = random_buf(ny, &rng), *dw = random_buf(nw, &rng);
    float *db = random_buf(s->c_out, &rng);
    uint64_t before = wb_dnnl_primitives_created();
    ck_assert_int_eq(wb_cpu_conv_kernels()->backward_weights(s, x, dy, dw, db), WB_OK);
    ck_assert_msg(wb_dnnl_primitives_created() == before, "a repeated weight gradient created %llu primitives",
                  (unsigned long long)(wb_dnnl_primitives_created() - before));
    free(x), free(dy), free(dw), free(db);
}
END_TEST

/* The plain 1x1 convs' forward (without bias) and backward-data are one
 * batched matmul over the images (conv_1x1_matmul.c), with w^T read
 * through strides and backward-data adding into dx by a sum post-op: a map
 * like yolov5s's narrow 160x160 layers, odd channel counts on an odd map and
 * a prime pixel count, each against the reference. With a bias the matmul
 * would be oneDNN's reference one, so it declines and the convolution
 * primitive runs (check_cpu_vs_ref covers that). */
START_TEST(plain_1x1_forward_and_data_gradient_as_matmul) {
    const wb_conv_shape shapes[] = {plain_1x1(2, 64, 32, 48, 40), plain_1x1(3, 3, 5, 31, 27),
                                    plain_1x1(1, 16, 24, 1, 8209)};
    const wb_conv_kernels *ref = wb_ref_conv_kernels();
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        const wb_conv_shape *s = &shapes[i];
        int64_t nx = s->n * s->c_in * s->h_in * s->w_in, ny = s->n * s->c_out * s->h_out * s->w_out;
        uint64_t rng = 11 + i;
        float *x = random_buf(nx, &rng), *w = random_buf(s->c_out * s->c_in, &rng), *dy = random_buf(ny, &rng);
        float *b = random_buf(s->c_out, &rng), *held = random_buf(nx, &rng);
        float *y = malloc((size_t)ny * 4), *y_ref = malloc((size_t)ny * 4);
        float *dx = malloc((size_t)nx * 4), *dx_ref = malloc((size_t)nx * 4);
        for (int64_t k = 0; k < ny; k++) y[k] = NAN;
        for (int64_t k = 0; k < nx; k++) dx[k] = NAN;
        ck_assert_int_eq(wb_cpu_conv_1x1_forward(s, x, w, NULL, y), dnnl_success);
        ck_assert_int_eq(ref->forward(s, x, w, NULL, y_ref), WB_OK);
        assert_conv_close("matmul vs ref y", y, y_ref, ny);
        ck_assert_int_eq(wb_cpu_conv_1x1_forward(s, x, w, b, y), dnnl_unimplemented);
        ck_assert_int_eq(wb_cpu_conv_1x1_backward_data(s, dy, w, dx, false), dnnl_success);
        ck_assert_int_eq(ref->backward_data(s, dy, w, dx_ref), WB_OK);
        assert_conv_close("matmul vs ref dx", dx, dx_ref, nx);
        memcpy(dx, held, (size_t)nx * 4);
        ck_assert_int_eq(wb_cpu_conv_1x1_backward_data(s, dy, w, dx, true), dnnl_success);
        for (int64_t k = 0; k < nx; k++) held[k] += dx_ref[k];
        assert_conv_close("matmul vs ref dx added", dx, held, nx);
        float *bufs[] = {x, w, dy, b, held, y, y_ref, dx, dx_ref};
        for (size_t k = 0; k < sizeof bufs / sizeof *bufs; k++) free(bufs[k]);
    }
}
END_TEST

/* One image whose scratch passes the limit runs in bands of output rows,
 * each a conv of its own on the rows it reads (padded at the image's edges
 * only); backward-data's bands overlap in the input rows they write. Bands
 * of one row (limit 1 byte) and of several (64 KiB), on Winograd's 3x3,
 * dilated, strided, 5x5 and 7x7/2 convs, one of whose last input row no
 * window reads (its dx is zero), all against the reference kernel. */
START_TEST(one_image_in_row_bands_matches_reference) {
    const wb_conv_shape shapes[] = {
        {.n = 2, .c_in = 16, .h_in = 40, .w_in = 36, .c_out = 32, .h_out = 40, .w_out = 36, .k_h = 3, .k_w = 3,
         .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1},
        {.n = 1, .c_in = 16, .h_in = 23, .w_in = 21, .c_out = 16, .h_out = 23, .w_out = 21, .k_h = 3, .k_w = 3,
         .stride_h = 1, .stride_w = 1, .pad_h = 2, .pad_w = 2, .dil_h = 2, .dil_w = 2, .groups = 1},
        {.n = 1, .c_in = 8, .h_in = 34, .w_in = 30, .c_out = 16, .h_out = 16, .w_out = 14, .k_h = 3, .k_w = 3,
         .stride_h = 2, .stride_w = 2, .pad_h = 0, .pad_w = 0, .dil_h = 1, .dil_w = 1, .groups = 1},
        {.n = 1, .c_in = 16, .h_in = 19, .w_in = 17, .c_out = 32, .h_out = 19, .w_out = 17, .k_h = 5, .k_w = 5,
         .stride_h = 1, .stride_w = 1, .pad_h = 2, .pad_w = 2, .dil_h = 1, .dil_w = 1, .groups = 2},
        {.n = 2, .c_in = 3, .h_in = 37, .w_in = 32, .c_out = 16, .h_out = 19, .w_out = 16, .k_h = 7, .k_w = 7,
         .stride_h = 2, .stride_w = 2, .pad_h = 3, .pad_w = 3, .dil_h = 1, .dil_w = 1, .groups = 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        check_cpu_vs_ref(&shapes[i], 1);
        check_cpu_vs_ref(&shapes[i], (size_t)64 << 10);
    }
}
END_TEST

/* At inference a conv whose scratch for the whole batch is large runs in
 * groups of images. Here the scratch for 3 images is about 90 MiB (Winograd's
 * transformed weights 36 MiB, its tiles and the blocked copies), so the
 * kernel runs one image at a time; the result must equal the whole-batch
 * direct conv of training. */
START_TEST(inference_in_image_groups_matches_whole_batch) {
    const wb_conv_kernels *cpu = wb_cpu_conv_kernels();
    wb_conv_shape s = {.n = 3, .c_in = 512, .h_in = 32, .w_in = 32, .c_out = 512, .h_out = 32, .w_out = 32,
                       .k_h = 3, .k_w = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1,
                       .dil_h = 1, .dil_w = 1, .groups = 1};
    int64_t nx = s.n * s.c_in * s.h_in * s.w_in, ny = s.n * s.c_out * s.h_out * s.w_out;
    uint64_t rng = 11;
    float *x = random_buf(nx, &rng), *w = random_buf(s.c_out * s.c_in * 9, &rng), *b = random_buf(s.c_out, &rng);
    float *y_whole = malloc((size_t)ny * 4), *y_groups = malloc((size_t)ny * 4);
    for (int64_t i = 0; i < ny; i++) y_groups[i] = NAN; /* every image must be written */
    ck_assert_int_eq(cpu->forward(&s, x, w, b, y_whole), WB_OK);
    s.inference = 1;
    ck_assert_int_eq(cpu->forward(&s, x, w, b, y_groups), WB_OK);
    assert_conv_close("image groups vs whole batch", y_groups, y_whole, ny);
    free(x), free(w), free(b), free(y_whole), free(y_groups);
}
END_TEST

/* In training, backward-data and backward-weights whose scratch for the
 * whole batch is large run in groups of images too (here the limit is set
 * to 1 byte: one image per run). dx is per image; dw and db are sums over the
 * images, the groups' partial sums added into the output: another order of
 * the same float sum than the whole batch's, so equal within the kernels'
 * tolerance (a lost or doubled image is off by O(1) of the values). A
 * Winograd 3x3 (64x64 maps) and a strided direct conv. */
static void check_backward_groups(const wb_conv_shape *s) {
    const wb_conv_kernels *cpu = wb_cpu_conv_kernels();
    int64_t nx = s->n * s->c_in * s->h_in * s->w_in, ny = s->n * s->c_out * s->h_out * s->w_out;
    int64_t nw = s->c_out * s->c_in * s->k_h * s->k_w;
    uint64_t rng = 23;
    float *x = random_buf(nx, &rng), *w = random_buf(nw, &rng), *dy = random_buf(ny, &rng);
    float *dx[2], *dw[2], *db[2];
    for (int run = 0; run < 2; run++) {
        dx[run] = malloc((size_t)nx * 4), dw[run] = malloc((size_t)nw * 4), db[run] = malloc((size_t)s->c_out * 4);
        for (int64_t i = 0; i < nx; i++) dx[run][i] = NAN; /* every image must be written */
        size_t before = wb_cpu_conv_set_group_limit(run == 0 ? (size_t)1 << 40 : 1);
        ck_assert_int_eq(cpu->backward_data(s, dy, w, dx[run]), WB_OK);
        ck_assert_int_eq(cpu->backward_weights(s, x, dy, dw[run], db[run]), WB_OK);
        wb_cpu_conv_set_group_limit(before);
    }
    assert_conv_close("dx in image groups vs whole batch", dx[1], dx[0], nx);
    assert_conv_close("dw in image groups vs whole batch", dw[1], dw[0], nw);
    assert_conv_close("db in image groups vs whole batch", db[1], db[0], s->c_out);
    for (int run = 0; run < 2; run++) free(dx[run]), free(dw[run]), free(db[run]);
    free(x), free(w), free(dy);
}

START_TEST(training_backward_in_image_groups_matches_whole_batch) {
    const wb_conv_shape shapes[] = {
        {.n = 3, .c_in = 16, .h_in = 64, .w_in = 64, .c_out = 24, .h_out = 64, .w_out = 64, .k_h = 3, .k_w = 3,
         .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1},
        {.n = 3, .c_in = 16, .h_in = 33, .w_in = 31, .c_out = 24, .h_out = 17, .w_out = 16, .k_h = 3, .k_w = 3,
         .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1, .dil_h = 1, .dil_w = 1, .groups = 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) check_backward_groups(&shapes[i]);
}
END_TEST

/* ---- primitive cache ---- */

START_TEST(second_identical_call_creates_no_primitive) {
    const wb_conv_kernels *cpu = wb_cpu_conv_kernels();
    /* A shape no other test uses, so the first call must create primitives. */
    wb_conv_shape s = {.n = 1, .c_in = 5, .h_in = 11, .w_in = 13, .c_out = 7, .h_out = 6, .w_out = 7,
                       .k_h = 3, .k_w = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1,
                       .dil_h = 1, .dil_w = 1, .groups = 1};
    uint64_t rng = 7;
    float *x = random_buf(5 * 11 * 13, &rng), *w = random_buf(7 * 5 * 9, &rng), *b = random_buf(7, &rng);
    float *y = random_buf(7 * 6 * 7, &rng), *dx = random_buf(5 * 11 * 13, &rng);
    float *dw = random_buf(7 * 5 * 9, &rng), *db = random_buf(7, &rng);
    uint64_t before = wb_dnnl_primitives_created();
    ck_assert_int_eq(cpu->forward(&s, x, w, b, y), WB_OK);
    ck_assert_int_eq(cpu->backward_data(&s, y, w, dx), WB_OK);
    ck_assert_int_eq(cpu->backward_weights(&s, x, y, dw, db), WB_OK);
    uint64_t after_first = wb_dnnl_primitives_created();
    ck_assert_msg(after_first >= before + 3, "first calls created %llu primitives, expected >= 3",
                  (unsigned long long)(after_first - before));
    for (int iter = 0; iter < 3; iter++) {
        ck_assert_int_eq(cpu->forward(&s, x, w, b, y), WB_OK);
        ck_assert_int_eq(cpu->backward_data(&s, y, w, dx), WB_OK);
        ck_assert_int_eq(cpu->backward_weights(&s, x, y, dw, db), WB_OK);
    }
    ck_assert_msg(wb_dnnl_primitives_created() == after_first, "steady-state calls created %llu primitives",
                  (unsigned long long)(wb_dnnl_primitives_created() - after_first));
    free(x), free(w), free(b), free(y), free(dx), free(dw), free(db);
}
END_TEST

/* ---- shape errors ---- */

static void expect_error(const int64_t *xs, const int64_t *ws, int64_t bias_len, wb_conv2d_params p,
                         const char *fragment) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 3;
    wb_tensor *x = wbt_random(&e, 4, xs, -1, 1, &rng), *w = wbt_random(&e, 4, ws, -1, 1, &rng);
    wb_tensor *b = bias_len ? wbt_random(&e, 1, &bias_len, -1, 1, &rng) : NULL;
    ck_assert_ptr_null(wb_op_conv2d(e.ctx, x, w, b, &p));
    ck_assert_int_eq(e.c.err, WB_ERR_INVALID);
    ck_assert_msg(strstr(e.c.msg, fragment) != NULL, "message '%s' lacks '%s'", e.c.msg, fragment);
    wbt_env_free(&e);
}

START_TEST(bad_shapes_are_explained) {
    wb_conv2d_params p = wb_conv_p(1, 1, 1, 1);
    expect_error((int64_t[]){1, 3, 8, 8}, (int64_t[]){4, 4, 3, 3}, 0, p,
                 "conv2d: input has 3 channels but weight [4, 4, 3, 3] expects 4 (groups 1");
    expect_error((int64_t[]){1, 4, 8, 8}, (int64_t[]){4, 4, 3, 3}, 5, p, "conv2d: bias [5] must be [4]");
    expect_error((int64_t[]){1, 4, 2, 2}, (int64_t[]){4, 4, 5, 5}, 0, p, "the output would be empty");
    expect_error((int64_t[]){1, 6, 8, 8}, (int64_t[]){4, 3, 3, 3}, 0, wb_conv_p(1, 1, 1, 4),
                 "divisible by groups");
    expect_error((int64_t[]){1, 4, 8, 8}, (int64_t[]){4, 4, 3, 3}, 0, wb_conv_p(0, 1, 1, 1),
                 "stride, dilation and groups must be >= 1");
}
END_TEST

int main(void) {
    Suite *s = suite_create("conv");
    TCase *parity = tcase_create("torch_parity");
    tcase_add_loop_test(parity, torch_parity_ref, 0, N_PARITY_CASES);
    tcase_add_loop_test(parity, torch_parity_cpu, 0, N_PARITY_CASES);
    suite_add_tcase(s, parity);
    TCase *fd = tcase_create("finite_differences");
    tcase_add_loop_test(fd, finite_differences_ref, 0, N_FD_CASES);
    tcase_add_loop_test(fd, finite_differences_cpu, 0, N_FD_CASES);
    tcase_add_test(fd, frozen_weight_trainable_bias);
    tcase_add_test(fd, second_gradient_added_in_place);
    suite_add_tcase(s, fd);
    TCase *cpu = tcase_create("cpu_kernel");
    tcase_add_test(cpu, cpu_matches_reference);
    tcase_add_test(cpu, plain_1x1_weight_gradient_in_pixel_chunks);
    tcase_add_test(cpu, plain_1x1_forward_and_data_gradient_as_matmul);
    tcase_add_test(cpu, inference_in_image_groups_matches_whole_batch);
    tcase_add_test(cpu, training_backward_in_image_groups_matches_whole_batch);
    tcase_add_test(cpu, one_image_in_row_bands_matches_reference);
    tcase_add_test(cpu, second_identical_call_creates_no_primitive);
    tcase_add_test(cpu, bad_shapes_are_explained);
    suite_add_tcase(s, cpu);
    return wbt_run_suite(s);
}
