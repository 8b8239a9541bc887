/* fcos_head on resnet + fpn against torchvision 0.14's fcos_resnet50_fpn
 * (tests/parity/gen_fcos.py; weights by tools/export_fcos.py, BN statistics
 * randomised, eval mode): the per-level class logits, box regression and
 * centerness; torchvision's compute_loss (classification, GIoU box,
 * centerness) on the same batch, and the gradients of their sum in the head;
 * and the final detections of postprocess_detections, also at score 0.01 with
 * 20 candidates per level (the head alone on the saved outputs). Then the mmdetection
 * variant's training targets and losses (fcos_mmdet: mmdetection 2.x's
 * FCOSHead written out in the generator) with and without center sampling,
 * and their gradients w.r.t. the head's outputs.
 *
 * Tolerances: references are float64, ours float32 through ResNet-50, the FPN
 * and the GroupNorm towers. Outputs and gradients: max |ours - ref| / max
 * |ref| <= 1e-4; loss values 1e-4 relative (the bounds); detections:
 * same count, labels and order up to equal scores, scores within 1e-5, boxes
 * within 1e-3 px. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app/experiment.h"
#include "config/config.h"
#include "plugin/registry.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "wbt_module.h"
#include "wbt_parity.h"
#include "wbtest.h"

#define REL_TOL 1e-4
#define BOX_TOL 1e-3
#define LEVELS 5
#define CLASSES 91

static wb_registry *g_reg;
/* Scores within 1e-5, boxes within BOX_TOL px, in torchvision's order. */
static const wbt_dets_match k_torchvision = {"torchvision's", 1e-5, BOX_TOL, true};

static bool load_plugins(void) {
    static const char *const files[] = {WB_PLUGIN_BUILD_DIR "/wb_head_fcos_head.so", WB_PLUGIN_BUILD_DIR "/wb_backbone_resnet.so",
                           WB_PLUGIN_BUILD_DIR "/wb_neck_fpn.so"};
    g_reg = wbt_registry_load(files, (int)(sizeof files / sizeof files[0]));
    return g_reg != NULL;
}

/* Ground truth of the case's images (boxes<i>, labels<i>; none for an image without). */
static wb_batch_truth case_truth(const wb_st_file *f, int n, int h, int w, wb_gt_image *imgs) {
    static int labels[8][16];
    static const uint8_t no_ignore[16] = {0};
    for (int i = 0; i < n; i++) {
        char bn[32], ln[32];
        snprintf(bn, sizeof bn, "boxes%d", i);
        snprintf(ln, sizeof ln, "labels%d", i);
        const wb_st_tensor *b = wb_st_find(f, bn), *lab = wb_st_find(f, ln);
        int count = b ? (int)b->shape[0] : 0;
        ck_assert(count <= 16);
        for (int k = 0; k < count; k++) labels[i][k] = (int)lab->data[k];
        imgs[i] = (wb_gt_image){sizeof(wb_gt_image), count, b ? b->data : NULL, labels[i], no_ignore, h, w, h, w,
                                1.0f, 1.0f, i, 0.0f, 0.0f};
    }
    return (wb_batch_truth){sizeof(wb_batch_truth), n, h, w, imgs};
}

/* Image i's detections equal torchvision's saved as <prefix>det_boxes<i>, _scores, _labels
 * (num_<prefix>dets<i> of them). */
static void expect_case_detections(const wb_st_file *f, const char *prefix, int i, const wb_detections *det) {
    char nb[48], ns[48], nl[48];
    snprintf(nb, sizeof nb, "num_%sdets%d", prefix, i);
    int count = (int)wbt_parity_attr(f, nb);
    printf("  %simage %d: %d detections, torchvision %d\n", prefix, i, det->num, count);
    ck_assert_int_eq(det->num, count);
    snprintf(nb, sizeof nb, "%sdet_boxes%d", prefix, i);
    snprintf(ns, sizeof ns, "%sdet_scores%d", prefix, i);
    snprintf(nl, sizeof nl, "%sdet_labels%d", prefix, i);
    wbt_assert_same_detections(&k_torchvision, i, det, wbt_parity_tensor(f, nb, 4 * count),
                               wbt_parity_tensor(f, ns, count), wbt_parity_tensor(f, nl, count));
}

START_TEST(test_fcos_r50_matches_torchvision) {
    wb_st_file f;
    if (!wbt_parity_open("fcos_r50", &f)) return;
    wb_config *cfg = wbt_model_config(g_reg,
        "model = {\n"
        "  backbone = { type = \"resnet\"; depth = 50; out_indices = [1, 2, 3]; frozen_stages = -1; norm = \"bn\";\n"
        "               norm_eval = true; };\n"
        "  neck = { type = \"fpn\"; out_channels = 256; start_level = 0; num_outs = 5;\n"
        "           add_extra_convs = \"on_output\"; relu_before_extra_convs = true; };\n"
        "  head = { type = \"fcos_head\"; num_classes = 91; score_thr = 0.05; nms_pre = 1000;\n"
        "           iou_threshold = 0.6; max_per_img = 100; }; };\n");
    wb_session *s = wb_session_create(NULL, 0);
    s->find_module = wb_registry_find_module;
    s->find_user = g_reg;
    wb_model *m = NULL;
    char err[1024], path[512];
    ck_assert_msg(wb_model_build(s, wb_config_params(cfg, "model"), &m, err, sizeof err) == WB_OK, "%s", err);
    snprintf(path, sizeof path, "%s/fcos_r50_weights.safetensors", WB_PARITY_DIR);
    wb_load_report r;
    ck_assert_msg(wb_checkpoint_load(path, s, NULL, &r, err, sizeof err) == WB_OK, "%s", err);
    int want = (int)wbt_parity_attr(&f, "num_weights");
    ck_assert_msg(r.matched == want && r.missing == 0 && r.unexpected == 0 && r.shape_mismatched == 0,
                  "matched %d of %d, missing %d (first %s), unexpected %d (first %s), mismatched %d (first %s)",
                  r.matched, want, r.missing, r.first_missing, r.unexpected, r.first_unexpected, r.shape_mismatched,
                  r.first_mismatch);

    wb_module_slot *head = wb_model_head(m);
    wbt_env e = {s, head->ctx, &head->ctx.pub};
    const wb_st_tensor *xt = wb_st_find(&f, "x");
    const int n = (int)xt->shape[0], h = (int)xt->shape[2], w = (int)xt->shape[3];
    wb_tensor *x = wbt_from(&e, xt->ndim, xt->shape, xt->data);
    /* Training forward (the loss needs the tape); norm_eval keeps BN on its running statistics. */
    ck_assert_msg(wb_model_forward(m, x, true, err, sizeof err) == WB_OK, "%s", err);
    printf("fcos_resnet50_fpn (eval BN, randomised statistics) vs torchvision, input %dx3x%dx%d:\n", n, h, w);
    static const char *const kinds[3] = {"cls", "reg", "ctr"};
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < LEVELS; l++) {
            char name[16];
            snprintf(name, sizeof name, "%s%d", kinds[k], l);
            const wb_tensor *o = head->out[k * LEVELS + l];
            wbt_assert_rel_close(name, o->data, wbt_parity_tensor(&f, name, o->numel), o->numel, REL_TOL);
        }

    wb_gt_image imgs[8];
    wb_batch_truth truth = case_truth(&f, n, h, w, imgs);
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n_terms = 0;
    ck_assert_msg(wb_slot_loss(head, &truth, 0, terms, &n_terms, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(n_terms, 3);
    static const char *const ours[3] = {"loss_cls", "loss_bbox", "loss_centerness"};
    static const char *const refs[3] = {"loss_cls", "loss_bbox", "loss_ctr"};
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(terms[i].name, ours[i]);
        float want_v = wbt_parity_tensor(&f, refs[i], 1)[0], got = terms[i].value->data[0];
        printf("  %-48s ours %.7g, torchvision %.7g\n", ours[i], got, want_v);
        wbt_assert_close(ours[i], &got, &want_v, 1, 0.0, REL_TOL);
    }
    ck_assert_msg(wb_slot_seed_loss_grads(head, terms, n_terms, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_msg(wb_slot_backward(head, err, sizeof err) == WB_OK, "%s", err);
    int n_grads = 0;
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *ref = &f.tensors[i];
        if (strncmp(ref->name, "grad:", 5) != 0) continue;
        wb_param_entry *p = wb_session_find(s, ref->name + 5);
        ck_assert_msg(p && p->tensor->grad_valid, "no gradient for %s", ref->name + 5);
        wbt_assert_rel_close(ref->name, p->tensor->grad, ref->data, ref->numel, REL_TOL);
        n_grads++;
    }
    ck_assert_int_eq(n_grads, (int)wbt_parity_attr(&f, "num_grads"));
    wb_model_end_iteration(m);

    ck_assert_msg(wb_model_forward(m, x, false, err, sizeof err) == WB_OK, "%s", err);
    wb_detections dets[8];
    ck_assert_msg(wb_model_predict(m, &truth, dets, err, sizeof err) == WB_OK, "%s", err);
    for (int i = 0; i < n; i++) expect_case_detections(&f, "", i, &dets[i]);
    wb_model_release_detections(m, dets, n);
    wb_model_destroy(m);
    wb_session_destroy(s);
    wb_config_free(cfg);
    wb_st_free(&f);
}
END_TEST

/* The head alone with nms_pre = 20 on the case's saved head outputs: with score 0.01 far more (point, class)
 * pairs pass than are kept per level, so the decoder's running selection (keep the best, raise the floor)
 * decides which survive; the detections must be torchvision's with topk_candidates = 20. */
START_TEST(test_fcos_few_candidates_match_torchvision) {
    wb_st_file f;
    if (!wbt_parity_open("fcos_r50", &f)) return;
    wb_config *cfg = wbt_model_config(g_reg,
        "model = {\n"
        "  backbone = { type = \"resnet\"; depth = 50; out_indices = [1, 2, 3]; };\n"
        "  neck = { type = \"fpn\"; out_channels = 256; start_level = 0; num_outs = 5; };\n"
        "  head = { type = \"fcos_head\"; num_classes = 91; score_thr = 0.01; nms_pre = 20;\n"
        "           iou_threshold = 0.6; max_per_img = 100; }; };\n");
    wb_session *s = wb_session_create(NULL, 0);
    wb_module_slot head;
    wb_feature_spec in[LEVELS];
    for (int l = 0; l < LEVELS; l++) {
        in[l] = (wb_feature_spec){"", 256, 8 << l};
        snprintf(in[l].name, sizeof in[l].name, "p%d", l + 3);
    }
    char err[1024];
    ck_assert_msg(wb_slot_create(&head, s, wb_registry_find_module(g_reg, WB_KIND_HEAD, "fcos_head"), "head",
                                 wb_config_params(cfg, "model.head"), in, LEVELS, err, sizeof err) == WB_OK, "%s", err);
    wbt_env e = {s, head.ctx, &head.ctx.pub};
    wb_tensor *preds[3 * LEVELS];
    static const char *const kinds[3] = {"cls", "reg", "ctr"};
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < LEVELS; l++) {
            char name[16];
            snprintf(name, sizeof name, "%s%d", kinds[k], l);
            const wb_st_tensor *t = wb_st_find(&f, name);
            ck_assert_msg(t, "%s missing from the case", name);
            preds[k * LEVELS + l] = wbt_from(&e, t->ndim, t->shape, t->data);
        }
    const wb_st_tensor *xt = wb_st_find(&f, "x");
    const int n = (int)xt->shape[0], h = (int)xt->shape[2], w = (int)xt->shape[3];
    wb_gt_image imgs[8];
    wb_batch_truth truth = case_truth(&f, n, h, w, imgs);
    wb_detections dets[8];
    memset(dets, 0, sizeof dets);
    for (int i = 0; i < n; i++) dets[i].struct_size = sizeof dets[i];
    ck_assert_msg(head.desc->module->predict(head.instance, &head.ctx.pub, preds, 3 * LEVELS, &truth, dets) == WB_OK,
                  "%s", head.ctx.msg);
    for (int i = 0; i < n; i++) {
        expect_case_detections(&f, "few_", i, &dets[i]);
        head.desc->module->release_detections(head.instance, &dets[i]);
    }
    wb_slot_destroy(&head);
    wb_session_destroy(s);
    wb_config_free(cfg);
    wb_st_free(&f);
}
END_TEST

/* The mmdetection options of the schema on the generator's outputs: loss
 * values and d(sum)/d(outputs) for one center-sampling setting. */
static void check_mmdet_losses(const wb_st_file *f, const char *setting, bool sampling) {
    char text[1024], err[1024];
    snprintf(text, sizeof text,
             "head = { type = \"fcos_head\"; num_classes = 4; feat_channels = 32; stacked_convs = 1;\n"
             "  strides = [8, 16, 32]; regress_ranges = [-1.0, 32.0, 64.0, 1e8]; assigner = \"mmdet\";\n"
             "  center_offset = 0.5; center_sampling = %s; norm_on_bbox = false; scale_per_level = true;\n"
             "  centerness_on_reg = false; conv_bias = false; bbox_loss_weight = \"centerness\"; };\n",
             sampling ? "true" : "false");
    static const char *const paths[] = {"head"};
    static const int kinds[] = {WB_KIND_HEAD};
    char path[] = "/tmp/wb_fcos_XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    wb_config *cfg = wb_config_new();
    wb_module_lookup lk = wb_registry_module_lookup(g_reg);
    ck_assert(wb_config_load(cfg, path) == 0);
    unlink(path);
    wb_config_validate_module(cfg, paths[0], kinds[0], &lk);
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    wb_session *s = wb_session_create(NULL, 0);
    wb_feature_spec in[3] = {{"p3", 32, 8}, {"p4", 32, 16}, {"p5", 32, 32}};
    wb_module_slot head;
    ck_assert_msg(wb_slot_create(&head, s, wb_registry_find_module(g_reg, WB_KIND_HEAD, "fcos_head"), "head",
                                 wb_config_params(cfg, "head"), in, 3, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_msg(wb_session_find(s, "head.scales.2.scale") != NULL, "scale_per_level: no head.scales.2.scale");
    ck_assert_msg(wb_session_find(s, "head.classification_head.conv.0.bias") == NULL, "conv_bias = false: a bias");
    wbt_env e = {s, head.ctx, &head.ctx.pub};
    static const char *const kinds3[3] = {"cls", "reg", "ctr"};
    wb_tensor *preds[9];
    for (int k = 0; k < 3; k++)
        for (int l = 0; l < 3; l++) {
            char name[16];
            snprintf(name, sizeof name, "%s%d", kinds3[k], l);
            preds[3 * k + l] = wbt_parity_input(&e, f, name, true);
        }
    wb_gt_image imgs[8];
    wb_batch_truth truth = case_truth(f, 2, 64, 96, imgs);
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n_terms = 0;
    head.ctx.grad_enabled = true;
    ck_assert_msg(head.desc->module->loss(head.instance, &head.ctx.pub, preds, 9, &truth, terms, &n_terms) == WB_OK,
                  "loss: %s", head.ctx.msg);
    printf("fcos_head, mmdetection options (center_sampling = %s) vs mmdetection's FCOSHead.loss:\n",
           sampling ? "true" : "false");
    static const char *const refs[3] = {"loss_cls", "loss_bbox", "loss_ctr"};
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "%s_%s", refs[i], setting);
        float want = wbt_parity_tensor(f, name, 1)[0], got = terms[i].value->data[0];
        printf("  %-48s ours %.7g, mmdetection %.7g\n", terms[i].name, got, want);
        wbt_assert_close(name, &got, &want, 1, 0.0, REL_TOL);
    }
    ck_assert_msg(wb_slot_seed_loss_grads(&head, terms, n_terms, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_msg(wb_slot_replay(&head, err, sizeof err) == WB_OK, "%s", err);
    for (int i = 0; i < 9; i++) {
        char name[32];
        snprintf(name, sizeof name, "d%s%d_%s", kinds3[i / 3], i % 3, setting);
        ck_assert_msg(preds[i]->grad_valid, "no gradient reached %s", name);
        wbt_assert_rel_close(name, preds[i]->grad, wbt_parity_tensor(f, name, preds[i]->numel), preds[i]->numel, REL_TOL);
    }
    wb_slot_destroy(&head);
    wb_session_destroy(s);
    wb_config_free(cfg);
}

START_TEST(test_fcos_mmdet_losses) {
    wb_st_file f;
    if (!wbt_parity_open("fcos_mmdet", &f)) return;
    check_mmdet_losses(&f, "plain", false);
    check_mmdet_losses(&f, "sampling", true);
    wb_st_free(&f);
}
END_TEST

int main(void) {
    if (!load_plugins()) return 1;
    Suite *s = suite_create("fcos_parity");
    TCase *tc = tcase_create("torchvision");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_fcos_r50_matches_torchvision);
    tcase_add_test(tc, test_fcos_few_candidates_match_torchvision);
    tcase_add_test(tc, test_fcos_mmdet_losses);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
