/* The CUDA gather kernels' math (gather_math.h over roi_geometry.h), run on
 * the host as the kernels run it, one output element at a time in flat
 * output order, against the reference backend: RoIs inside, across and
 * wholly outside the map, degenerate (zero-size and inverted) RoIs, no RoIs
 * at all, 1x1 and prime-sized maps, aligned and not, adaptive and fixed
 * sampling, on a second image of the batch.
 *
 * All bit for bit: the forwards are the reference's expressions in its
 * order, and the backwards' additions (atomicAdd on the device) are replayed
 * here in flat output order, which is the reference's loop order. On the
 * device the atomics add the same terms in a run-dependent order, so a cell
 * fed by several outputs may differ in its last bits (see gather_cuda.cu). */
#include "backends/cuda/gather_math.h"
#include "backends/families.h"
#include "backends/kernels_gather.h"
#include "cuda_math_testing.h"

typedef struct roi_case {
    int64_t n, c, h, w;
    int out_h, out_w;
    float scale;
    int sampling, aligned;
} roi_case;

static const roi_case CASES[] = {
    {2, 3, 11, 13, 7, 7, 0.25f, 0, 1}, {2, 3, 11, 13, 7, 7, 0.25f, 0, 0}, {2, 2, 11, 13, 3, 5, 0.5f, 2, 1},
    {2, 2, 1, 1, 2, 2, 1.0f, 0, 0},    {2, 1, 7, 5, 1, 1, 1.0f, 3, 1},
};
#define N_CASES ((int)(sizeof CASES / sizeof *CASES))

/* (batch, x1, y1, x2, y2) in image coordinates (the map is 1 / scale smaller); batch
 * indices 0 and 1, so every case has two images (the front-end refuses others). */
static const float ROIS[][5] = {
    {0, 4.0f, 4.0f, 30.0f, 22.0f},    /* inside */
    {1, -10.0f, -6.0f, 12.0f, 50.0f}, /* across the border */
    {1, 200.0f, 200.0f, 260.0f, 230.0f}, /* wholly outside */
    {0, 9.0f, 9.0f, 9.0f, 9.0f},       /* zero size */
    {1, 20.0f, 16.0f, 8.0f, 4.0f},     /* inverted */
    {0, 0.0f, 0.0f, 51.0f, 43.0f},    /* the whole map */
};
#define N_ROIS ((int64_t)(sizeof ROIS / sizeof *ROIS))

static wb_roi_args args_of(const roi_case *rc, int64_t k) {
    wb_roi_args a = {rc->n, rc->c, rc->h, rc->w, k, rc->out_h, rc->out_w, rc->scale, rc->sampling, rc->aligned};
    return a;
}

static void check_align(const wb_roi_args *a, const float *rois) {
    int64_t outs = a->k * a->c * a->out_h * a->out_w, feats = a->n * a->c * a->h * a->w;
    uint64_t rng = 7 + (uint64_t)outs;
    float *feat = cm_random(feats, -1, 1, &rng), *dy = cm_random(outs, -1, 1, &rng);
    float *y = cm_zeros(outs), *y2 = cm_zeros(outs), *df = cm_zeros(feats), *df2 = cm_zeros(feats);
    for (int64_t o = 0; o < outs; o++) {
        wb_roi_out at = wb_roi_out_at(a, o);
        wb_roi_box b = wb_roi_align_box(rois + 5 * at.k, a);
        y[o] = wb_roi_align_at(feat + wb_roi_plane_offset(a, b.batch, at.ch), a, &b, at.ph, at.pw);
    }
    wb_ref_gather_kernels()->roi_align_forward(feat, rois, a, y2);
    cm_assert_identical("roi_align y", y, y2, outs);
    for (int64_t o = 0; o < outs; o++) {
        wb_roi_out at = wb_roi_out_at(a, o);
        wb_roi_box b = wb_roi_align_box(rois + 5 * at.k, a);
        float *plane = df + wb_roi_plane_offset(a, b.batch, at.ch);
        for (int iy = 0; iy < b.grid_h; iy++)
            for (int ix = 0; ix < b.grid_w; ix++) {
                wb_roi_taps t;
                if (!wb_roi_align_taps(a, &b, at.ph, at.pw, iy, ix, &t)) continue;
                for (int q = 0; q < 4; q++) plane[t.at[q]] += wb_roi_align_tap_grad(dy[o], t.w[q], &b);
            }
    }
    wb_ref_gather_kernels()->roi_align_backward(dy, rois, a, df2);
    cm_assert_identical("roi_align dfeat", df, df2, feats);
    free(feat), free(dy), free(y), free(y2), free(df), free(df2);
}

static void check_pool(const wb_roi_args *a, const float *rois) {
    int64_t outs = a->k * a->c * a->out_h * a->out_w, feats = a->n * a->c * a->h * a->w;
    uint64_t rng = 11 + (uint64_t)outs;
    float *feat = cm_random(feats, -1, 1, &rng), *dy = cm_random(outs, -1, 1, &rng);
    /* Ties: the first maximum wins. */
    for (int64_t i = 0; i < feats; i += 3) feat[i] = 0.5f;
    float *y = cm_zeros(outs), *y2 = cm_zeros(outs), *df = cm_zeros(feats), *df2 = cm_zeros(feats);
    size_t n_am = (size_t)(outs > 0 ? outs : 1);
    int32_t *am = calloc(n_am, sizeof *am), *am2 = calloc(n_am, sizeof *am2);
    for (int64_t o = 0; o < outs; o++) {
        wb_roi_out at = wb_roi_out_at(a, o);
        wb_roi_pool_bin b = wb_roi_pool_bin_at(rois + 5 * at.k, a, at.ph, at.pw);
        y[o] = wb_roi_pool_at(feat + wb_roi_plane_offset(a, b.batch, at.ch), a, &b, &am[o]);
    }
    wb_ref_gather_kernels()->roi_pool_forward(feat, rois, a, y2, am2);
    cm_assert_identical("roi_pool y", y, y2, outs);
    cm_assert_same_ints("roi_pool argmax", am, am2, outs);
    for (int64_t o = 0; o < outs; o++) {
        if (am2[o] < 0) continue;
        wb_roi_out at = wb_roi_out_at(a, o);
        df[wb_roi_plane_offset(a, (int64_t)rois[5 * at.k], at.ch) + am2[o]] += dy[o];
    }
    wb_ref_gather_kernels()->roi_pool_backward(dy, rois, am2, a, df2);
    cm_assert_identical("roi_pool dfeat", df, df2, feats);
    free(feat), free(dy), free(y), free(y2), free(df), free(df2), free(am), free(am2);
}

START_TEST(roi_align_is_the_reference) {
    wb_roi_args a = args_of(&CASES[_i], N_ROIS);
    check_align(&a, &ROIS[0][0]);
    a.k = 0; /* no RoIs: the gradient is all zeros */
    check_align(&a, &ROIS[0][0]);
}
END_TEST

START_TEST(roi_pool_is_the_reference) {
    wb_roi_args a = args_of(&CASES[_i], N_ROIS);
    check_pool(&a, &ROIS[0][0]);
    a.k = 0;
    check_pool(&a, &ROIS[0][0]);
}
END_TEST

/* Repeated indices (their gradients add up), the first and last rows, an
 * empty index, inner 1 and outer 1. */
START_TEST(index_select_is_the_reference) {
    static const int64_t INDEX[] = {4, 0, 4, 2, 4, 6};
    static const int64_t SHAPES[][4] = {{3, 7, 5, 6}, {1, 7, 1, 6}, {2, 7, 3, 0}, {1, 1, 1, 0}};
    for (size_t t = 0; t < sizeof SHAPES / sizeof *SHAPES; t++) {
        int64_t outer = SHAPES[t][0], len = SHAPES[t][1], inner = SHAPES[t][2], n_index = SHAPES[t][3];
        int64_t nx = outer * len * inner, ny = outer * n_index * inner;
        uint64_t rng = 23 + t;
        float *x = cm_random(nx, -1, 1, &rng), *dy = cm_random(ny, -1, 1, &rng);
        float *y = cm_zeros(ny), *y2 = cm_zeros(ny), *dx = cm_zeros(nx), *dx2 = cm_zeros(nx);
        for (int64_t e = 0; e < ny; e++) y[e] = x[wb_index_select_source(e, len, inner, INDEX, n_index)];
        for (int64_t e = 0; e < ny; e++) dx[wb_index_select_source(e, len, inner, INDEX, n_index)] += dy[e];
        wb_ref_gather_kernels()->index_select_forward(x, outer, len, inner, INDEX, n_index, y2);
        wb_ref_gather_kernels()->index_select_backward(dy, outer, len, inner, INDEX, n_index, dx2);
        cm_assert_identical("index_select y", y, y2, ny);
        cm_assert_identical("index_select dx", dx, dx2, nx);
        free(x), free(dy), free(y), free(y2), free(dx), free(dx2);
    }
}
END_TEST

int main(void) {
    Suite *s = suite_create("cuda_math_gather");
    TCase *t = tcase_create("cuda_math_gather");
    tcase_add_loop_test(t, roi_align_is_the_reference, 0, N_CASES);
    tcase_add_loop_test(t, roi_pool_is_the_reference, 0, N_CASES);
    tcase_add_test(t, index_select_is_the_reference);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
