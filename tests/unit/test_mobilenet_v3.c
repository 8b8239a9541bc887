/* The mobilenet_v3 backbone against torchvision 0.14
 * (tests/parity/gen_mobilenet_v3.py): eval-mode features of MobileNetV3-Large
 * (an expansion output among them) and of MobileNetV3-Small at width 0.75,
 * Small in training mode (batch-statistics BN with momentum 0.01: outputs,
 * gradients, running statistics), and the layout options TensorFlow models
 * need (TF-Slim expansion widths, SAME padding, last conv width), freezing
 * and the refusals. The torch references are float64; we compare max
 * |ours - ref| against the tensor's largest |ref| (<= 1e-4). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "autograd/tape.h"
#include "wbt_module.h"
#include "wbtest.h"

#define REL_TOL 1e-4

static wb_registry *g_reg;
static const wb_feature_spec k_image = {"image", 3, 1};

static void weights(wb_session *s, const char *case_name, const wb_st_file *f, int missing) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s_weights.safetensors", WB_PARITY_DIR, case_name);
    wbt_load_weights(s, path, (int)wbt_parity_attr(f, "num_weights"), missing,
                     (int)wbt_parity_attr(f, "num_batches_tracked"));
}

static void assert_outputs(const wb_st_file *f, wb_tensor **out, int n) {
    ck_assert_int_eq(n, (int)wbt_parity_attr(f, "num_outs"));
    for (int k = 0; k < n; k++) {
        char name[16];
        snprintf(name, sizeof name, "f%d", k);
        const float *ref = wbt_parity_tensor(f, name, out[k]->numel);
        wbt_assert_rel_close(name, out[k]->data, ref, out[k]->numel, REL_TOL);
    }
}

static void check_features(const char *case_name, const char *params, const int *channels, const int *strides) {
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wbt_module bb;
    wbt_module_build(&bb, g_reg, e.s, WB_KIND_BACKBONE, "mobilenet_v3", "backbone", params, &k_image, 1);
    weights(e.s, case_name, &f, 0);
    for (int k = 0; k < bb.n_out; k++) {
        ck_assert_int_eq(bb.out[k].channels, channels[k]);
        ck_assert_int_eq(bb.out[k].stride, strides[k]);
    }
    wb_tensor *x = wbt_parity_input(&e, &f, "x", false), *out[WBT_MAX_OUTPUTS];
    /* Training mode with norm_eval: BN must use the running statistics, as eval. */
    wbt_module_forward(&bb, &x, 1, out, true);
    printf("%s vs torchvision (eval BN):\n", case_name);
    assert_outputs(&f, out, bb.n_out);
    wbt_module_free(&bb);
    wbt_env_free(&e);
    wb_st_free(&f);
}

#define DEFAULTS "width_mult = 1.0; expansion = \"torchvision\"; last_channels = 0; padding = \"torch\"; " \
                 "hard_scale = 0.16666667; frozen_stages = -1; norm_eval = true; "

/* features[1] (stride 2, 16), [4] (8, 40), the expansion of [6] (its 1x1
 * conv + ReLU: stride 8, 120), [12] (16, 112), the last conv [16] (32, 960). */
START_TEST(test_large_features_match_torchvision) {
    const int channels[] = {16, 40, 120, 112, 960}, strides[] = {2, 8, 8, 16, 32};
    check_features("mnv3_large_features",
                   DEFAULTS "arch = \"large\"; out_indices = [1, 4, 6, 12, 16]; expansion_out_indices = [6];",
                   channels, strides);
}
END_TEST

/* width 0.75: the stem 16 (12 rounds up to 16), features[3] 24 (18 -> 24),
 * [8] 40 (36 -> 40), the last conv 6 x 72 = 432. */
START_TEST(test_small_features_match_torchvision) {
    const int channels[] = {16, 24, 40, 432}, strides[] = {2, 8, 16, 32};
    check_features("mnv3_small_features",
                   "arch = \"small\"; width_mult = 0.75; out_indices = [0, 3, 8, 12]; expansion_out_indices = []; "
                   "expansion = \"torchvision\"; last_channels = 0; padding = \"torch\"; hard_scale = 0.16666667; "
                   "frozen_stages = -1; norm_eval = true;",
                   channels, strides);
}
END_TEST

START_TEST(test_small_training_matches_torch) {
    wb_st_file f, fw;
    if (!wbt_parity_open("mnv3_small_train", &f) || !wbt_parity_open("mnv3_small_features", &fw)) return;
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wbt_module bb;
    wbt_module_build(&bb, g_reg, e.s, WB_KIND_BACKBONE, "mobilenet_v3", "backbone",
                     "arch = \"small\"; width_mult = 0.75; out_indices = [0, 3, 8, 12]; expansion_out_indices = []; "
                     "expansion = \"torchvision\"; last_channels = 0; padding = \"torch\"; hard_scale = 0.16666667; "
                     "frozen_stages = -1; norm_eval = false;", &k_image, 1);
    weights(e.s, "mnv3_small_features", &fw, 0);
    wb_tensor *x = wbt_parity_input(&e, &f, "x", false), *out[WBT_MAX_OUTPUTS];
    wbt_module_forward(&bb, &x, 1, out, true);
    printf("MobileNetV3-Small x0.75 in training mode vs torch autograd:\n");
    assert_outputs(&f, out, bb.n_out);
    for (int k = 0; k < bb.n_out; k++) {
        char name[16];
        snprintf(name, sizeof name, "r%d", k);
        const float *r = wbt_parity_tensor(&f, name, out[k]->numel);
        float *g = wb_grad_begin(&bb.ctx, out[k]);
        memcpy(g, r, (size_t)out[k]->numel * sizeof(float));
        wb_grad_end(&bb.ctx, out[k], g);
    }
    ck_assert_msg(wb_tape_backward(&bb.ctx) == WB_OK, "backward: %s", bb.ctx.msg);
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *ref = &f.tensors[i];
        int is_grad = strncmp(ref->name, "grad:", 5) == 0, is_stat = strncmp(ref->name, "stat:", 5) == 0;
        if (!is_grad && !is_stat) continue;
        wb_param_entry *p = wb_session_find(e.s, ref->name + 5);
        ck_assert_msg(p != NULL, "no parameter %s", ref->name + 5);
        if (is_grad) ck_assert_msg(p->tensor->grad_valid, "no gradient reached %s", p->name);
        wbt_assert_rel_close(ref->name, is_grad ? p->tensor->grad : p->tensor->data, ref->data, ref->numel, REL_TOL);
    }
    wbt_module_free(&bb);
    wbt_env_free(&e);
    wb_st_free(&f);
    wb_st_free(&fw);
}
END_TEST

static bool trainable(wb_session *s, const char *name) {
    wb_param_entry *p = wb_session_find(s, name);
    ck_assert_msg(p != NULL, "no parameter %s", name);
    return p->tensor->trainable;
}

/* The layout of TensorFlow-Slim's MobileNetV3-Large with depth_multiplier
 * 0.75 (the TF.js CenterNet's backbone): features[2] expands 16 -> 4 x 16 =
 * 64 (torchvision's table would give 48), features[9] 64 -> 2.3 x 64 = 147.2
 * -> 144, features[12] 88 -> 528 with SE 528 / 4 = 132 -> 136, a 480-wide last
 * conv; SAME padding keeps ceil(size / stride) on odd sizes. */
START_TEST(test_tf_slim_layout) {
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wbt_module bb;
    wbt_module_build(&bb, g_reg, e.s, WB_KIND_BACKBONE, "mobilenet_v3", "backbone",
                     "arch = \"large\"; width_mult = 0.75; out_indices = [4, 6, 12, 16]; expansion_out_indices = "
                     "[4, 6]; expansion = \"tf_slim\"; last_channels = 480; padding = \"tf_same\"; "
                     "hard_scale = 0.16662598; frozen_stages = 3; norm_eval = true;", &k_image, 1);
    const int channels[] = {72, 96, 88, 480}, strides[] = {4, 8, 16, 32};
    const char *names[] = {"c2", "c3", "c4", "c5"};
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(bb.out[k].channels, channels[k]);
        ck_assert_int_eq(bb.out[k].stride, strides[k]);
        ck_assert_str_eq(bb.out[k].name, names[k]);
    }
    ck_assert_int_eq(wb_session_find(e.s, "backbone.features.2.block.0.0.weight")->tensor->shape[0], 64);
    ck_assert_int_eq(wb_session_find(e.s, "backbone.features.9.block.0.0.weight")->tensor->shape[0], 144);
    ck_assert_int_eq(wb_session_find(e.s, "backbone.features.12.block.2.fc1.weight")->tensor->shape[0], 136);
    ck_assert(!trainable(e.s, "backbone.features.3.block.1.0.weight"));
    ck_assert(trainable(e.s, "backbone.features.4.block.0.1.weight"));
    uint64_t rng = 3;
    int64_t shape[4] = {1, 3, 67, 45};
    wb_tensor *x = wbt_random(&e, 4, shape, 0.0f, 255.0f, &rng), *out[4];
    wbt_module_forward(&bb, &x, 1, out, false);
    const int64_t hw[4][2] = {{17, 12}, {9, 6}, {5, 3}, {3, 2}};
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(out[k]->shape[2], hw[k][0]);
        ck_assert_int_eq(out[k]->shape[3], hw[k][1]);
    }
    wbt_module_free(&bb);
    wbt_env_free(&e);
}
END_TEST

/* An empty out_indices gives the ends of strides 8, 16, 32 of either arch. */
START_TEST(test_default_outputs) {
    wb_session *s = wb_session_create(NULL, 1);
    const char *archs[2] = {"large", "small"};
    const int channels[2][3] = {{40, 112, 960}, {24, 48, 576}};
    for (int a = 0; a < 2; a++) {
        char params[512];
        snprintf(params, sizeof params, DEFAULTS "arch = \"%s\"; out_indices = []; expansion_out_indices = [];",
                 archs[a]);
        wbt_module m;
        wbt_module_build(&m, g_reg, s, WB_KIND_BACKBONE, "mobilenet_v3", archs[a], params, &k_image, 1);
        ck_assert_int_eq(m.n_out, 3);
        for (int k = 0; k < 3; k++) {
            ck_assert_int_eq(m.out[k].stride, 8 << k);
            ck_assert_int_eq(m.out[k].channels, channels[a][k]);
        }
        wbt_module_free(&m);
    }
    wb_session_destroy(s);
}
END_TEST

START_TEST(test_bad_configs_are_explained) {
    wb_session *s = wb_session_create(NULL, 1);
    wbt_module m;
    ck_assert_int_eq(wbt_module_create(&m, g_reg, s, WB_KIND_BACKBONE, "mobilenet_v3", "bb",
                                       DEFAULTS "arch = \"small\"; out_indices = [3, 13]; expansion_out_indices = [];",
                                       &k_image, 1), WB_ERR_INVALID);
    ck_assert_str_eq(m.ctx.msg, "mobilenet_v3: out_indices must be increasing indices of `features` in 0..12 "
                                "(0 the stem, 12 the last conv), got 13 at position 1");
    wbt_module_free(&m);
    ck_assert_int_eq(wbt_module_create(&m, g_reg, s, WB_KIND_BACKBONE, "mobilenet_v3", "bb",
                                       DEFAULTS "arch = \"large\"; out_indices = [6, 12]; expansion_out_indices = [7];",
                                       &k_image, 1), WB_ERR_INVALID);
    ck_assert_str_eq(m.ctx.msg, "mobilenet_v3: expansion_out_indices entry 7 must be a block (1..15) listed in "
                                "out_indices");
    wbt_module_free(&m);
    wb_session_destroy(s);
}
END_TEST

int main(void) {
    g_reg = wb_registry_new();
    if (wb_registry_load_file(g_reg, WB_PLUGIN_BUILD_DIR "/wb_backbone_mobilenet_v3.so", "test") != WB_OK) {
        fprintf(stderr, "cannot load mobilenet_v3: %s\n", wb_registry_error(g_reg));
        return 1;
    }
    Suite *s = suite_create("mobilenet_v3");
    TCase *tc = tcase_create("mobilenet_v3");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_large_features_match_torchvision);
    tcase_add_test(tc, test_small_features_match_torchvision);
    tcase_add_test(tc, test_small_training_matches_torch);
    tcase_add_test(tc, test_tf_slim_layout);
    tcase_add_test(tc, test_default_outputs);
    tcase_add_test(tc, test_bad_configs_are_explained);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
