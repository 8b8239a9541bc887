/* roi_align, roi_pool and multiscale_roi_align: torchvision 0.14 parity
 * (forward and the features' gradient, aligned on/off, fixed and adaptive
 * sampling, RoIs outside the map, degenerate and empty RoI sets) on both
 * backends, MultiScaleRoIAlign's and mmdetection's level rules,
 * finite-difference gradients, the optimized kernels against the reference
 * on larger inputs, and the refusals. */
#include <stdio.h>
#include <string.h>

#include <workbench/ops.h>

#include "backends/families.h"
#include "ops/ops.h"
#include "opcheck.h"

/* torchvision sums the same samples in the same order in float32: what is
 * left is FMA contraction and rounding, far below 1e-5. */
#define ROI_TOL 1e-5

static const wb_backend *backend_at(int i) { return i == 0 ? wb_backend_ref() : wb_backend_cpu(); }

static void expect_close(const char *backend, const char *case_name, const char *what, const float *got,
                         const wb_st_file *f, const char *name, int64_t n) {
    char label[160];
    snprintf(label, sizeof label, "%s/%s %s", backend, case_name, what);
    const float *want = wbt_parity_tensor(f, name, n);
    fprintf(stderr, "  %-40s max |diff| %.3g\n", label, n ? wbt_max_abs_diff(got, want, n) : 0.0);
    wbt_assert_close(label, got, want, n, ROI_TOL, ROI_TOL);
}

static void seed_output_grad(wbt_env *e, wb_tensor *y, const float *dy) {
    float *g = wb_grad_begin(&e->c, y);
    memcpy(g, dy, (size_t)y->numel * sizeof(float));
    wb_grad_end(&e->c, y, g);
}

static const char *const ALIGN_CASES[] = {
    "roi_align_a0_s0_x4", "roi_align_a0_s0_x8", "roi_align_a0_s2_x4", "roi_align_a0_s2_x8",
    "roi_align_a1_s0_x4", "roi_align_a1_s0_x8", "roi_align_a1_s2_x4", "roi_align_a1_s2_x8",
    "roi_align_rect_out", "roi_align_empty",
};
#define N_ALIGN ((int)(sizeof ALIGN_CASES / sizeof *ALIGN_CASES))

static const char *const POOL_CASES[] = {"roi_pool_x4", "roi_pool_x8", "roi_pool_x16", "roi_pool_rect_out"};
#define N_POOL ((int)(sizeof POOL_CASES / sizeof *POOL_CASES))

/* Loop index: case i / 2 on backend i % 2 (ref, cpu); the pool cases follow the align ones. */
START_TEST(roi_ops_match_torchvision) {
    bool pool = _i / 2 >= N_ALIGN;
    const char *name = pool ? POOL_CASES[_i / 2 - N_ALIGN] : ALIGN_CASES[_i / 2];
    const wb_backend *be = backend_at(_i % 2);
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    wb_tensor *x = wbt_parity_input(&e, &f, "x", true), *rois = wbt_parity_input(&e, &f, "rois", false);
    const float *p = wbt_parity_tensor(&f, "params", pool ? 3 : 5);
    wb_tensor *y = pool ? wb_op_roi_pool(e.ctx, x, rois, (int)p[0], (int)p[1], p[2])
                        : wb_op_roi_align(e.ctx, x, rois, (int)p[0], (int)p[1], p[2], (int)p[3], (int)p[4]);
    ck_assert_msg(y != NULL, "%s: %s", name, e.c.msg);
    ck_assert_int_eq(y->shape[0], rois->shape[0]);
    expect_close(be->name, name, "y", y->data, &f, "y", y->numel);
    if (y->numel) {
        seed_output_grad(&e, y, wbt_parity_tensor(&f, "dy", y->numel));
        ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
        expect_close(be->name, name, "dx", x->grad, &f, "dx", x->numel);
    }
    ck_assert_msg(!rois->grad_valid, "rois received a gradient");
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

static const char *const MULTI_CASES[] = {"roi_multiscale_tv_s2", "roi_multiscale_tv_s0", "roi_multiscale_mmdet"};

/* Loop index: case i / 2 on backend i % 2. */
START_TEST(multiscale_matches_reference) {
    const char *name = MULTI_CASES[_i / 2];
    const wb_backend *be = backend_at(_i % 2);
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, be, 1);
    static const char *const LEVEL[4] = {"p2", "p3", "p4", "p5"}, *const DLEVEL[4] = {"dp2", "dp3", "dp4", "dp5"};
    const float scales[4] = {0.25f, 0.125f, 0.0625f, 0.03125f};
    wb_tensor *feats[4];
    for (int l = 0; l < 4; l++) feats[l] = wbt_parity_input(&e, &f, LEVEL[l], true);
    wb_tensor *rois = wbt_parity_input(&e, &f, "rois", false);
    const float *p = wbt_parity_tensor(&f, "params", 4);
    wb_roi_levels lv = p[3] ? wb_roi_levels_mmdet() : wb_roi_levels_torchvision();
    wb_tensor *y = wb_op_multiscale_roi_align(e.ctx, feats, 4, scales, rois, (int)p[0], (int)p[1], (int)p[2],
                                              (int)p[3], &lv);
    ck_assert_msg(y != NULL, "%s: %s", name, e.c.msg);
    expect_close(be->name, name, "y", y->data, &f, "y", y->numel);
    seed_output_grad(&e, y, wbt_parity_tensor(&f, "dy", y->numel));
    ck_assert_int_eq(wb_tape_backward(&e.c), WB_OK);
    for (int l = 0; l < 4; l++) {
        /* A level no RoI maps to gets no gradient at all (zeros in torch). */
        static float zeros[1 << 14];
        expect_close(be->name, name, DLEVEL[l], feats[l]->grad_valid ? feats[l]->grad : zeros, &f, DLEVEL[l],
                     feats[l]->numel);
    }
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

/* Every level in use: the parity cases would pass with a rule that sent
 * everything to one level only if their values agreed by chance; the mmdet
 * case also stores the levels its rule picked. */
START_TEST(mmdet_case_uses_every_level) {
    wb_st_file f;
    if (!wbt_parity_open("roi_multiscale_mmdet", &f)) return;
    const wb_st_tensor *t = wb_st_find(&f, "levels");
    ck_assert_ptr_nonnull(t);
    const float *levels = t->data;
    int64_t k = t->numel;
    int seen[4] = {0};
    for (int64_t r = 0; r < k; r++) seen[(int)levels[r]]++;
    for (int l = 0; l < 4; l++) ck_assert_msg(seen[l] > 0, "level %d unused by the mmdet case", l);
    wb_st_free(&f);
}
END_TEST

typedef struct roi_cfg {
    int pool, out_h, out_w, sampling, aligned;
    float scale;
} roi_cfg;

/* inputs: feat, rois */
static wb_tensor *roi_fn(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    const roi_cfg *r = user;
    if (r->pool) return wb_op_roi_pool(ctx, in[0], in[1], r->out_h, r->out_w, r->scale);
    return wb_op_roi_align(ctx, in[0], in[1], r->out_h, r->out_w, r->scale, r->sampling, r->aligned);
}

/* Boxes off the integer grid (bilinear weights are smooth there), one
 * reaching outside the map, one per image. */
static const float FD_ROIS[4 * 5] = {
    0, 1.3f, 2.1f, 13.7f, 9.9f, 1, -3.1f, 4.2f, 8.9f, 22.3f, 0, 9.4f, 0.6f, 11.1f, 2.7f, 1, 6.2f, 7.7f, 27.5f, 19.1f,
};

static void check_roi_gradients(const char *op, roi_cfg cfg) {
    opcheck_input in[2] = {
        {4, {2, 2, 6, 7}, NULL, -2.0f, 2.0f, true},
        {2, {4, 5}, FD_ROIS, 0, 0, false},
    };
    for (int be = 0; be < 2; be++)
        opcheck_gradients(op, roi_fn, &cfg, in, 2, (opcheck_opts){.backend = backend_at(be), .seed = 5});
}

START_TEST(roi_align_gradients) {
    check_roi_gradients("roi_align legacy adaptive", (roi_cfg){0, 3, 2, 0, 0, 0.25f});
    check_roi_gradients("roi_align aligned s2", (roi_cfg){0, 2, 3, 2, 1, 0.25f});
    check_roi_gradients("roi_align aligned adaptive", (roi_cfg){0, 3, 3, 0, 1, 0.5f});
}
END_TEST

START_TEST(roi_pool_gradients) { check_roi_gradients("roi_pool", (roi_cfg){1, 2, 3, 0, 0, 0.25f}); }
END_TEST

/* The OpenMP kernels against the reference on a RoI head's load: 2 images,
 * c channels of h x w, 300 overlapping RoIs (many share cells, so the
 * backward's scatter-adds would race if threads shared channels), some
 * outside, and two huge ones whose adaptive grid passes the forward's
 * sample table. */
static void roi_cpu_vs_ref(roi_cfg cfg, int64_t c, int64_t h, int64_t w) {
    wbt_env env[2];
    wb_tensor *x[2], *y[2];
    int64_t fs[4] = {2, c, h, w}, rs[2] = {300, 5};
    float rows[300 * 5];
    uint64_t box_rng = 17;
    for (int k = 0; k < 300; k++) {
        float x1 = wb_rng_uniform(&box_rng) * 170.0f - 10.0f, y1 = wb_rng_uniform(&box_rng) * 110.0f - 10.0f;
        rows[5 * k] = (float)(k % 2);
        rows[5 * k + 1] = x1;
        rows[5 * k + 2] = y1;
        rows[5 * k + 3] = x1 + 2.0f + wb_rng_uniform(&box_rng) * 60.0f;
        rows[5 * k + 4] = y1 + 2.0f + wb_rng_uniform(&box_rng) * 60.0f;
    }
    const float huge[2][5] = {{0, -300.0f, -200.0f, 700.0f, 600.0f}, {1, 10.0f, 5.0f, 900.0f, 400.0f}};
    memcpy(rows + 5 * 298, huge, sizeof huge);
    for (int k = 0; k < 2; k++) {
        wbt_env_init(&env[k], backend_at(k), 1);
        uint64_t rng = 42;
        x[k] = wbt_random(&env[k], 4, fs, -2.0f, 2.0f, &rng);
        x[k]->requires_grad = true;
        wb_tensor *in[2] = {x[k], wbt_from(&env[k], 2, rs, rows)};
        y[k] = roi_fn(env[k].ctx, in, &cfg);
        ck_assert_msg(y[k] != NULL, "%s", env[k].c.msg);
        float *dy = wb_grad_begin(&env[k].c, y[k]);
        for (int64_t i = 0; i < y[k]->numel; i++) dy[i] = wb_rng_uniform(&rng) - 0.5f;
        wb_grad_end(&env[k].c, y[k], dy);
        ck_assert_int_eq(wb_tape_backward(&env[k].c), WB_OK);
    }
    fprintf(stderr, "  %s cpu vs ref: y %.3g dx %.3g\n", cfg.pool ? "roi_pool" : "roi_align",
            wbt_max_abs_diff(y[1]->data, y[0]->data, y[0]->numel), wbt_max_abs_diff(x[1]->grad, x[0]->grad, x[0]->numel));
    /* The same samples summed in the same order: only FMA contraction can differ. */
    wbt_assert_close("roi cpu y", y[1]->data, y[0]->data, y[0]->numel, 1e-6, 1e-6);
    wbt_assert_close("roi cpu dx", x[1]->grad, x[0]->grad, x[0]->numel, 1e-6, 1e-6);
    for (int k = 0; k < 2; k++) wbt_env_free(&env[k]);
}

START_TEST(roi_cpu_matches_ref) {
    roi_cpu_vs_ref((roi_cfg){0, 7, 7, 0, 1, 0.25f}, 64, 25, 38);
    roi_cpu_vs_ref((roi_cfg){0, 7, 7, 2, 0, 0.25f}, 64, 25, 38);
    roi_cpu_vs_ref((roi_cfg){1, 7, 7, 0, 0, 0.25f}, 64, 25, 38);
    /* planes of 117 KiB: the RoIAlign backward scatters into 8 channels per
     * pass over the RoIs; 62 channels: the forward's channels-last rows are
     * not a whole number of vectors */
    roi_cpu_vs_ref((roi_cfg){0, 7, 7, 0, 1, 0.25f}, 62, 150, 200);
}
END_TEST

START_TEST(roi_ops_refuse_bad_arguments) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_ref(), 1);
    uint64_t rng = 3;
    int64_t fs[4] = {2, 3, 8, 8}, rs[2] = {1, 5}, r4[2] = {1, 4};
    const float bad_batch[5] = {2, 0, 0, 4, 4}, half_batch[5] = {0.5f, 0, 0, 4, 4}, inf_box[5] = {0, 0, 0, INFINITY, 4};
    wb_tensor *feat = wbt_random(&e, 4, fs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_roi_align(e.ctx, feat, wbt_from(&e, 2, rs, bad_batch), 7, 7, 0.25f, 0, 1),
                     "roi_align: roi 0 has batch index 2, but the features hold 2 image(s)");
    feat = wbt_random(&e, 4, fs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_roi_pool(e.ctx, feat, wbt_from(&e, 2, rs, half_batch), 7, 7, 0.25f),
                     "roi_pool: roi 0 has batch index 0.5");
    feat = wbt_random(&e, 4, fs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_roi_align(e.ctx, feat, wbt_from(&e, 2, rs, inf_box), 7, 7, 0.25f, 0, 1),
                     "roi_align: roi 0 has a non-finite coordinate");
    feat = wbt_random(&e, 4, fs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_roi_align(e.ctx, feat, wbt_random(&e, 2, r4, 0, 1, &rng), 7, 7, 0.25f, 0, 1),
                     "roi_align: rois [1, 4] must be [K, 5]");
    feat = wbt_random(&e, 4, fs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_roi_align(e.ctx, feat, wbt_from(&e, 2, rs, half_batch), 7, 7, 0.0f, 0, 1),
                     "roi_align: spatial_scale 0 must be finite and > 0");
    feat = wbt_random(&e, 4, fs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_roi_align(e.ctx, feat, wbt_from(&e, 2, rs, half_batch), 7, 7, 0.25f, -1, 1),
                     "roi_align: sampling_ratio -1 must be >= 0");
    feat = wbt_random(&e, 4, fs, -1, 1, &rng);
    wbt_expect_error(&e, wb_op_roi_align(e.ctx, feat, wbt_from(&e, 2, rs, half_batch), 0, 7, 0.25f, 0, 1),
                     "roi_align: output size 0x7 must be at least 1x1");

    /* Level rules: scales that are not consecutive powers of 1/2, a bad mapping, a short struct. */
    wb_tensor *feats[2] = {wbt_random(&e, 4, fs, -1, 1, &rng), wbt_random(&e, 4, fs, -1, 1, &rng)};
    const float gap[2] = {0.25f, 0.0625f}, ok[2] = {0.25f, 0.125f};
    const float roi[5] = {0, 0, 0, 4, 4};
    wb_roi_levels tv = wb_roi_levels_torchvision();
    wbt_expect_error(&e, wb_op_multiscale_roi_align(e.ctx, feats, 2, gap, wbt_from(&e, 2, rs, roi), 7, 7, 0, 0, &tv),
                     "spatial_scales[1] is 0.0625 (expected 0.125)");
    feats[0] = wbt_random(&e, 4, fs, -1, 1, &rng);
    feats[1] = wbt_random(&e, 4, fs, -1, 1, &rng);
    wb_roi_levels bad = tv;
    bad.mapping = 7;
    wbt_expect_error(&e, wb_op_multiscale_roi_align(e.ctx, feats, 2, ok, wbt_from(&e, 2, rs, roi), 7, 7, 0, 0, &bad),
                     "unknown level mapping 7");
    feats[0] = wbt_random(&e, 4, fs, -1, 1, &rng);
    feats[1] = wbt_random(&e, 4, fs, -1, 1, &rng);
    bad = tv;
    bad.struct_size = 8;
    wbt_expect_error(&e, wb_op_multiscale_roi_align(e.ctx, feats, 2, ok, wbt_from(&e, 2, rs, roi), 7, 7, 0, 0, &bad),
                     "wb_roi_levels.struct_size 8 is smaller than");
    wbt_env_free(&e);
}
END_TEST

/* No RoI at all: an empty output of the right shape, also through the
 * multi-level extractor, and nothing to differentiate. */
START_TEST(empty_roi_sets) {
    wbt_env e;
    wbt_env_init(&e, wb_backend_cpu(), 1);
    uint64_t rng = 9;
    int64_t fs[4] = {1, 4, 8, 8}, fs2[4] = {1, 4, 4, 4}, rs[2] = {0, 5};
    wb_tensor *feats[2] = {wbt_random(&e, 4, fs, -1, 1, &rng), wbt_random(&e, 4, fs2, -1, 1, &rng)};
    wb_tensor *rois = wbt_from(&e, 2, rs, NULL);
    const float scales[2] = {0.25f, 0.125f};
    wb_roi_levels lv = wb_roi_levels_mmdet();
    wb_tensor *y = wb_op_multiscale_roi_align(e.ctx, feats, 2, scales, rois, 7, 5, 0, 1, &lv);
    ck_assert_msg(y != NULL, "%s", e.c.msg);
    ck_assert_int_eq(y->ndim, 4);
    ck_assert(y->shape[0] == 0 && y->shape[1] == 4 && y->shape[2] == 7 && y->shape[3] == 5);
    lv.use_roi_pool = 1;
    y = wb_op_multiscale_roi_align(e.ctx, feats, 2, scales, rois, 7, 5, 0, 1, &lv);
    ck_assert_msg(y != NULL && y->shape[0] == 0, "%s", e.c.msg);
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    Suite *s = suite_create("roi_ops");
    TCase *t = tcase_create("roi_ops");
    tcase_add_loop_test(t, roi_ops_match_torchvision, 0, 2 * (N_ALIGN + N_POOL));
    tcase_add_loop_test(t, multiscale_matches_reference, 0, 6);
    tcase_add_test(t, mmdet_case_uses_every_level);
    tcase_add_test(t, roi_align_gradients);
    tcase_add_test(t, roi_pool_gradients);
    tcase_add_test(t, roi_cpu_matches_ref);
    tcase_add_test(t, roi_ops_refuse_bad_arguments);
    tcase_add_test(t, empty_roi_sets);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
