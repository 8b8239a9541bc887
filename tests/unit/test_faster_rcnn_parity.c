/* Faster R-CNN (roi_head owning an rpn_head) against torchvision 0.14's
 * fasterrcnn_resnet50_fpn (tests/parity/gen_faster_rcnn.py, weights from
 * tools/export_faster_rcnn.py), with the settings that reproduce
 * torchvision: rounded anchors, torchvision's level rule and RoIAlign
 * without the half-pixel shift at sampling ratio 2, its box decode and
 * batched NMS, smooth L1 with beta 1/9.
 *
 * Eval: RPN objectness and deltas per level (1e-4 of the largest value),
 * the same proposals (every one within 1e-3 px of torchvision's), the box
 * head's logits and deltas on torchvision's proposals (1e-4), the same
 * detections. Training, with the samplers taking every candidate (so both
 * sides sample the same RoIs): the four losses (1e-4 relative) and the
 * gradients of the box head (1e-4 of the largest). References are float32
 * torch; ours float32. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app/experiment.h"
#include "config/config.h"
#include "model/model.h"
#include "model/submodule.h"
#include "ops/ops.h"
#include "train/checkpoint.h"
#include "wbtest.h"
/* white box: the head's RPN sub-module, asked for its proposals */
#include "../../plugins/common/two_stage/detector.h"
#include "../../plugins/heads/roi_head/roi_head.h"

#define REL_TOL 1e-4
#define BOX_TOL 1e-3
#define LEVELS 5

static wb_registry *g_reg;

static bool load_plugins(void) {
    g_reg = wb_registry_new();
    const char *files[] = {WB_PLUGIN_BUILD_DIR "/wb_head_roi_head.so", WB_PLUGIN_BUILD_DIR "/wb_head_rpn_head.so",
                           WB_PLUGIN_BUILD_DIR "/wb_loss_basic.so", WB_PLUGIN_BUILD_DIR "/wb_backbone_resnet.so",
                           WB_PLUGIN_BUILD_DIR "/wb_neck_fpn.so"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (wb_registry_load_file(g_reg, files[i], "test") != WB_OK) {
            fprintf(stderr, "cannot load %s: %s\n", files[i], wb_registry_error(g_reg));
            return false;
        }
    }
    return true;
}

/* The model as torchvision builds it; train adds the deterministic sampling. */
static const char *model_text(bool train) {
    static char text[4096];
    snprintf(text, sizeof text,
             "model = {\n"
             "  backbone = { type = \"resnet\"; depth = 50; out_indices = [0, 1, 2, 3]; frozen_stages = 4;\n"
             "               norm = \"frozen_bn\"; norm_eval = true; };\n"
             "  neck = { type = \"fpn\"; out_channels = 256; num_outs = 5; add_extra_convs = \"none\"; };\n"
             "  head = { type = \"roi_head\"; num_classes = 90; roi_levels = \"torchvision\"; aligned = false;\n"
             "    sampling_ratio = 2; box_coder = \"torchvision\"; min_bbox_size = 0.01; %s\n"
             "    loss_bbox = { type = \"smooth_l1\"; beta = 0.11111111111; };\n"
             "    rpn = { type = \"rpn_head\"; anchor_sizes = \"rounded\"; min_bbox_size = 0.001; min_pos_iou = 0.0;\n"
             "      loss_bbox = { type = \"smooth_l1\"; beta = 0.11111111111; }; %s }; }; };\n",
             train ? "sampler_num = 1000000;" : "",
             train ? "sampler_num = 1000000; train_nms_pre = 300; train_max_per_img = 100;" : "");
    return text;
}

static wb_config *validated_config(const char *text) {
    static const char *paths[] = {"model.backbone", "model.neck", "model.head"};
    static const int kinds[] = {WB_KIND_BACKBONE, WB_KIND_NECK, WB_KIND_HEAD};
    char path[] = "/tmp/wb_frcnn_XXXXXX";
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    wb_config *cfg = wb_config_new();
    wb_module_lookup lk = wb_registry_module_lookup(g_reg);
    ck_assert(wb_config_load(cfg, path) == 0);
    unlink(path);
    for (int i = 0; i < 3; i++) wb_config_validate_module(cfg, paths[i], kinds[i], &lk);
    if (wb_config_error_count(cfg) > 0) wb_config_print_errors(cfg, stderr);
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    return cfg;
}

typedef struct fixture {
    wb_config *cfg;
    wb_session *s;
    wb_model *m;
    wb_module_slot *head;
    wbt_env e;
} fixture;

static void build(fixture *fx, bool train) {
    fx->cfg = validated_config(model_text(train));
    fx->s = wb_session_create(NULL, 0);
    fx->s->find_module = wb_registry_find_module;
    fx->s->find_user = g_reg;
    char err[1024], path[512];
    ck_assert_msg(wb_model_build(fx->s, wb_config_params(fx->cfg, "model"), &fx->m, err, sizeof err) == WB_OK, "%s",
                  err);
    snprintf(path, sizeof path, "%s/faster_rcnn_weights.safetensors", WB_PARITY_DIR);
    wb_load_report r;
    ck_assert_msg(wb_checkpoint_load(path, fx->s, NULL, &r, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_msg(r.missing == 0 && r.unexpected == 0 && r.shape_mismatched == 0,
                  "missing %d (first %s), unexpected %d (first %s), mismatched %d (first %s)", r.missing,
                  r.first_missing, r.unexpected, r.first_unexpected, r.shape_mismatched, r.first_mismatch);
    fx->head = wb_model_head(fx->m);
    fx->e = (wbt_env){fx->s, fx->head->ctx, &fx->head->ctx.pub};
}

static void teardown(fixture *fx) {
    wb_model_destroy(fx->m);
    wb_session_destroy(fx->s);
    wb_config_free(fx->cfg);
}

static void assert_rel_close(const char *what, const float *a, const float *b, int64_t n, double tol) {
    double max_diff = wbt_max_abs_diff(a, b, n), max_ref = 0;
    for (int64_t i = 0; i < n; i++) max_ref = fmax(max_ref, fabs(b[i]));
    double rel = max_diff / (max_ref > 0 ? max_ref : 1.0);
    printf("  %-48s max abs diff %.3g, max |ref| %.3g, relative %.3g\n", what, max_diff, max_ref, rel);
    ck_assert_msg(rel <= tol, "%s: max abs diff %.6g is %.3g of max |ref| %.6g (tolerance %g)", what, max_diff, rel,
                  max_ref, tol);
}

static wb_batch_truth input_meta(wb_gt_image imgs[2], int h, int w) {
    for (int i = 0; i < 2; i++)
        imgs[i] = (wb_gt_image){sizeof(wb_gt_image), 0, NULL, NULL, NULL, h, w, h, w, 1.0f, 1.0f, i, 0, 0};
    return (wb_batch_truth){sizeof(wb_batch_truth), 2, h, w, imgs};
}

/* Every box of ours within tol px of a distinct box of the reference. */
static double match_boxes(const char *what, const float *ours, int n, const float *ref, double tol) {
    bool *used = calloc((size_t)n + 1, 1);
    double worst = 0;
    for (int k = 0; k < n; k++) {
        int best = -1;
        double best_d = INFINITY;
        for (int j = 0; j < n; j++) {
            if (used[j]) continue;
            double d = 0;
            for (int c = 0; c < 4; c++) d = fmax(d, fabs(ours[4 * k + c] - ref[4 * j + c]));
            if (d < best_d) best_d = d, best = j;
        }
        ck_assert_msg(best >= 0 && best_d <= tol, "%s: box %d (%.3f %.3f %.3f %.3f) is %.3g px from the nearest of "
                      "torchvision's (tolerance %g)", what, k, ours[4 * k], ours[4 * k + 1], ours[4 * k + 2],
                      ours[4 * k + 3], best_d, tol);
        used[best] = true;
        worst = fmax(worst, best_d);
    }
    free(used);
    return worst;
}

static wb_tensor *param(wb_session *s, const char *name) {
    wb_param_entry *p = wb_session_find(s, name);
    ck_assert_msg(p != NULL, "no parameter %s", name);
    return p->tensor;
}

/* The box head on torchvision's proposals, written with core ops: pooled
 * by torchvision's level rule from our P2-P5, two fcs, the predictor. */
static void check_box_head(fixture *fx, const wb_st_file *f, wb_tensor *const *feats) {
    const wb_st_tensor *p0 = wb_st_find(f, "proposals0"), *p1 = wb_st_find(f, "proposals1");
    int64_t k0 = p0->shape[0], k1 = p1->shape[0], k = k0 + k1;
    float *rois = malloc((size_t)k * 5 * sizeof(float));
    for (int64_t i = 0; i < k; i++) {
        const float *b = i < k0 ? p0->data + 4 * i : p1->data + 4 * (i - k0);
        rois[5 * i] = i < k0 ? 0.0f : 1.0f;
        memcpy(rois + 5 * i + 1, b, 4 * sizeof(float));
    }
    int64_t rs[2] = {k, 5};
    wb_ctx *ctx = fx->e.ctx;
    wb_tensor *r = wbt_from(&fx->e, 2, rs, rois);
    const float scales[4] = {0.25f, 0.125f, 0.0625f, 0.03125f};
    wb_roi_levels lv = wb_roi_levels_torchvision();
    wb_tensor *x = wb_multiscale_roi_align(ctx, feats, 4, scales, r, 7, 7, 2, 0, &lv);
    int64_t flat[2] = {k, 256 * 49};
    x = wb_reshape(ctx, x, 2, flat);
    x = wb_relu(ctx, wb_linear(ctx, x, param(fx->s, "head.bbox_head.shared_fcs.0.weight"),
                               param(fx->s, "head.bbox_head.shared_fcs.0.bias")));
    x = wb_relu(ctx, wb_linear(ctx, x, param(fx->s, "head.bbox_head.shared_fcs.1.weight"),
                               param(fx->s, "head.bbox_head.shared_fcs.1.bias")));
    wb_tensor *logits = wb_linear(ctx, x, param(fx->s, "head.bbox_head.fc_cls.weight"),
                                  param(fx->s, "head.bbox_head.fc_cls.bias"));
    wb_tensor *deltas = wb_linear(ctx, x, param(fx->s, "head.bbox_head.fc_reg.weight"),
                                  param(fx->s, "head.bbox_head.fc_reg.bias"));
    ck_assert_msg(wb_ok(ctx) == WB_OK, "%s", fx->head->ctx.msg);
    assert_rel_close("box head logits [K, 91] (background last)", logits->data, wbt_parity_tensor(f, "logits", k * 91),
                     k * 91, REL_TOL);
    assert_rel_close("box head deltas [K, 360]", deltas->data, wbt_parity_tensor(f, "deltas", k * 360), k * 360,
                     REL_TOL);
    free(rois);
}

START_TEST(test_eval_matches_torchvision) {
    wb_st_file f;
    if (!wbt_parity_open("faster_rcnn_eval", &f)) return;
    fixture fx;
    build(&fx, false);
    const wb_st_tensor *xt = wb_st_find(&f, "x");
    int h = (int)xt->shape[2], w = (int)xt->shape[3];
    wb_tensor *x = wbt_from(&fx.e, xt->ndim, xt->shape, xt->data);
    char err[1024];
    ck_assert_msg(wb_model_forward(fx.m, x, false, err, sizeof err) == WB_OK, "%s", err);
    printf("Faster R-CNN R-50-FPN (eval, randomised frozen BN) vs torchvision, input 2x3x%dx%d:\n", h, w);
    wb_tensor **out = fx.head->out;
    for (int l = 0; l < LEVELS; l++) {
        char name[32], what[64];
        snprintf(name, sizeof name, "rpn_cls%d", l);
        snprintf(what, sizeof what, "RPN objectness, level %d", l);
        assert_rel_close(what, out[l]->data, wbt_parity_tensor(&f, name, out[l]->numel), out[l]->numel, REL_TOL);
        snprintf(name, sizeof name, "rpn_reg%d", l);
        snprintf(what, sizeof what, "RPN deltas, level %d", l);
        assert_rel_close(what, out[LEVELS + l]->data, wbt_parity_tensor(&f, name, out[LEVELS + l]->numel),
                         out[LEVELS + l]->numel, REL_TOL);
    }
    /* The proposals, from the head's own RPN sub-module. */
    const roi_head *rh = fx.head->instance;
    wb_gt_image imgs[2];
    wb_batch_truth meta = input_meta(imgs, h, w);
    wb_detections props[2];
    ck_assert_msg(wb_submodule_predict(fx.e.ctx, rh->det.rpn, out, 2 * LEVELS, &meta, props) == WB_OK, "%s",
                  fx.head->ctx.msg);
    for (int i = 0; i < 2; i++) {
        char name[32], what[64];
        snprintf(name, sizeof name, "num_proposals%d", i);
        int want = (int)wbt_parity_attr(&f, name);
        snprintf(name, sizeof name, "proposals%d", i);
        snprintf(what, sizeof what, "proposals of image %d", i);
        ck_assert_msg(props[i].num == want, "image %d: %d proposals, torchvision %d", i, props[i].num, want);
        double worst = match_boxes(what, props[i].boxes, want, wbt_parity_tensor(&f, name, 4 * want), BOX_TOL);
        printf("  image %d: %d proposals, each within %.3g px of torchvision's\n", i, want, worst);
    }
    wb_submodule_release_detections(rh->det.rpn, props, 2);
    check_box_head(&fx, &f, out + 2 * LEVELS);
    wb_detections dets[2];
    ck_assert_msg(wb_model_predict(fx.m, &meta, dets, err, sizeof err) == WB_OK, "%s", err);
    for (int i = 0; i < 2; i++) {
        char nb[32], ns[32], nl[32];
        snprintf(nb, sizeof nb, "num_dets%d", i);
        int want = (int)wbt_parity_attr(&f, nb);
        ck_assert_msg(dets[i].num == want, "image %d: %d detections, torchvision %d", i, dets[i].num, want);
        snprintf(nb, sizeof nb, "det_boxes%d", i);
        snprintf(ns, sizeof ns, "det_scores%d", i);
        snprintf(nl, sizeof nl, "det_labels%d", i);
        const float *boxes = wbt_parity_tensor(&f, nb, 4 * want), *scores = wbt_parity_tensor(&f, ns, want);
        const float *labels = wbt_parity_tensor(&f, nl, want);
        double worst_box = 0, worst_score = 0;
        for (int k = 0; k < want; k++) { /* the same boxes, labels and scores; ties may swap places */
            int match = -1;
            for (int j = 0; j < want && match < 0; j++) {
                double d = 0;
                for (int c = 0; c < 4; c++) d = fmax(d, fabs(dets[i].boxes[4 * k + c] - boxes[4 * j + c]));
                if ((int)labels[j] == dets[i].labels[k] && d <= BOX_TOL && fabs(scores[j] - dets[i].scores[k]) <= 1e-5)
                    match = j, worst_box = fmax(worst_box, d), worst_score = fmax(worst_score, fabs(scores[j] - dets[i].scores[k]));
            }
            ck_assert_msg(match >= 0, "image %d detection %d (label %d, score %.7g) has no equal in torchvision's", i,
                          k, dets[i].labels[k], dets[i].scores[k]);
        }
        printf("  image %d: %d detections match, max box diff %.3g px, max score diff %.3g\n", i, want, worst_box,
               worst_score);
    }
    wb_model_release_detections(fx.m, dets, 2);
    teardown(&fx);
    wb_st_free(&f);
}
END_TEST

START_TEST(test_train_losses_and_gradients_match_torchvision) {
    wb_st_file f, fe;
    if (!wbt_parity_open("faster_rcnn_train", &f) || !wbt_parity_open("faster_rcnn_eval", &fe)) return;
    fixture fx;
    build(&fx, true);
    const wb_st_tensor *xt = wb_st_find(&fe, "x");
    int h = (int)xt->shape[2], w = (int)xt->shape[3];
    wb_tensor *x = wbt_from(&fx.e, xt->ndim, xt->shape, xt->data);
    char err[1024];
    ck_assert_msg(wb_model_forward(fx.m, x, true, err, sizeof err) == WB_OK, "%s", err);
    wb_gt_image imgs[2];
    wb_batch_truth truth = input_meta(imgs, h, w);
    static int labels[2][8];
    static uint8_t ignore[8];
    for (int i = 0; i < 2; i++) {
        char bn[16], ln[16];
        snprintf(bn, sizeof bn, "boxes%d", i);
        snprintf(ln, sizeof ln, "labels%d", i);
        const wb_st_tensor *b = wb_st_find(&f, bn), *lab = wb_st_find(&f, ln);
        for (int k = 0; k < lab->numel; k++) labels[i][k] = (int)lab->data[k];
        imgs[i].num_boxes = (int)b->shape[0];
        imgs[i].boxes = b->data;
        imgs[i].labels = labels[i];
        imgs[i].ignore = ignore;
    }
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n_terms = 0;
    ck_assert_msg(wb_model_loss(fx.m, &truth, terms, &n_terms, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(n_terms, 5);
    printf("Faster R-CNN R-50-FPN (training, every candidate sampled) vs torchvision:\n");
    const char *names[4] = {"loss_rpn_cls", "loss_rpn_bbox", "loss_cls", "loss_bbox"};
    const int at[4] = {0, 1, 2, 4}; /* terms[3] is acc (mmdetection's order), a metric torchvision does not log */
    ck_assert_str_eq(terms[3].name, "acc");
    for (int i = 0; i < 4; i++) {
        ck_assert_str_eq(terms[at[i]].name, names[i]);
        float want = wbt_parity_tensor(&f, names[i], 1)[0], got = terms[at[i]].value->data[0];
        printf("  %-48s ours %.7g, torchvision %.7g\n", names[i], got, want);
        wbt_assert_close(names[i], &got, &want, 1, 0.0, REL_TOL);
    }
    ck_assert_msg(wb_model_backward(fx.m, terms, n_terms, err, sizeof err) == WB_OK, "%s", err);
    int checked = 0;
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *ref = &f.tensors[i];
        if (strncmp(ref->name, "grad:", 5) != 0) continue;
        wb_param_entry *p = wb_session_find(fx.s, ref->name + 5);
        ck_assert_msg(p && p->tensor->grad_valid, "no gradient for %s", ref->name + 5);
        assert_rel_close(ref->name, p->tensor->grad, ref->data, ref->numel, REL_TOL);
        checked++;
    }
    ck_assert_int_eq(checked, 8);
    teardown(&fx);
    wb_st_free(&f);
    wb_st_free(&fe);
}
END_TEST

int main(void) {
    if (!load_plugins()) return 1;
    Suite *s = suite_create("faster_rcnn_parity");
    TCase *tc = tcase_create("faster_rcnn_parity");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_eval_matches_torchvision);
    tcase_add_test(tc, test_train_losses_and_gradients_match_torchvision);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
