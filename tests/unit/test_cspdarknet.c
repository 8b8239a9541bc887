/* The cspdarknet backbone and yolov5_pafpn neck without YOLOv5's code (its
 * parity is test_yolov5_parity): YOLOv5's channel and depth rounding (Python
 * semantics, worked by hand below), outputs and their strides, odd image
 * sizes, frozen_stages, norm_eval, describe() and the refusals. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "wbt_module.h"
#include "wbt_parity.h"
#include "wbtest.h"

static wb_registry *g_reg;

static const wb_feature_spec k_image = {"image", 3, 1};

static bool has(wb_session *s, const char *name) { return wb_session_find(s, name) != NULL; }

static bool trainable(wb_session *s, const char *name) {
    wb_param_entry *p = wb_session_find(s, name);
    ck_assert_msg(p != NULL, "no parameter %s", name);
    return p->tensor->trainable;
}

static void build_backbone(wbt_module *bb, wb_session *s, const char *params) {
    wbt_module_build(bb, g_reg, s, WB_KIND_BACKBONE, "cspdarknet", "backbone", params, &k_image, 1);
}

/* widen 0.3: ceil(64*0.3/8)*8 = 24, then 40, 80, 160, 312 (make_divisible
 * rounds up). deepen 0.5: round(1.5) = 2, round(3) = 3, round(4.5) = 4 (half
 * to even, as Python), round(1.5) = 2 bottlenecks. */
START_TEST(test_channel_and_depth_rounding) {
    wb_session *s = wb_session_create(NULL, 1);
    wbt_module bb, neck;
    build_backbone(&bb, s, "deepen_factor = 0.5; widen_factor = 0.3; out_indices = [0, 1, 2, 3, 4]; "
                           "frozen_stages = -1; norm_eval = false;");
    const int channels[5] = {24, 40, 80, 160, 312};
    ck_assert_int_eq(bb.n_out, 5);
    for (int i = 0; i < 5; i++) {
        char name[8];
        snprintf(name, sizeof name, "c%d", i + 1);
        ck_assert_str_eq(bb.out[i].name, name);
        ck_assert_int_eq(bb.out[i].channels, channels[i]);
        ck_assert_int_eq(bb.out[i].stride, 2 << i);
    }
    const int blocks[4] = {2, 3, 4, 2};
    for (int st = 0; st < 4; st++) {
        char name[96];
        snprintf(name, sizeof name, "backbone.stage%d.1.blocks.%d.conv2.conv.weight", st + 1, blocks[st] - 1);
        ck_assert_msg(has(s, name), "missing %s", name);
        snprintf(name, sizeof name, "backbone.stage%d.1.blocks.%d.conv2.conv.weight", st + 1, blocks[st]);
        ck_assert_msg(!has(s, name), "unexpected %s", name);
    }
    /* The C3 hidden width is half its output; SPPF's half its input. */
    ck_assert_int_eq(wb_session_find(s, "backbone.stage3.1.main_conv.conv.weight")->tensor->shape[0], 80);
    ck_assert_int_eq(wb_session_find(s, "backbone.stage4.2.conv2.conv.weight")->tensor->shape[1], 4 * 156);
    ck_assert_int_eq(wb_session_find(s, "backbone.stem.conv.weight")->tensor->shape[3], 6);

    /* The neck on c3..c5: widths follow the inputs, depth round(3 * 0.5) = 2. */
    wbt_module_build(&neck, g_reg, s, WB_KIND_NECK, "yolov5_pafpn", "neck",
                     "deepen_factor = 0.5; num_csp_blocks = 3; norm_eval = false;", bb.out + 2, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(neck.out[i].channels, channels[i + 2]);
        ck_assert_int_eq(neck.out[i].stride, 8 << i);
    }
    ck_assert_str_eq(neck.out[0].name, "p3");
    ck_assert_str_eq(neck.out[2].name, "p5");
    ck_assert(has(s, "neck.bottom_up_layers.1.blocks.1.conv1.conv.weight"));
    ck_assert(!has(s, "neck.bottom_up_layers.1.blocks.2.conv1.conv.weight"));
    ck_assert_int_eq(wb_session_find(s, "neck.reduce_layers.2.conv.weight")->tensor->shape[0], 160);
    ck_assert_int_eq(wb_session_find(s, "neck.top_down_layers.0.1.conv.weight")->tensor->shape[0], 80);
    ck_assert_int_eq(wb_session_find(s, "neck.bottom_up_layers.0.main_conv.conv.weight")->tensor->shape[1], 160);
    /* No BN without its running statistics. */
    ck_assert(has(s, "neck.downsample_layers.1.bn.running_var"));
    wbt_module_free(&neck);
    wbt_module_free(&bb);
    wb_session_destroy(s);
}
END_TEST

/* Any image size: strides round up at every 2x step, and the neck's
 * upsampling goes to each finer level's own size. */
START_TEST(test_odd_image_sizes) {
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wbt_module bb, neck;
    build_backbone(&bb, e.s, "deepen_factor = 0.33; widen_factor = 0.125; out_indices = [2, 3, 4]; "
                             "frozen_stages = -1; norm_eval = false;");
    wbt_module_build(&neck, g_reg, e.s, WB_KIND_NECK, "yolov5_pafpn", "neck",
                     "deepen_factor = 0.33; num_csp_blocks = 3; norm_eval = false;", bb.out, 3);
    uint64_t rng = 5;
    int64_t shape[4] = {1, 3, 100, 75};
    wb_tensor *x = wbt_random(&e, 4, shape, -1.0f, 1.0f, &rng), *feats[3], *out[3];
    wbt_module_forward(&bb, &x, 1, feats, false);
    wbt_module_forward(&neck, feats, 3, out, false);
    const int64_t sizes[3][2] = {{13, 10}, {7, 5}, {4, 3}}; /* 100x75 -> 50x37 -> 25x19 -> 13x10 -> 7x5 -> 4x3 */
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(out[i]->shape[1], bb.out[i].channels);
        ck_assert_int_eq(out[i]->shape[2], sizes[i][0]);
        ck_assert_int_eq(out[i]->shape[3], sizes[i][1]);
        for (int64_t k = 0; k < out[i]->numel; k++) ck_assert(isfinite(out[i]->data[k]));
    }
    wbt_module_free(&neck);
    wbt_module_free(&bb);
    wbt_env_free(&e);
}
END_TEST

static float first_value(wb_session *s, const char *name) { return wb_session_find(s, name)->tensor->data[0]; }

/* frozen_stages = 2: the stem, stage1 and stage2 have fixed parameters and
 * keep their running statistics in training; stage3 trains. */
START_TEST(test_frozen_stages) {
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wbt_module bb;
    build_backbone(&bb, e.s, "deepen_factor = 0.33; widen_factor = 0.125; out_indices = [2, 3, 4]; "
                             "frozen_stages = 2; norm_eval = false;");
    const char *frozen[] = {"backbone.stem.conv.weight", "backbone.stem.bn.weight",
                            "backbone.stage1.1.blocks.0.conv2.bn.bias", "backbone.stage2.0.conv.weight"};
    for (size_t i = 0; i < sizeof frozen / sizeof frozen[0]; i++)
        ck_assert_msg(!trainable(e.s, frozen[i]), "%s", frozen[i]);
    ck_assert(trainable(e.s, "backbone.stage3.0.conv.weight"));
    ck_assert(trainable(e.s, "backbone.stage4.2.conv2.bn.weight"));
    uint64_t rng = 7;
    int64_t shape[4] = {2, 3, 64, 64};
    wb_tensor *x = wbt_random(&e, 4, shape, -1.0f, 1.0f, &rng), *out[3];
    wbt_module_forward(&bb, &x, 1, out, true);
    ck_assert_float_eq(first_value(e.s, "backbone.stage2.1.final_conv.bn.running_mean"), 0.0f);
    ck_assert_float_eq(first_value(e.s, "backbone.stage2.1.final_conv.bn.running_var"), 1.0f);
    ck_assert_float_ne(first_value(e.s, "backbone.stage3.0.bn.running_var"), 1.0f);
    wbt_module_free(&bb);
    wbt_env_free(&e);
}
END_TEST

/* norm_eval: a training forward uses (and keeps) the running statistics, so
 * it equals the inference forward (which folds BN into the convs). */
START_TEST(test_norm_eval_matches_inference) {
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wbt_module bb, neck;
    build_backbone(&bb, e.s, "deepen_factor = 0.33; widen_factor = 0.125; out_indices = [2, 3, 4]; "
                             "frozen_stages = -1; norm_eval = true;");
    wbt_module_build(&neck, g_reg, e.s, WB_KIND_NECK, "yolov5_pafpn", "neck",
                     "deepen_factor = 0.33; num_csp_blocks = 3; norm_eval = true;", bb.out, 3);
    /* Statistics away from 0 / 1, so that using them matters. */
    wb_session *s = e.s;
    for (int i = 0; i < s->n_params; i++) {
        wb_tensor *t = s->params[i].tensor;
        bool mean = strstr(s->params[i].name, "running_mean") != NULL;
        bool var = strstr(s->params[i].name, "running_var") != NULL;
        for (int64_t k = 0; (mean || var) && k < t->numel; k++)
            t->data[k] = mean ? 0.1f * (float)(k % 5) : 0.5f + 0.1f * (float)(k % 7);
    }
    uint64_t rng = 9;
    int64_t shape[4] = {2, 3, 64, 96};
    wb_tensor *x = wbt_random(&e, 4, shape, -1.0f, 1.0f, &rng), *feats[3], *train_out[3], *eval_out[3];
    wbt_module_forward(&bb, &x, 1, feats, true);
    wbt_module_forward(&neck, feats, 3, train_out, true);
    ck_assert_float_eq(first_value(s, "neck.bottom_up_layers.1.final_conv.bn.running_var"), 0.5f);
    wbt_module_forward(&bb, &x, 1, feats, false);
    wbt_module_forward(&neck, feats, 3, eval_out, false);
    for (int i = 0; i < 3; i++)
        wbt_assert_rel_close(neck.out[i].name, train_out[i]->data, eval_out[i]->data, eval_out[i]->numel, 1e-5);
    wbt_module_free(&neck);
    wbt_module_free(&bb);
    wbt_env_free(&e);
}
END_TEST

START_TEST(test_describe) {
    wb_session *s = wb_session_create(NULL, 1);
    wbt_module bb, neck;
    char buf[256];
    build_backbone(&bb, s, "deepen_factor = 0.33; widen_factor = 0.25; out_indices = [2, 3, 4]; "
                           "frozen_stages = -1; norm_eval = false;");
    ck_assert_str_eq(wbt_module_describe(&bb, buf, sizeof buf),
                     "CSPDarknet (YOLOv5 v6) n: deepen 0.33 widen 0.25, C3 blocks 1-2-3-1, channels 16..256, "
                     "out c3..c5 (strides 8..32), frozen_stages=-1");
    wbt_module_build(&neck, g_reg, s, WB_KIND_NECK, "yolov5_pafpn", "neck",
                     "deepen_factor = 0.33; num_csp_blocks = 3; norm_eval = true;", bb.out, 3);
    ck_assert_str_eq(wbt_module_describe(&neck, buf, sizeof buf),
                     "YOLOv5 PAFPN: 3 levels (strides 8, 16, 32; 64, 128, 256 channels), 1 bottleneck(s) per C3, "
                     "norm_eval");
    wbt_module_free(&neck);
    wbt_module_free(&bb);
    wbt_module_build(&bb, g_reg, s, WB_KIND_BACKBONE, "cspdarknet", "bb2",
                     "deepen_factor = 0.5; widen_factor = 0.5; out_indices = [1, 4]; frozen_stages = 1; "
                     "norm_eval = true;", &k_image, 1);
    ck_assert_str_eq(wbt_module_describe(&bb, buf, sizeof buf),
                     "CSPDarknet (YOLOv5 v6) custom: deepen 0.50 widen 0.50, C3 blocks 2-3-4-2, channels 32..512, "
                     "out c2..c5 (strides 4..32), frozen_stages=1, norm_eval");
    wbt_module_free(&bb);
    wb_session_destroy(s);
}
END_TEST

START_TEST(test_bad_configs_are_explained) {
    wb_session *s = wb_session_create(NULL, 1);
    wbt_module m;
    ck_assert_int_eq(wbt_module_create(&m, g_reg, s, WB_KIND_BACKBONE, "cspdarknet", "backbone",
                                       "deepen_factor = 0.33; widen_factor = 0.25; out_indices = [3, 2]; "
                                       "frozen_stages = -1; norm_eval = false;", &k_image, 1),
                     WB_ERR_INVALID);
    ck_assert_str_eq(m.ctx.msg, "cspdarknet: out_indices must be increasing (0 the stem, i = 1..4 stage i of "
                                "stride 2^(i+1)), got 2 after 3");
    wbt_module_free(&m);
    const wb_feature_spec two[2] = {{"c4", 64, 16}, {"c5", 128, 32}};
    ck_assert_int_eq(wbt_module_create(&m, g_reg, s, WB_KIND_NECK, "yolov5_pafpn", "neck",
                                       "deepen_factor = 0.33; num_csp_blocks = 3; norm_eval = false;", two, 2),
                     WB_ERR_INVALID);
    ck_assert_str_eq(m.ctx.msg, "yolov5_pafpn: takes the backbone's three levels (c3, c4, c5 at strides 8, 16, 32), "
                                "got 2 input(s); set the backbone's out_indices to three stages");
    wbt_module_free(&m);
    const wb_feature_spec skipping[3] = {{"c3", 32, 8}, {"c4", 64, 16}, {"c6", 128, 64}};
    ck_assert_int_eq(wbt_module_create(&m, g_reg, s, WB_KIND_NECK, "yolov5_pafpn", "neck",
                                       "deepen_factor = 0.33; num_csp_blocks = 3; norm_eval = false;", skipping, 3),
                     WB_ERR_INVALID);
    ck_assert_str_eq(m.ctx.msg, "yolov5_pafpn: input 'c6' has stride 64 after 'c4' of stride 16; each level must "
                                "have twice the stride of the one before (as c3, c4, c5)");
    wbt_module_free(&m);
    wb_session_destroy(s);
}
END_TEST

int main(void) {
    static const char *const files[] = {WB_PLUGIN_BUILD_DIR "/wb_backbone_cspdarknet.so",
                           WB_PLUGIN_BUILD_DIR "/wb_neck_yolov5_pafpn.so"};
    g_reg = wbt_registry_load(files, (int)(sizeof files / sizeof files[0]));
    if (!g_reg) return 1;
    Suite *s = suite_create("cspdarknet");
    TCase *tc = tcase_create("cspdarknet");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_channel_and_depth_rounding);
    tcase_add_test(tc, test_odd_image_sizes);
    tcase_add_test(tc, test_frozen_stages);
    tcase_add_test(tc, test_norm_eval_matches_inference);
    tcase_add_test(tc, test_describe);
    tcase_add_test(tc, test_bad_configs_are_explained);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
