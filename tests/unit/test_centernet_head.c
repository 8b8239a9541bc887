/* centernet_head against CenterNet's definitions written in torch
 * (tests/parity/gen_centernet_head.py): Gaussian heatmap targets, the
 * penalty-reduced focal loss, RegL1 size and offset losses (conv branches,
 * wh_offset) or GIoU (separable branches, ltrb, torchvision's
 * generalized_box_iou_loss), the gradients of their sum (torch autograd, float64), and the
 * decoding (max-pool peaks, top-k over the NHWC-flattened heatmap, ltrb boxes). */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "autograd/tape.h"
#include "wbt_module.h"
#include "wbtest.h"

#define REL_TOL 1e-4

static wb_registry *g_reg;
static const wb_feature_spec k_p2 = {"p2", 16, 4};

#define COMMON "num_classes = 3; head_conv = 8; box_scale = 16.0; prior_prob = 0.1; min_overlap = 0.7; " \
               "loss_heatmap_weight = 1.0; loss_wh_weight = 0.1; loss_offset_weight = 1.0; loss_giou_weight = 5.0; " \
               "score_thr = 0.0; "

/* Truth of gen_centernet_head.py's BOXES on 64x64 images. */
static const float k_boxes0[12] = {4, 6, 30.5f, 40, 33, 10, 60, 22, 10, 44, 18, 60};
static const int k_labels0[3] = {0, 2, 1};
static const float k_boxes1[4] = {20, 20, 50, 58};
static const int k_labels1[1] = {1};
static const uint8_t k_ignore[3] = {0, 0, 0};

static wb_gt_image image(int n, const float *boxes, const int *labels) {
    wb_gt_image g = {.struct_size = sizeof g, .num_boxes = n, .boxes = boxes, .labels = labels, .ignore = k_ignore,
                     .img_h = 64, .img_w = 64, .ori_h = 64, .ori_w = 64, .scale_x = 1.0f, .scale_y = 1.0f};
    return g;
}

static void check_loss(const char *case_name, const char *params, int n_terms_expected) {
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wbt_module head;
    wbt_module_build(&head, g_reg, e.s, WB_KIND_HEAD, "centernet_head", "head", params, &k_p2, 1);
    char path[512];
    snprintf(path, sizeof path, "%s/%s_weights.safetensors", WB_PARITY_DIR, case_name);
    wbt_load_weights(e.s, path, (int)wbt_parity_attr(&f, "num_weights"), 0, 0);
    wb_tensor *x = wbt_parity_input(&e, &f, "x", true), *preds[3];
    wbt_module_forward(&head, &x, 1, preds, true);
    wb_gt_image imgs[2] = {image(3, k_boxes0, k_labels0), image(1, k_boxes1, k_labels1)};
    wb_batch_truth truth = {.struct_size = sizeof truth, .batch = 2, .pad_h = 64, .pad_w = 64, .images = imgs};
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n_terms = 0;
    ck_assert_msg(head.desc->module->loss(head.inst, &head.ctx.pub, preds, head.n_out, &truth, terms, &n_terms) ==
                      WB_OK, "loss: %s", head.ctx.msg);
    ck_assert_int_eq(n_terms, n_terms_expected);
    printf("%s vs torch:\n", case_name);
    for (int i = 0; i < n_terms; i++) {
        char name[WB_NAME_MAX + 8];
        snprintf(name, sizeof name, "term:%.60s", terms[i].name);
        const float *ref = wbt_parity_tensor(&f, name, 1);
        wbt_assert_rel_close(name, terms[i].value->data, ref, 1, REL_TOL);
        float *g = wb_grad_begin(&head.ctx, terms[i].value);
        g[0] = 1.0f;
        wb_grad_end(&head.ctx, terms[i].value, g);
    }
    ck_assert_msg(wb_tape_backward(&head.ctx) == WB_OK, "backward: %s", head.ctx.msg);
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *ref = &f.tensors[i];
        if (strncmp(ref->name, "grad:", 5) != 0) continue;
        const float *ours;
        if (strcmp(ref->name, "grad:x") == 0) {
            ours = x->grad;
        } else {
            wb_param_entry *p = wb_session_find(e.s, ref->name + 5);
            ck_assert_msg(p != NULL && p->tensor->grad_valid, "no gradient reached %s", ref->name + 5);
            ours = p->tensor->grad;
        }
        wbt_assert_rel_close(ref->name, ours, ref->data, ref->numel, REL_TOL);
    }
    wbt_module_free(&head);
    wbt_env_free(&e);
    wb_st_free(&f);
}

START_TEST(test_wh_offset_loss_matches_torch) {
    check_loss("centernet_head_wh", COMMON "branch = \"conv\"; box = \"wh_offset\"; topk = 100;", 3);
}
END_TEST

START_TEST(test_ltrb_giou_loss_matches_torch) {
    check_loss("centernet_head_ltrb", COMMON "branch = \"separable\"; box = \"ltrb\"; topk = 100;", 2);
}
END_TEST

START_TEST(test_decode_matches_torch) {
    wb_st_file f;
    if (!wbt_parity_open("centernet_head_decode", &f)) return;
    wbt_env e;
    wbt_env_init(&e, NULL, 1);
    wbt_module head;
    wbt_module_build(&head, g_reg, e.s, WB_KIND_HEAD, "centernet_head", "head",
                     COMMON "branch = \"separable\"; box = \"ltrb\"; topk = 20;", &k_p2, 1);
    wb_tensor *preds[2] = {wbt_parity_input(&e, &f, "heat", false), wbt_parity_input(&e, &f, "wh", false)};
    /* Input pixels to original ones: x / 2 - 3 and y / 4 + 1 check the way back. */
    wb_gt_image img = {.struct_size = sizeof img, .img_h = 48, .img_w = 40, .scale_x = 2.0f, .scale_y = 0.25f,
                       .offset_x = 6.0f, .offset_y = -0.25f};
    wb_batch_truth meta = {.struct_size = sizeof meta, .batch = 1, .pad_h = 48, .pad_w = 40, .images = &img};
    wb_detections det = {.struct_size = sizeof det};
    ck_assert_msg(head.desc->module->predict(head.inst, &head.ctx.pub, preds, 2, &meta, &det) == WB_OK, "predict: %s",
                  head.ctx.msg);
    const float *ref = wbt_parity_tensor(&f, "det", 20 * 6);
    ck_assert_int_eq(det.num, 20);
    for (int i = 0; i < 20; i++) {
        const float *r = &ref[6 * i];
        ck_assert_int_eq(det.labels[i], (int)r[5]);
        ck_assert_msg(fabsf(det.scores[i] - r[4]) < 1e-6f, "score %d: %g, torch %g", i, det.scores[i], r[4]);
        const float want[4] = {(r[0] - 6.0f) / 2.0f, (r[1] + 0.25f) / 0.25f, (r[2] - 6.0f) / 2.0f,
                               (r[3] + 0.25f) / 0.25f};
        for (int k = 0; k < 4; k++)
            ck_assert_msg(fabsf(det.boxes[4 * i + k] - want[k]) < 1e-3f, "box %d[%d]: %g, torch %g", i, k,
                          det.boxes[4 * i + k], want[k]);
    }
    head.desc->module->release_detections(head.inst, &det);
    wbt_module_free(&head);
    wbt_env_free(&e);
    wb_st_free(&f);
}
END_TEST

int main(void) {
    g_reg = wb_registry_new();
    if (wb_registry_load_file(g_reg, WB_PLUGIN_BUILD_DIR "/wb_head_centernet_head.so", "test") != WB_OK) {
        fprintf(stderr, "cannot load centernet_head: %s\n", wb_registry_error(g_reg));
        return 1;
    }
    Suite *s = suite_create("centernet_head");
    TCase *tc = tcase_create("centernet_head");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_wh_offset_loss_matches_torch);
    tcase_add_test(tc, test_ltrb_giou_loss_matches_torch);
    tcase_add_test(tc, test_decode_matches_torch);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
