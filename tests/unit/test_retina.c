/* retina_head and the basic loss plugins against torchvision 0.14
 * (tests/parity/gen_retina.py: the head's losses on mmdetection's anchors
 * handed to torchvision's own loss; the whole model's detections on
 * torchvision's own anchors, with anchor_sizes = "rounded"), and its
 * training targets against mmdetection's semantics written out in torch
 * there: ignore regions in the assignment, and reg_decoded_bbox with the IoU
 * losses (plus finite differences of the decode's custom backward).
 *
 * Layout: our level l outputs [N, A*K, H, W]; torchvision concatenates
 * [N, H*W*A, K] over levels, row start_l + (y*W + x)*A + a holding channel
 * a*K + k. compare_flattened() maps one onto the other.
 *
 * Tolerances: references are float64, ours float32. Outputs and gradients are
 * compared as max |ours - ref| / max |ref| <= 1e-4 (the bound;
 * elementwise relative error means nothing near zero). Loss values: 1e-4
 * relative. Weights after one SGD step: 1e-5 absolute (the bound; the
 * step is lr 0.01 times a gradient known to 1e-4 relative). */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <libconfig.h>
#include <stdlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "app/experiment.h"
#include "config/config.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "train/optimizer.h"
#include "opcheck.h"
#include "wbt_module.h"
#include "wbt_parity.h"
#include "wbtest.h"
/* white box: the anchors the head built, against torchvision's */
#include "../../plugins/heads/retina_head/retina_head.h"

#define REL_TOL 1e-4
#define RETINA_TEST_MAX_LEVELS 5
#define BOX_TOL 1e-3 /* px: the bound for detections reproduced from torchvision's */

static wb_registry *g_reg;
/* Scores within 1e-5 (the bound), boxes within BOX_TOL px, in torchvision's order except among
 * equal scores. Measured: from torchvision's own head outputs 1.2e-7 and 6e-5 px; whole models (our convs'
 * float32 rounding, deltas up to ~2) 4e-6 and 4.6e-4 px. */
static const wbt_dets_match k_torchvision = {"torchvision's", 1e-5, BOX_TOL, true};

static bool load_plugins(void) {
    static const char *const files[] = {WB_PLUGIN_BUILD_DIR "/wb_head_retina_head.so", WB_PLUGIN_BUILD_DIR "/wb_loss_basic.so",
                           WB_PLUGIN_BUILD_DIR "/wb_backbone_resnet.so", WB_PLUGIN_BUILD_DIR "/wb_neck_fpn.so"};
    g_reg = wbt_registry_load(files, (int)(sizeof files / sizeof files[0]));
    return g_reg != NULL;
}

static wb_session *new_session(void) {
    wb_session *s = wb_session_create(NULL, 0);
    s->find_module = wb_registry_find_module;
    s->find_user = g_reg;
    return s;
}

static void load_weights(wb_session *s, const char *case_name, int matched) {
    char path[512], err[512];
    snprintf(path, sizeof path, "%s/%s_weights.safetensors", WB_PARITY_DIR, case_name);
    wb_load_report r;
    ck_assert_msg(wb_checkpoint_load(path, s, NULL, &r, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_msg(r.matched == matched && r.missing == 0 && r.unexpected == 0 && r.shape_mismatched == 0,
                  "%s: matched %d (want %d), missing %d (first %s), unexpected %d (first %s), mismatched %d (first %s)",
                  case_name, r.matched, matched, r.missing, r.first_missing, r.unexpected, r.first_unexpected,
                  r.shape_mismatched, r.first_mismatch);
}

/* Per-level maps [N, A*C, H, W] (their values, or their gradients) in
 * torchvision's flattened layout [N, T, C]; returns T. */
static int64_t flatten_levels(wb_tensor *const *maps, int L, int A, int C, bool grads, float *flat, int64_t cap) {
    int64_t N = maps[0]->shape[0], T = 0;
    for (int l = 0; l < L; l++) T += maps[l]->shape[2] * maps[l]->shape[3] * A;
    ck_assert(N * T * C <= cap);
    int64_t start = 0;
    for (int l = 0; l < L; l++) {
        int64_t H = maps[l]->shape[2], W = maps[l]->shape[3];
        const float *v = grads ? maps[l]->grad : maps[l]->data;
        for (int64_t n = 0; n < N; n++)
            for (int64_t a = 0; a < A; a++)
                for (int64_t c = 0; c < C; c++)
                    for (int64_t p = 0; p < H * W; p++)
                        flat[(n * T + start + p * A + a) * C + c] = v[((n * A * C + a * C + c) * H * W) + p];
        start += H * W * A;
    }
    return T;
}

/* Our per-level maps out[0..L) of C values per anchor, in torchvision's
 * flattened layout [N, T, C], against the reference. */
static void compare_flattened(const char *what, wb_tensor *const *out, int L, int A, int C, const float *ref,
                              int64_t T) {
    static float flat[2 * 20000 * 91];
    ck_assert_int_eq(flatten_levels(out, L, A, C, false, flat, sizeof flat / sizeof flat[0]), T);
    wbt_assert_rel_close(what, flat, ref, out[0]->shape[0] * T * C, REL_TOL);
}

static const char *k_head_paths[] = {"head"};
static const int k_head_kinds[] = {WB_KIND_HEAD};

/* Head outputs, torchvision's compute_loss, gradients and one SGD step. */
START_TEST(test_head_matches_torchvision) {
    wb_st_file f;
    if (!wbt_parity_open("retina_head", &f)) return;
    wb_config *cfg = wbt_validated_config(g_reg,
        "head = { type = \"retina_head\"; num_classes = 5; feat_channels = 64; normalize = \"image\";\n"
        "  loss_cls = { type = \"focal_loss\"; reduction = \"sum\"; };\n"
        "  loss_bbox = { type = \"l1\"; reduction = \"mean\"; }; };\n", k_head_paths, k_head_kinds, 1);
    wb_session *s = new_session();
    wb_feature_spec in[5];
    for (int l = 0; l < 5; l++) {
        in[l] = (wb_feature_spec){"", 64, 8 << l};
        snprintf(in[l].name, sizeof in[l].name, "p%d", l + 3);
    }
    wb_module_slot head;
    char err[1024];
    ck_assert_msg(wb_slot_create(&head, s, wb_registry_find_module(g_reg, WB_KIND_HEAD, "retina_head"), "head",
                                 wb_config_params(cfg, "head"), in, 5, err, sizeof err) == WB_OK, "%s", err);
    load_weights(s, "retina_head", 20);
    wbt_env e = {s, head.ctx, &head.ctx.pub};
    wb_tensor *x[5];
    for (int l = 0; l < 5; l++) {
        char name[8];
        snprintf(name, sizeof name, "x%d", l);
        const wb_st_tensor *t = wb_st_find(&f, name);
        x[l] = wbt_from(&e, t->ndim, t->shape, t->data);
    }
    ck_assert_msg(wb_slot_forward(&head, x, 5, 128, 160, true, err, sizeof err) == WB_OK, "%s", err);
    printf("retina_head vs torchvision RetinaNetHead (64 channels, 5 classes):\n");
    const int64_t T = 3852;
    compare_flattened("cls_logits [N, HWA, K]", head.out, 5, 9, 5, wbt_parity_tensor(&f, "cls_logits", 2 * T * 5), T);
    compare_flattened("bbox_regression [N, HWA, 4]", head.out + 5, 5, 9, 4,
                      wbt_parity_tensor(&f, "bbox_regression", 2 * T * 4), T);

    wb_gt_image imgs[2];
    for (int i = 0; i < 2; i++) {
        char bn[16], ln[16];
        snprintf(bn, sizeof bn, "boxes%d", i);
        snprintf(ln, sizeof ln, "labels%d", i);
        const wb_st_tensor *b = wb_st_find(&f, bn), *lab = wb_st_find(&f, ln);
        static int labels[2][8];
        for (int k = 0; k < lab->numel; k++) labels[i][k] = (int)lab->data[k];
        imgs[i] = (wb_gt_image){sizeof(wb_gt_image), (int)b->shape[0], b->data, labels[i], NULL, 128, 160, 128, 160,
                                1.0f, 1.0f, i, 0.0f, 0.0f};
    }
    wb_batch_truth truth = {sizeof truth, 2, 128, 160, imgs};
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n_terms = 0;
    ck_assert_msg(head.desc->module->loss(head.instance, &head.ctx.pub, head.out, head.n_out, &truth, terms,
                                          &n_terms) == WB_OK, "loss: %s", head.ctx.msg);
    ck_assert_int_eq(n_terms, 2);
    const char *refs[2] = {"loss_cls", "loss_bbox"};
    for (int i = 0; i < 2; i++) {
        ck_assert_str_eq(terms[i].name, refs[i]);
        float want = wbt_parity_tensor(&f, refs[i], 1)[0], got = terms[i].value->data[0];
        printf("  %-52s ours %.7g, torchvision %.7g\n", refs[i], got, want);
        wbt_assert_close(refs[i], &got, &want, 1, 0.0, REL_TOL);
    }
    for (int i = 0; i < n_terms; i++) { /* d(loss_cls + loss_bbox) */
        float *g = wb_grad_begin(&head.ctx, terms[i].value);
        g[0] = 1.0f;
        wb_grad_end(&head.ctx, terms[i].value, g);
    }
    ck_assert_msg(wb_slot_backward(&head, err, sizeof err) == WB_OK, "%s", err);
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *ref = &f.tensors[i];
        if (strncmp(ref->name, "grad:", 5) != 0) continue;
        wb_param_entry *p = wb_session_find(s, ref->name + 5);
        ck_assert_msg(p && p->tensor->grad_valid, "no gradient for %s", ref->name + 5);
        wbt_assert_rel_close(ref->name, p->tensor->grad, ref->data, ref->numel, REL_TOL);
    }
    wb_optim_config oc = {.type = WB_OPTIM_SGD, .lr = 0.01f, .momentum = 0.9f, .weight_decay = 1e-4f,
                          .norm_decay_mult = 1.0f, .bias_decay_mult = 1.0f};
    wb_optimizer *o = wb_optimizer_create(s, &oc);
    wb_optimizer_step(o, 0.01f);
    int updated = 0;
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *ref = &f.tensors[i];
        if (strncmp(ref->name, "updated:", 8) != 0) continue;
        wb_param_entry *p = wb_session_find(s, ref->name + 8);
        double d = wbt_max_abs_diff(p->tensor->data, ref->data, ref->numel);
        ck_assert_msg(d <= 1e-5, "%s after one SGD step: max abs diff %.3g (tolerance 1e-5)", ref->name, d);
        updated++;
    }
    printf("  weights after one SGD step: %d tensors within 1e-5\n", updated);
    ck_assert_int_eq(updated, 20);
    wb_optimizer_destroy(o);
    wb_slot_destroy(&head);
    wb_session_destroy(s);
    wb_config_free(cfg);
    wb_st_free(&f);
}
END_TEST

/* retinanet_resnet50_fpn in eval mode: per-level outputs and final detections. */
START_TEST(test_retinanet_r50_matches_torchvision) {
    wb_st_file f;
    if (!wbt_parity_open("retinanet_r50", &f)) return;
    wb_config *cfg = wbt_model_config(g_reg,
        "model = {\n"
        "  backbone = { type = \"resnet\"; depth = 50; out_indices = [1, 2, 3]; frozen_stages = -1; norm = \"bn\"; };\n"
        "  neck = { type = \"fpn\"; out_channels = 256; start_level = 0; num_outs = 5;\n"
        "           add_extra_convs = \"on_output\"; relu_before_extra_convs = true; };\n"
        "  head = { type = \"retina_head\"; num_classes = 91; score_thr = 0.05; nms_pre = 1000;\n"
        "           iou_threshold = 0.5; max_per_img = 300; anchor_sizes = \"rounded\"; }; };\n");
    wb_session *s = new_session();
    wb_model *m = NULL;
    char err[1024];
    ck_assert_msg(wb_model_build(s, wb_config_params(cfg, "model"), &m, err, sizeof err) == WB_OK, "%s", err);
    load_weights(s, "retinanet_r50", (int)wbt_parity_attr(&f, "num_weights"));
    wb_module_slot *head = wb_model_head(m);
    wbt_env e = {s, head->ctx, &head->ctx.pub};
    const wb_st_tensor *xt = wb_st_find(&f, "x");
    wb_tensor *x = wbt_from(&e, xt->ndim, xt->shape, xt->data);
    ck_assert_msg(wb_model_forward(m, x, false, err, sizeof err) == WB_OK, "%s", err);
    int h = (int)xt->shape[2], w = (int)xt->shape[3];
    printf("retinanet_resnet50_fpn (eval, randomised BN, torchvision's anchors) vs torchvision, input 2x3x%dx%d:\n",
           h, w);
    const int64_t T = (int64_t)wbt_parity_attr(&f, "num_anchors");
    compare_flattened("cls_logits [N, HWA, 91]", head->out, 5, 9, 91, wbt_parity_tensor(&f, "cls_logits", 2 * T * 91),
                      T);
    compare_flattened("bbox_regression [N, HWA, 4]", head->out + 5, 5, 9, 4,
                      wbt_parity_tensor(&f, "bbox_regression", 2 * T * 4), T);
    wb_gt_image imgs[2];
    for (int i = 0; i < 2; i++)
        imgs[i] = (wb_gt_image){sizeof(wb_gt_image), 0, NULL, NULL, NULL, h, w, h, w, 1.0f, 1.0f, i, 0, 0};
    wb_batch_truth meta = {sizeof meta, 2, h, w, imgs};
    wb_detections dets[2];
    ck_assert_msg(wb_model_predict(m, &meta, dets, err, sizeof err) == WB_OK, "%s", err);
    for (int i = 0; i < 2; i++) {
        char nb[32], ns[32], nl[32];
        snprintf(nb, sizeof nb, "det_boxes%d", i);
        snprintf(ns, sizeof ns, "det_scores%d", i);
        snprintf(nl, sizeof nl, "det_labels%d", i);
        int want = (int)wbt_parity_attr(&f, i ? "num_dets1" : "num_dets0");
        printf("  image %d: %d detections, torchvision %d\n", i, dets[i].num, want);
        ck_assert_int_eq(dets[i].num, want);
        wbt_assert_same_detections(&k_torchvision, i, &dets[i], wbt_parity_tensor(&f, nb, 4 * want),
                                   wbt_parity_tensor(&f, ns, want), wbt_parity_tensor(&f, nl, want));
    }
    wb_model_release_detections(m, dets, 2);
    wb_model_destroy(m);
    wb_session_destroy(s);
    wb_config_free(cfg);
    wb_st_free(&f);
}
END_TEST

/* ---- torchvision's anchors, decode and NMS at 640x480 (gen_retina.py gen_r18_640x480) ---- */

#define R18_LEVELS 5

static wb_config *create_head(wb_session *s, const char *body, const int *strides, int n_levels, int channels,
                              wb_module_slot *head, char *err, size_t err_size, wb_status *st);

static const char *const R18_HEAD =
    "num_classes = 3; nms_pre = 1000; iou_threshold = 0.5; max_per_img = 1000; anchor_sizes = \"rounded\";";

/* The batch of the case: a 640x480 image and a 600x416 one, padded to 640x480. */
static wb_batch_truth r18_meta(const wb_st_file *f, wb_gt_image imgs[2]) {
    for (int i = 0; i < 2; i++) {
        int h = (int)wbt_parity_attr(f, i ? "h1" : "h0"), w = (int)wbt_parity_attr(f, i ? "w1" : "w0");
        imgs[i] = (wb_gt_image){sizeof(wb_gt_image), 0, NULL, NULL, NULL, h, w, h, w, 1.0f, 1.0f, i, 0, 0};
    }
    return (wb_batch_truth){sizeof(wb_batch_truth), 2, 480, 640, imgs};
}

/* Our detections of both images against torchvision's "lo" or "hi" set. */
static void compare_r18_detections(const wb_st_file *f, const char *set, const wb_detections *dets) {
    for (int i = 0; i < 2; i++) {
        char key[32], nb[32], ns[32], nl[32];
        snprintf(key, sizeof key, "%s_dets%d", set, i);
        int want = (int)wbt_parity_attr(f, key);
        snprintf(key, sizeof key, "%s_candidates%d", set, i);
        printf("  %s, image %d: %d detections, torchvision %d (of %d NMS candidates: %s)\n", set, i, dets[i].num,
               want, (int)wbt_parity_attr(f, key), wbt_parity_attr(f, key) > 1000 ? "NMS per class"
                                                                                  : "classes shifted apart");
        ck_assert_int_eq(dets[i].num, want);
        snprintf(nb, sizeof nb, "%s_boxes%d", set, i);
        snprintf(ns, sizeof ns, "%s_scores%d", set, i);
        snprintf(nl, sizeof nl, "%s_labels%d", set, i);
        wbt_assert_same_detections(&k_torchvision, i, &dets[i], wbt_parity_tensor(f, nb, 4 * want),
                                   wbt_parity_tensor(f, ns, want), wbt_parity_tensor(f, nl, want));
    }
}

/* torchvision's head outputs decoded by our head: the anchors equal
 * torchvision's exactly (per-axis strides of the padded 640x480 batch: P6,
 * P7 shift by 60 and 120 px vertically), and every detection is reproduced
 * at both score thresholds, so through both of batched_nms's paths. */
START_TEST(test_torchvision_postprocess_640x480) {
    const char *set = _i ? "hi" : "lo";
    wb_st_file f;
    if (!wbt_parity_open("retinanet_r18_640x480", &f)) return;
    wb_session *s = new_session();
    static const int strides[R18_LEVELS] = {8, 16, 32, 64, 128};
    char body[512], key[32], err[1024];
    snprintf(key, sizeof key, "score_thr_%s", set);
    const double score_thr = wbt_parity_attr(&f, key);
    snprintf(body, sizeof body, "%s score_thr = %.9g;", R18_HEAD, score_thr);
    wb_module_slot head;
    wb_status st;
    wb_config *cfg = create_head(s, body, strides, R18_LEVELS, 256, &head, err, sizeof err, &st);
    ck_assert_msg(st == WB_OK, "%s", err);
    wbt_env e = {s, head.ctx, &head.ctx.pub};
    wb_tensor *preds[2 * R18_LEVELS];
    for (int l = 0; l < R18_LEVELS; l++) {
        snprintf(key, sizeof key, "cls%d", l);
        preds[l] = wbt_parity_input(&e, &f, key, false);
        snprintf(key, sizeof key, "reg%d", l);
        preds[R18_LEVELS + l] = wbt_parity_input(&e, &f, key, false);
    }
    wb_gt_image imgs[2];
    wb_batch_truth meta = r18_meta(&f, imgs);
    wb_detections dets[2];
    ck_assert_msg(head.desc->module->predict(head.instance, &head.ctx.pub, preds, 2 * R18_LEVELS, &meta, dets) ==
                  WB_OK, "predict: %s", head.ctx.msg);
    const retina_head *h = head.instance;
    const int64_t T = (int64_t)wbt_parity_attr(&f, "num_anchors");
    ck_assert_int_eq(h->n_anchors, T);
    double worst = wbt_max_abs_diff(h->anchors, wbt_parity_tensor(&f, "anchors", 4 * T), 4 * T);
    printf("retina_head (anchor_sizes \"rounded\") on torchvision's RetinaNet-R18 head outputs, 640x480 batch, "
           "score_thr %g:\n  %lld anchors, max |ours - torchvision's| %.3g px\n", score_thr,
           (long long)T, worst);
    ck_assert_msg(worst == 0.0, "anchors differ from torchvision's by up to %g px", worst);
    compare_r18_detections(&f, set, dets);
    head.desc->module->release_detections(head.instance, &dets[0]);
    head.desc->module->release_detections(head.instance, &dets[1]);
    wb_slot_destroy(&head);
    wb_session_destroy(s);
    wb_config_free(cfg);
    wb_st_free(&f);
}
END_TEST

/* The whole RetinaNet-R18 (export_torchvision.py's retinanet_resnet18_fpn)
 * at 640x480: outputs, then torchvision's detections at score 0.05. */
START_TEST(test_retinanet_r18_640x480_matches_torchvision) {
    wb_st_file f;
    if (!wbt_parity_open("retinanet_r18_640x480", &f)) return;
    char text[1024];
    snprintf(text, sizeof text,
             "model = {\n"
             "  backbone = { type = \"resnet\"; depth = 18; out_indices = [1, 2, 3]; frozen_stages = -1; "
             "norm = \"bn\"; };\n"
             "  neck = { type = \"fpn\"; out_channels = 256; start_level = 0; num_outs = 5;\n"
             "           add_extra_convs = \"on_output\"; relu_before_extra_convs = true; };\n"
             "  head = { type = \"retina_head\"; %s score_thr = 0.05; }; };\n", R18_HEAD);
    wb_config *cfg = wbt_model_config(g_reg, text);
    wb_session *s = new_session();
    wb_model *m = NULL;
    char err[1024];
    ck_assert_msg(wb_model_build(s, wb_config_params(cfg, "model"), &m, err, sizeof err) == WB_OK, "%s", err);
    load_weights(s, "retinanet_r18_640x480", (int)wbt_parity_attr(&f, "num_weights"));
    wb_module_slot *head = wb_model_head(m);
    wbt_env e = {s, head->ctx, &head->ctx.pub};
    const wb_st_tensor *xt = wb_st_find(&f, "x");
    wb_tensor *x = wbt_from(&e, xt->ndim, xt->shape, xt->data);
    ck_assert_msg(wb_model_forward(m, x, false, err, sizeof err) == WB_OK, "%s", err);
    printf("retinanet_resnet18_fpn (eval, randomised BN) vs torchvision (float32), input 2x3x480x640:\n");
    for (int l = 0; l < 2 * R18_LEVELS; l++) {
        char key[16];
        snprintf(key, sizeof key, "%s%d", l < R18_LEVELS ? "cls" : "reg", l % R18_LEVELS);
        wbt_assert_rel_close(key, head->out[l]->data, wbt_parity_tensor(&f, key, head->out[l]->numel),
                         head->out[l]->numel, REL_TOL);
    }
    wb_gt_image imgs[2];
    wb_batch_truth meta = r18_meta(&f, imgs);
    wb_detections dets[2];
    ck_assert_msg(wb_model_predict(m, &meta, dets, err, sizeof err) == WB_OK, "%s", err);
    compare_r18_detections(&f, "lo", dets);
    wb_model_release_detections(m, dets, 2);
    wb_model_destroy(m);
    wb_session_destroy(s);
    wb_config_free(cfg);
    wb_st_free(&f);
}
END_TEST

/* ---- training targets: ignore regions, reg_decoded_bbox (gen_retina.py gen_targets) ---- */

#define TGT_LEVELS 3
#define TGT_IMAGES 3
#define TGT_CLASSES 3
#define TGT_A 9
#define TGT_MAX_BOXES 8

typedef struct target_truth {
    wb_gt_image images[TGT_IMAGES];
    int labels[TGT_IMAGES][TGT_MAX_BOXES];
    uint8_t ignore[TGT_IMAGES][TGT_MAX_BOXES];
    wb_batch_truth batch;
} target_truth;

/* The boxes, labels and ignore flags of a 96x128 batch. */
static void read_target_truth(const wb_st_file *f, target_truth *t) {
    for (int i = 0; i < TGT_IMAGES; i++) {
        char name[16];
        snprintf(name, sizeof name, "boxes%d", i);
        const wb_st_tensor *b = wb_st_find(f, name);
        int n = (int)b->shape[0];
        ck_assert(n <= TGT_MAX_BOXES);
        snprintf(name, sizeof name, "labels%d", i);
        const float *labels = wbt_parity_tensor(f, name, n);
        snprintf(name, sizeof name, "ignore%d", i);
        const float *ignore = wbt_parity_tensor(f, name, n);
        for (int k = 0; k < n; k++) t->labels[i][k] = (int)labels[k], t->ignore[i][k] = ignore[k] != 0.0f;
        t->images[i] = (wb_gt_image){sizeof(wb_gt_image), n, b->data, t->labels[i], t->ignore[i], 96, 128, 96, 128,
                                     1.0f, 1.0f, i, 0.0f, 0.0f};
    }
    t->batch = (wb_batch_truth){sizeof t->batch, TGT_IMAGES, 96, 128, t->images};
}

/* A retina_head `head = { type = "retina_head"; <body> }` on feature maps at
 * the given strides; the caller frees the config after the slot. */
static wb_config *create_head(wb_session *s, const char *body, const int *strides, int n_levels, int channels,
                              wb_module_slot *head, char *err, size_t err_size, wb_status *st) {
    char text[2048];
    snprintf(text, sizeof text, "head = { type = \"retina_head\"; %s };\n", body);
    wb_config *cfg = wbt_validated_config(g_reg, text, k_head_paths, k_head_kinds, 1);
    wb_feature_spec in[RETINA_TEST_MAX_LEVELS];
    for (int l = 0; l < n_levels; l++) {
        in[l] = (wb_feature_spec){"", channels, strides[l]};
        snprintf(in[l].name, sizeof in[l].name, "p%d", l + 3);
    }
    *st = wb_slot_create(head, s, wb_registry_find_module(g_reg, WB_KIND_HEAD, "retina_head"), "head",
                         wb_config_params(cfg, "head"), in, n_levels, err, err_size);
    return cfg;
}

static const char *state_name(int state, char *buf, size_t size) {
    if (state < 0) return "ignored";
    if (state == 0) return "background";
    snprintf(buf, size, "positive of class %d", state - 1);
    return buf;
}

/* The assignment of every anchor, read from the gradients: an ignored
 * anchor gets no gradient, a background one only classification
 * gradients, a positive one a box gradient too, and its class is the one
 * whose focal gradient is negative (target 1). */
static void assignment_from_gradients(wb_tensor *const *cls, wb_tensor *const *reg, int64_t T, int *state) {
    static float gc[TGT_IMAGES * 2400 * TGT_CLASSES], gr[TGT_IMAGES * 2400 * 4];
    ck_assert_int_eq(flatten_levels(cls, TGT_LEVELS, TGT_A, TGT_CLASSES, true, gc, sizeof gc / sizeof gc[0]), T);
    ck_assert_int_eq(flatten_levels(reg, TGT_LEVELS, TGT_A, 4, true, gr, sizeof gr / sizeof gr[0]), T);
    for (int64_t r = 0; r < TGT_IMAGES * T; r++) {
        const float *c = gc + r * TGT_CLASSES, *b = gr + r * 4;
        bool any_cls = false, any_box = false;
        int label = 0;
        for (int k = 0; k < TGT_CLASSES; k++) {
            any_cls = any_cls || c[k] != 0.0f;
            if (c[k] < c[label]) label = k;
        }
        for (int k = 0; k < 4; k++) any_box = any_box || b[k] != 0.0f;
        state[r] = !any_cls ? -1 : (!any_box ? 0 : (c[label] < 0.0f ? label + 1 : -2 /* no class: wrong */));
    }
}

/* Loss values are float32 sums of ~20000 terms (rounding walks about
 * sqrt(20000) * 6e-8 ~ 1e-5 relative), gradients single derivatives divided
 * by the positives: both 1e-5 relative (gradients as max |ours - ref| /
 * max |ref|). Measured: 1.1e-7 on values, 3.3e-7 on gradients. */
#define TARGET_TOL 1e-5

static const char *const TARGET_CASES[] = {"retina_ignore0", "retina_ignore1", "retina_ignore2",
                                           "retina_decoded_giou", "retina_decoded_ciou"};

/* mmdetection's assignment with ignore regions (MaxIoUAssigner with
 * ignore_iof_thr, min_pos_iou, low-quality matches), anchor by anchor, and
 * the loss values and gradients of RetinaHead with it; the decoded cases
 * also run the IoU losses on boxes decoded from the deltas
 * (reg_decoded_bbox), some of them clamped. */
START_TEST(test_targets_match_mmdetection) {
    const char *name = TARGET_CASES[_i];
    wb_st_file f;
    if (!wbt_parity_open(name, &f)) return;
    wb_session *s = new_session();
    wb_module_slot head;
    char err[1024];
    wb_status st;
    static const int strides[TGT_LEVELS] = {8, 16, 32};
    wb_config *cfg = create_head(s, wb_st_meta(&f, "head"), strides, TGT_LEVELS, 8, &head, err, sizeof err, &st);
    ck_assert_msg(st == WB_OK, "%s: %s", name, err);
    head.ctx.grad_enabled = true; /* as a training forward leaves it */
    wbt_env e = {s, head.ctx, &head.ctx.pub};
    wb_tensor *preds[2 * TGT_LEVELS];
    for (int l = 0; l < TGT_LEVELS; l++) {
        char key[16];
        snprintf(key, sizeof key, "cls%d", l);
        preds[l] = wbt_parity_input(&e, &f, key, true);
        snprintf(key, sizeof key, "reg%d", l);
        preds[TGT_LEVELS + l] = wbt_parity_input(&e, &f, key, true);
    }
    target_truth truth;
    read_target_truth(&f, &truth);
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n_terms = 0;
    ck_assert_msg(head.desc->module->loss(head.instance, &head.ctx.pub, preds, 2 * TGT_LEVELS, &truth.batch, terms,
                                          &n_terms) == WB_OK, "%s loss: %s", name, head.ctx.msg);
    printf("%s (%d positives, %d ignored anchors in mmdetection's assignment):\n", name,
           (int)wbt_parity_attr(&f, "num_pos"), (int)wbt_parity_attr(&f, "num_ignored"));
    for (int i = 0; i < 2; i++) { /* d(loss_cls + loss_bbox) */
        float *g = wb_grad_begin(&head.ctx, terms[i].value);
        g[0] = 1.0f;
        wb_grad_end(&head.ctx, terms[i].value, g);
    }
    ck_assert_msg(wb_tape_backward(&head.ctx) == WB_OK, "%s backward: %s", name, head.ctx.msg);

    const int64_t T = 2268;
    static int state[TGT_IMAGES * 2268];
    assignment_from_gradients(preds, preds + TGT_LEVELS, T, state);
    const float *want = wbt_parity_tensor(&f, "assignment", TGT_IMAGES * T);
    int mismatches = 0;
    for (int64_t r = 0; r < TGT_IMAGES * T; r++) {
        if (state[r] == (int)want[r]) continue;
        char a[32], b[32];
        if (mismatches++ == 0)
            ck_abort_msg("%s: image %lld anchor %lld is %s here but %s in mmdetection's assignment", name,
                         (long long)(r / T), (long long)(r % T), state_name(state[r], a, sizeof a),
                         state_name((int)want[r], b, sizeof b));
    }
    printf("  assignment: all %lld anchors agree\n", (long long)(TGT_IMAGES * T));
    for (int i = 0; i < 2; i++) {
        float want = wbt_parity_tensor(&f, terms[i].name, 1)[0], got = terms[i].value->data[0];
        printf("  %-52s ours %.7g, reference %.7g, relative %.2g\n", terms[i].name, got, want,
               fabs(got - want) / fabs(want));
        wbt_assert_close(terms[i].name, &got, &want, 1, 0.0, TARGET_TOL);
    }
    for (int l = 0; l < 2 * TGT_LEVELS; l++) {
        char key[24];
        snprintf(key, sizeof key, "grad_%s%d", l < TGT_LEVELS ? "cls" : "reg", l % TGT_LEVELS);
        ck_assert(preds[l]->grad_valid);
        wbt_assert_rel_close(key, preds[l]->grad, wbt_parity_tensor(&f, key, preds[l]->numel), preds[l]->numel,
                         TARGET_TOL);
    }
    wb_slot_destroy(&head);
    wb_session_destroy(s);
    wb_config_free(cfg);
    wb_st_free(&f);
}
END_TEST

/* Finite differences through the decode: loss_bbox of a one-level head
 * (48x48 image, stride 16: 81 anchors) w.r.t. every one of its deltas. With
 * an l1 loss on the decoded boxes the gradient is the decode's Jacobian
 * applied to signs, so this checks the custom op's backward alone; giou
 * checks the chain the IoU losses use. */
typedef struct fd_head {
    wb_module_slot *head;
    const wb_batch_truth *truth;
} fd_head;

static wb_tensor *fd_loss_bbox(wb_ctx *ctx, wb_tensor *const *in, void *user) {
    const fd_head *u = user;
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n = 0;
    if (u->head->desc->module->loss(u->head->instance, ctx, in, 2, u->truth, terms, &n) != WB_OK) return NULL;
    return terms[1].value;
}

START_TEST(test_decode_gradient_finite_differences) {
    static const char *const losses[] = {"type = \"l1\"; reduction = \"sum\";", "type = \"giou\"; eps = 1e-7;"};
    static const float boxes[] = {4.3f, 6.1f, 30.2f, 35.7f, 20.5f, 14.2f, 46.1f, 44.9f};
    static const int labels[] = {0, 1};
    wb_gt_image img = {sizeof img, 2, boxes, labels, NULL, 48, 48, 48, 48, 1.0f, 1.0f, 0, 0.0f, 0.0f};
    wb_batch_truth truth = {sizeof truth, 1, 48, 48, &img};
    static const float no_logits[18 * 9] = {0};
    for (size_t i = 0; i < sizeof losses / sizeof losses[0]; i++) {
        char body[512], err[1024];
        snprintf(body, sizeof body, "num_classes = 2; feat_channels = 4; stacked_convs = 0; strides = [16]; "
                 "target_stds = [0.5, 0.5, 0.8, 0.8]; reg_decoded_bbox = true; loss_bbox = { %s };", losses[i]);
        wb_session *s = new_session();
        wb_module_slot head;
        wb_status st;
        static const int stride[1] = {16};
        wb_config *cfg = create_head(s, body, stride, 1, 4, &head, err, sizeof err, &st);
        ck_assert_msg(st == WB_OK, "%s", err);
        fd_head u = {&head, &truth};
        opcheck_input in[2] = {
            {.ndim = 4, .shape = {1, 18, 3, 3}, .values = no_logits},
            {.ndim = 4, .shape = {1, 36, 3, 3}, .lo = -0.5f, .hi = 0.5f, .grad = true},
        };
        opcheck_gradients(losses[i], fd_loss_bbox, &u, in, 2, (opcheck_opts){.max_points = 324, .seed = 3});
        wb_slot_destroy(&head);
        wb_session_destroy(s);
        wb_config_free(cfg);
    }
}
END_TEST

static void expect_create_error(const char *body, const char *fragment) {
    static const int strides[TGT_LEVELS] = {8, 16, 32};
    wb_session *s = new_session();
    wb_module_slot head;
    char err[1024];
    wb_status st;
    wb_config *cfg = create_head(s, body, strides, TGT_LEVELS, 8, &head, err, sizeof err, &st);
    ck_assert_msg(st != WB_OK, "'%s' was accepted", body);
    ck_assert_msg(strstr(err, fragment), "'%s': error '%s' lacks '%s'", body, err, fragment);
    wb_slot_destroy(&head);
    wb_session_destroy(s);
    wb_config_free(cfg);
}

START_TEST(test_unusable_loss_bbox_is_a_config_error) {
    expect_create_error("num_classes = 3; strides = [8, 16, 32]; loss_bbox = { type = \"giou\"; };",
                        "retina_head: loss_bbox giou compares boxes, not deltas; set reg_decoded_bbox = true");
    expect_create_error("num_classes = 3; strides = [8, 16, 32]; reg_decoded_bbox = true; "
                        "loss_bbox = { type = \"focal_loss\"; };",
                        "retina_head: loss_bbox is focal_loss, a classification loss; use l1 or smooth_l1");
}
END_TEST

int main(void) {
    if (!load_plugins()) return 1;
    Suite *s = suite_create("retina");
    TCase *tc = tcase_create("retina");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_head_matches_torchvision);
    tcase_add_test(tc, test_retinanet_r50_matches_torchvision);
    tcase_add_loop_test(tc, test_torchvision_postprocess_640x480, 0, 2);
    tcase_add_test(tc, test_retinanet_r18_640x480_matches_torchvision);
    tcase_add_loop_test(tc, test_targets_match_mmdetection, 0, (int)(sizeof TARGET_CASES / sizeof TARGET_CASES[0]));
    tcase_add_test(tc, test_decode_gradient_finite_differences);
    tcase_add_test(tc, test_unusable_loss_bbox_is_a_config_error);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
