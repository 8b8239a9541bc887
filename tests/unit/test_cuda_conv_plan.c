/* The host side of the cuDNN convolutions (conv_plan_cache.h): the legacy
 * descriptors' dimensions from a wb_conv_shape, the shapes refused before
 * cuDNN sees them, and the plan cache (keys that differ in any field are
 * different plans; a full table is emptied through the destroy callback). */
#include "backends/cuda/conv_plan_cache.h"
#include "wbtest.h"

static wb_conv_shape shape(int64_t n, int64_t c_in, int64_t h, int64_t w, int64_t c_out, int64_t k, int64_t stride,
                           int64_t pad, int64_t dil, int64_t groups) {
    wb_conv_shape s = {n, c_in, h, w, c_out, wb_conv_out_size(h, k, stride, pad, dil),
                       wb_conv_out_size(w, k, stride, pad, dil), k, k, stride, stride, pad, pad, dil, dil, groups, 0};
    return s;
}

/* torch.nn.Conv2d's output sizes for the same geometry. */
START_TEST(output_sizes_are_torch_s) {
    ck_assert_int_eq(wb_conv_out_size(7, 3, 2, 1, 1), 4);
    ck_assert_int_eq(wb_conv_out_size(1, 3, 1, 1, 1), 1);
    ck_assert_int_eq(wb_conv_out_size(10, 3, 1, 2, 2), 10);
    ck_assert_int_eq(wb_conv_out_size(800, 7, 2, 3, 1), 400);
    ck_assert_int_eq(wb_conv_out_size(5, 1, 2, 0, 1), 3);
}
END_TEST

START_TEST(descriptor_dims) {
    /* Grouped (depthwise-like), dilated, strided, non-square. */
    wb_conv_shape s = {2, 12, 9, 11, 6, 0, 0, 3, 1, 2, 1, 2, 0, 2, 1, 3, 0};
    s.h_out = wb_conv_out_size(9, 3, 2, 2, 2);
    s.w_out = wb_conv_out_size(11, 1, 1, 0, 1);
    wb_cudnn_dims d;
    ck_assert(wb_cudnn_dims_of(&s, &d));
    const int x[4] = {2, 12, 9, 11}, y[4] = {2, 6, 5, 11}, w[4] = {6, 4, 3, 1};
    for (int i = 0; i < 4; i++) {
        ck_assert_int_eq(d.x[i], x[i]);
        ck_assert_int_eq(d.y[i], y[i]);
        ck_assert_int_eq(d.w[i], w[i]);
    }
    const int pad[2] = {2, 0}, stride[2] = {2, 1}, dil[2] = {2, 1};
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(d.pad[i], pad[i]);
        ck_assert_int_eq(d.stride[i], stride[i]);
        ck_assert_int_eq(d.dil[i], dil[i]);
    }
    ck_assert_int_eq(d.groups, 3);
    /* groups = C: one input channel per filter. */
    s = shape(1, 5, 1, 1, 5, 1, 1, 0, 1, 5);
    ck_assert(wb_cudnn_dims_of(&s, &d));
    ck_assert_int_eq(d.w[0], 5);
    ck_assert_int_eq(d.w[1], 1);
    ck_assert_int_eq(d.groups, 5);
}
END_TEST

START_TEST(shapes_cudnn_cannot_take_are_refused) {
    wb_cudnn_dims d;
    wb_conv_shape s = shape(2, 6, 9, 9, 4, 3, 1, 1, 1, 2);
    ck_assert(wb_cudnn_dims_of(&s, &d));
    s.h_out += 1; /* not the convolution's output size */
    ck_assert(!wb_cudnn_dims_of(&s, &d));
    s = shape(2, 6, 9, 9, 4, 3, 1, 1, 1, 4); /* 6 channels in 4 groups */
    ck_assert(!wb_cudnn_dims_of(&s, &d));
    s = shape(2, 6, 9, 9, 4, 3, 1, 1, 1, 1);
    s.stride_w = 0;
    ck_assert(!wb_cudnn_dims_of(&s, &d));
    s = shape(64, 256, 400, 400, 8, 1, 1, 0, 1, 1); /* 2.6e9 input elements: past the int strides */
    ck_assert(!wb_cudnn_dims_of(&s, &d));
}
END_TEST

static int g_destroyed;
static void count_destroy(void *plan) {
    (void)plan;
    g_destroyed++;
}

START_TEST(plan_cache) {
    static wb_conv_plan_cache c; /* 1024 slots: too large for the stack of a Check fork */
    memset(&c, 0, sizeof c);
    c.destroy = count_destroy;
    static int plans[WB_CONV_PLAN_SLOTS];
    wb_conv_plan_key k = {shape(2, 8, 16, 16, 8, 3, 1, 1, 1, 1), WB_CONV_PASS_FORWARD, 0};
    ck_assert_ptr_null(wb_conv_plan_find(&c, &k));
    wb_conv_plan_insert(&c, &k, &plans[0]);
    ck_assert_ptr_eq(wb_conv_plan_find(&c, &k), &plans[0]);
    /* Any field makes another plan: pass, math, the inference flag, a size. */
    wb_conv_plan_key other[4] = {k, k, k, k};
    other[0].pass = WB_CONV_PASS_BACKWARD_DATA;
    other[1].tf32 = 1;
    other[2].shape.inference = 1;
    other[3].shape.w_in = 17;
    for (int i = 0; i < 4; i++) ck_assert_ptr_null(wb_conv_plan_find(&c, &other[i]));
    /* Fill to three quarters: every key found again (probing past collisions). */
    int fill = WB_CONV_PLAN_SLOTS * 3 / 4;
    for (int i = 1; i < fill; i++) {
        wb_conv_plan_key ki = k;
        ki.shape.h_in = 100 + i;
        wb_conv_plan_insert(&c, &ki, &plans[i]);
    }
    for (int i = 1; i < fill; i++) {
        wb_conv_plan_key ki = k;
        ki.shape.h_in = 100 + i;
        ck_assert_ptr_eq(wb_conv_plan_find(&c, &ki), &plans[i]);
    }
    ck_assert_int_eq(c.used, fill);
    ck_assert_int_eq(g_destroyed, 0);
    /* One more empties the table first, destroying every plan once. */
    wb_conv_plan_insert(&c, &other[0], &plans[fill]);
    ck_assert_int_eq(g_destroyed, fill);
    ck_assert_int_eq(c.used, 1);
    ck_assert_ptr_null(wb_conv_plan_find(&c, &k));
    ck_assert_ptr_eq(wb_conv_plan_find(&c, &other[0]), &plans[fill]);
}
END_TEST

int main(void) {
    Suite *s = suite_create("cuda_conv_plan");
    TCase *t = tcase_create("cuda_conv_plan");
    tcase_add_test(t, output_sizes_are_torch_s);
    tcase_add_test(t, descriptor_dims);
    tcase_add_test(t, shapes_cudnn_cannot_take_are_refused);
    tcase_add_test(t, plan_cache);
    suite_add_tcase(s, t);
    return wbt_run_suite(s);
}
