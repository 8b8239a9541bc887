/* The COCO-trained CenterNet-MobileNetV3 of ../shared/models/centernet_mobilenetv3,
 * imported at test time by tools/import_tfjs.py (tests/parity/gen_centernet_tfjs.py),
 * run as mobilenet_v3 + centernet_fpn + centernet_head on the exact input
 * tensor the original TF.js model saw: its 100 detections must equal the
 * golden ones TF.js produced (same class, score within 1e-3, every box
 * coordinate within 0.5 px of the 512-px input). Exit 77 (skipped) without
 * ../shared. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "wbt_module.h"
#include "wbtest.h"

#define SKIP_EXIT_CODE 77
#define SCORE_TOL 1e-3f
#define BOX_TOL 0.5f

static wb_registry *g_reg;
static const wb_feature_spec k_image = {"image", 3, 1};

/* configs/centernet/centernet_mobilenetv3_coco.conf's model, in full. */
#define BACKBONE "arch = \"large\"; width_mult = 0.75; out_indices = [4, 6, 12, 16]; " \
                 "expansion_out_indices = [4, 6]; expansion = \"tf_slim\"; last_channels = 480; " \
                 "padding = \"tf_same\"; hard_scale = 0.16662598; frozen_stages = -1; norm_eval = true;"
#define NECK "channels = [64, 96, 128]; lateral_reduction = 4; lateral_kernel = 5; resize = \"tf_legacy\"; " \
             "se_channels = 32; norm_eval = true;"
#define HEAD "num_classes = 80; branch = \"separable\"; head_conv = 64; box = \"ltrb\"; box_scale = 16.0; " \
             "prior_prob = 0.1; min_overlap = 0.7; loss_heatmap_weight = 1.0; loss_wh_weight = 0.1; " \
             "loss_offset_weight = 1.0; loss_giou_weight = 5.0; topk = 100; score_thr = 0.0;"

/* Golden row g is matched by a detection of ours not used yet: same class,
 * score and box within tolerance (order may differ between near-equal scores). */
static int find_match(const wb_detections *d, const float *g, const int *used) {
    for (int i = 0; i < d->num; i++) {
        if (used[i] || d->labels[i] != (int)g[5] || fabsf(d->scores[i] - g[4]) > SCORE_TOL) continue;
        int close = 1;
        for (int k = 0; k < 4; k++) close &= fabsf(d->boxes[4 * i + k] - g[k]) <= BOX_TOL;
        if (close) return i;
    }
    return -1;
}

START_TEST(test_imported_model_gives_the_golden_detections) {
    wb_st_file f;
    if (!wbt_parity_open("centernet_tfjs_golden", &f)) return;
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wbt_module bb, neck, head;
    wbt_module_build(&bb, g_reg, e.s, WB_KIND_BACKBONE, "mobilenet_v3", "backbone", BACKBONE, &k_image, 1);
    wbt_module_build(&neck, g_reg, e.s, WB_KIND_NECK, "centernet_fpn", "neck", NECK, bb.out, bb.n_out);
    wbt_module_build(&head, g_reg, e.s, WB_KIND_HEAD, "centernet_head", "head", HEAD, neck.out, neck.n_out);
    /* Every parameter comes from the graph; nothing is left at its initial value. */
    wbt_load_weights(e.s, WB_PARITY_DIR "/centernet_tfjs_weights.safetensors", 343, 0, 0);
    wb_tensor *x = wbt_parity_input(&e, &f, "x", false), *feats[4], *p2, *preds[2];
    wbt_module_forward(&bb, &x, 1, feats, false);
    wbt_module_forward(&neck, feats, 4, &p2, false);
    wbt_module_forward(&head, &p2, 1, preds, false);

    wb_gt_image img = {.struct_size = sizeof img, .img_h = 512, .img_w = 512, .ori_h = 512, .ori_w = 512,
                       .scale_x = 1.0f, .scale_y = 1.0f};
    wb_batch_truth meta = {.struct_size = sizeof meta, .batch = 1, .pad_h = 512, .pad_w = 512, .images = &img};
    wb_detections det = {.struct_size = sizeof det};
    ck_assert_msg(head.desc->module->predict(head.inst, &head.ctx.pub, preds, 2, &meta, &det) == WB_OK, "predict: %s",
                  head.ctx.msg);
    const float *golden = wbt_parity_tensor(&f, "det", 600);
    ck_assert_int_eq(det.num, 100);
    int used[100] = {0};
    float worst_score = 0, worst_box = 0;
    for (int g = 0; g < 100; g++) {
        const float *gr = &golden[6 * g];
        int i = find_match(&det, gr, used);
        ck_assert_msg(i >= 0, "golden detection %d (class %d, score %.6f, box %.2f %.2f %.2f %.2f) has no match; "
                      "ours at %d: class %d, score %.6f, box %.2f %.2f %.2f %.2f", g, (int)gr[5], gr[4], gr[0], gr[1],
                      gr[2], gr[3], g, det.labels[g], det.scores[g], det.boxes[4 * g], det.boxes[4 * g + 1],
                      det.boxes[4 * g + 2], det.boxes[4 * g + 3]);
        used[i] = 1;
        worst_score = fmaxf(worst_score, fabsf(det.scores[i] - gr[4]));
        for (int k = 0; k < 4; k++) worst_box = fmaxf(worst_box, fabsf(det.boxes[4 * i + k] - gr[k]));
    }
    printf("100 of 100 golden detections matched: max score difference %.3g, max box difference %.3g px\n",
           worst_score, worst_box);
    head.desc->module->release_detections(head.inst, &det);
    wbt_module_free(&head);
    wbt_module_free(&neck);
    wbt_module_free(&bb);
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

int main(void) {
    char why[1024];
    if (wbt_parity_unavailable("centernet_tfjs_unavailable", why, sizeof why)) {
        printf("SKIPPED: the imported TF.js CenterNet is not tested: %s\n", why);
        return SKIP_EXIT_CODE;
    }
    g_reg = wb_registry_new();
    const char *files[] = {WB_PLUGIN_BUILD_DIR "/wb_backbone_mobilenet_v3.so", WB_PLUGIN_BUILD_DIR
                           "/wb_neck_centernet_fpn.so", WB_PLUGIN_BUILD_DIR "/wb_head_centernet_head.so"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (wb_registry_load_file(g_reg, files[i], "test") != WB_OK) {
            fprintf(stderr, "cannot load %s: %s\n", files[i], wb_registry_error(g_reg));
            return 1;
        }
    Suite *s = suite_create("centernet_tfjs");
    TCase *tc = tcase_create("centernet_tfjs");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_imported_model_gives_the_golden_detections);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
