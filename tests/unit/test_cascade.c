/* cascade_roi_head: stage 0 equals roi_head on the same weights, the
 * stages' loss weights, test-time score averaging (all through the
 * plugins), and the re-assignment of refined boxes with each stage's IoU
 * threshold (plugins/common/two_stage compiled in, white box). Features are
 * random, P2-P6 of a 64x64 batch of two; the samplers take every candidate
 * so that both heads see the same RoIs. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app/experiment.h"
#include "config/config.h"
#include "model/model.h"
#include "wbtest.h"
#include "roi_stage.h"

#define LEVELS 5
#define SIDE 64

static wb_registry *g_reg;

static bool load_plugins(void) {
    g_reg = wb_registry_new();
    const char *files[] = {WB_PLUGIN_BUILD_DIR "/wb_head_roi_head.so", WB_PLUGIN_BUILD_DIR "/wb_head_rpn_head.so",
                           WB_PLUGIN_BUILD_DIR "/wb_head_cascade_roi_head.so", WB_PLUGIN_BUILD_DIR "/wb_loss_basic.so"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (wb_registry_load_file(g_reg, files[i], "test") != WB_OK) {
            fprintf(stderr, "cannot load %s: %s\n", files[i], wb_registry_error(g_reg));
            return false;
        }
    return true;
}

static const char *COMMON =
    "num_classes = 3; fc_channels = 16; reg_class_agnostic = true; sampler_num = 100000; score_thr = 0.0;\n"
    "rpn = { type = \"rpn_head\"; feat_channels = 8; sampler_num = 100000; nms_pre = 50; max_per_img = 30;\n"
    "        train_nms_pre = 50; train_max_per_img = 30; };\n";

typedef struct head_env {
    wb_config *cfg;
    wb_session *s;
    wb_module_slot slot;
    wbt_env e;
} head_env;

static void head_create(head_env *h, const char *type, const char *extra) {
    char text[2048], path[] = "/tmp/wb_cascade_XXXXXX";
    snprintf(text, sizeof text, "head = { type = \"%s\"; %s %s };\n", type, COMMON, extra);
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    h->cfg = wb_config_new();
    wb_module_lookup lk = wb_registry_module_lookup(g_reg);
    ck_assert(wb_config_load(h->cfg, path) == 0);
    unlink(path);
    wb_config_validate_module(h->cfg, "head", WB_KIND_HEAD, &lk);
    if (wb_config_error_count(h->cfg) > 0) wb_config_print_errors(h->cfg, stderr);
    ck_assert_int_eq(wb_config_error_count(h->cfg), 0);
    h->s = wb_session_create(NULL, 0);
    h->s->find_module = wb_registry_find_module;
    h->s->find_user = g_reg;
    wb_feature_spec in[LEVELS];
    for (int l = 0; l < LEVELS; l++) {
        in[l] = (wb_feature_spec){"", 8, 4 << l};
        snprintf(in[l].name, sizeof in[l].name, "p%d", l + 2);
    }
    char err[1024];
    ck_assert_msg(wb_slot_create(&h->slot, h->s, wb_registry_find_module(g_reg, WB_KIND_HEAD, type), "head",
                                 wb_config_params(h->cfg, "head"), in, LEVELS, err, sizeof err) == WB_OK, "%s", err);
    h->e = (wbt_env){h->s, h->slot.ctx, &h->slot.ctx.pub};
}

static void head_free(head_env *h) {
    wb_slot_destroy(&h->slot);
    wb_session_destroy(h->s);
    wb_config_free(h->cfg);
}

static float *param_data(head_env *h, const char *name, int64_t *numel) {
    wb_param_entry *p = wb_session_find(h->s, name);
    ck_assert_msg(p != NULL, "no parameter %s", name);
    if (numel) *numel = p->tensor->numel;
    return p->tensor->data;
}

/* Same random features for every head. */
static void forward(head_env *h, bool train) {
    wb_tensor *x[LEVELS];
    uint64_t rng = 7;
    for (int l = 0; l < LEVELS; l++) {
        int64_t shape[4] = {2, 8, SIDE >> (l + 2), SIDE >> (l + 2)};
        x[l] = wbt_random(&h->e, 4, shape, -1.0f, 1.0f, &rng);
    }
    char err[1024];
    ck_assert_msg(wb_slot_forward(&h->slot, x, LEVELS, SIDE, SIDE, train, err, sizeof err) == WB_OK, "%s", err);
}

static const float BOXES0[] = {4, 6, 30, 34, 36, 30, 60, 58};
static const float BOXES1[] = {10, 8, 50, 40};
static const int LABELS0[] = {0, 2}, LABELS1[] = {1};
static const uint8_t NO_IGNORE[2] = {0, 0};

static wb_batch_truth truth(wb_gt_image imgs[2]) {
    imgs[0] = (wb_gt_image){sizeof(wb_gt_image), 2, BOXES0, LABELS0, NO_IGNORE, SIDE, SIDE, SIDE, SIDE, 1, 1, 0, 0, 0};
    imgs[1] = (wb_gt_image){sizeof(wb_gt_image), 1, BOXES1, LABELS1, NO_IGNORE, SIDE, SIDE, SIDE, SIDE, 1, 1, 1, 0, 0};
    return (wb_batch_truth){sizeof(wb_batch_truth), 2, SIDE, SIDE, imgs};
}

static int losses(head_env *h, wb_loss_term *terms) {
    forward(h, true);
    wb_gt_image imgs[2];
    wb_batch_truth t = truth(imgs);
    int n = 0;
    char err[1024];
    ck_assert_msg(wb_slot_loss(&h->slot, &t, 0, terms, &n, err, sizeof err) == WB_OK, "%s", err);
    return n;
}

static float term(const wb_loss_term *terms, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(terms[i].name, name) == 0) return terms[i].value->data[0];
    ck_abort_msg("no loss term %s", name);
    return NAN;
}

START_TEST(test_stage0_equals_faster_rcnn_head) {
    head_env f, c;
    head_create(&f, "roi_head", "target_stds = [0.1, 0.1, 0.2, 0.2];");
    head_create(&c, "cascade_roi_head", "");
    static const char *names[] = {"shared_fcs.0.weight", "shared_fcs.0.bias", "shared_fcs.1.weight",
                                  "shared_fcs.1.bias", "fc_cls.weight", "fc_cls.bias", "fc_reg.weight", "fc_reg.bias"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char a[96], b[96];
        snprintf(a, sizeof a, "head.bbox_head.%s", names[i]);
        snprintf(b, sizeof b, "head.bbox_head.0.%s", names[i]);
        int64_t n = 0, m = 0;
        float *src = param_data(&f, a, &n), *dst = param_data(&c, b, &m);
        ck_assert_int_eq(n, m);
        memcpy(dst, src, (size_t)n * sizeof(float));
    }
    /* The RPNs have the same path, hence the same initial weights. */
    int64_t n = 0;
    ck_assert(memcmp(param_data(&f, "head.rpn.rpn_conv.weight", &n), param_data(&c, "head.rpn.rpn_conv.weight", NULL),
                     (size_t)n * sizeof(float)) == 0);
    wb_loss_term tf[WB_MAX_LOSS_TERMS], tc[WB_MAX_LOSS_TERMS];
    int nf = losses(&f, tf), nc = losses(&c, tc);
    ck_assert_int_eq(nf, 5);
    ck_assert_int_eq(nc, 11);
    const char *pairs[5][2] = {{"loss_rpn_cls", "loss_rpn_cls"}, {"loss_rpn_bbox", "loss_rpn_bbox"},
                               {"loss_cls", "s0.loss_cls"}, {"acc", "s0.acc"}, {"loss_bbox", "s0.loss_bbox"}};
    for (int i = 0; i < 5; i++) {
        float a = term(tf, nf, pairs[i][0]), b = term(tc, nc, pairs[i][1]);
        printf("  roi_head %-14s %.8g, cascade %-14s %.8g\n", pairs[i][0], a, pairs[i][1], b);
        ck_assert_msg(a == b, "%s %.9g differs from %s %.9g", pairs[i][0], a, pairs[i][1], b);
    }
    ck_assert_msg(term(tf, nf, "loss_bbox") > 0.0f, "no positive RoI: the case tests nothing");
    ck_assert_str_eq(tf[3].name, "acc"); /* mmdetection's order: loss_cls, acc, loss_bbox */
    ck_assert(term(tf, nf, "acc") >= 0.0f && term(tf, nf, "acc") <= 100.0f);
    head_free(&f);
    head_free(&c);
}
END_TEST

START_TEST(test_stage_loss_weights) {
    head_env one, w;
    head_create(&one, "cascade_roi_head", "stage_loss_weights = [1.0, 1.0, 1.0];");
    head_create(&w, "cascade_roi_head", "stage_loss_weights = [1.0, 0.5, 0.25];");
    wb_loss_term a[WB_MAX_LOSS_TERMS], b[WB_MAX_LOSS_TERMS];
    int na = losses(&one, a), nb = losses(&w, b);
    const float weight[3] = {1.0f, 0.5f, 0.25f};
    for (int s = 0; s < 3; s++) {
        char cls[32], box[32], acc[32];
        snprintf(cls, sizeof cls, "s%d.loss_cls", s);
        snprintf(box, sizeof box, "s%d.loss_bbox", s);
        snprintf(acc, sizeof acc, "s%d.acc", s);
        printf("  stage %d: loss_cls %.6g -> %.6g, loss_bbox %.6g -> %.6g, acc %.4g%%\n", s, term(a, na, cls),
               term(b, nb, cls), term(a, na, box), term(b, nb, box), term(b, nb, acc));
        ck_assert_float_eq_tol(term(b, nb, cls), weight[s] * term(a, na, cls), 1e-6f * term(a, na, cls));
        ck_assert_float_eq_tol(term(b, nb, box), weight[s] * term(a, na, box), 1e-6f * term(a, na, box) + 1e-12f);
        ck_assert_float_eq(term(b, nb, acc), term(a, na, acc)); /* a metric: never weighted */
        ck_assert(term(a, na, cls) > 0.0f);
    }
    head_free(&one);
    head_free(&w);
}
END_TEST

/* Every stage's classifier made constant (zero weights, bias b_s) and its
 * deltas zero: each detection's score is softmax(mean_s b_s) of its class. */
START_TEST(test_test_scores_are_averaged_over_stages) {
    head_env h;
    head_create(&h, "cascade_roi_head", "");
    const float bias[3][4] = {{2.0f, 0.0f, -1.0f, 0.5f}, {-1.0f, 1.0f, 0.5f, 0.0f}, {0.5f, -2.0f, 3.0f, 1.0f}};
    for (int s = 0; s < 3; s++) {
        static const char *const zeroed[] = {"fc_cls.weight", "fc_reg.weight", "fc_reg.bias"};
        char name[64];
        int64_t n = 0;
        for (int i = 0; i < 3; i++) {
            snprintf(name, sizeof name, "head.bbox_head.%d.%s", s, zeroed[i]);
            float *v = param_data(&h, name, &n);
            memset(v, 0, (size_t)n * sizeof(float));
        }
        snprintf(name, sizeof name, "head.bbox_head.%d.fc_cls.bias", s);
        float *b = param_data(&h, name, &n);
        ck_assert_int_eq(n, 4);
        memcpy(b, bias[s], sizeof bias[s]);
    }
    double mean[4], p[4], z = 0;
    for (int c = 0; c < 4; c++) mean[c] = (bias[0][c] + bias[1][c] + bias[2][c]) / 3.0;
    for (int c = 0; c < 4; c++) z += exp(mean[c]);
    for (int c = 0; c < 4; c++) p[c] = exp(mean[c]) / z;
    forward(&h, false);
    wb_gt_image imgs[2];
    wb_batch_truth meta = truth(imgs);
    wb_detections dets[2];
    memset(dets, 0, sizeof dets); /* as the core hands them over */
    ck_assert_msg(h.slot.desc->module->predict(h.slot.instance, h.e.ctx, h.slot.out, h.slot.n_out, &meta, dets) ==
                  WB_OK, "%s", h.slot.ctx.msg);
    int seen[3] = {0};
    for (int i = 0; i < 2; i++) {
        ck_assert(dets[i].num > 0);
        for (int k = 0; k < dets[i].num; k++) {
            int c = dets[i].labels[k];
            ck_assert_float_eq_tol(dets[i].scores[k], p[c], 1e-6);
            seen[c]++;
        }
        h.slot.desc->module->release_detections(h.slot.instance, &dets[i]);
    }
    printf("  scores softmax(mean of 3 stages' logits) = %.5f %.5f %.5f; detections per class %d %d %d\n", p[0],
           p[1], p[2], seen[0], seen[1], seen[2]);
    ck_assert(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    head_free(&h);
}
END_TEST

/* mmdetection's accuracy(cls_score, labels) on 5 hand-built RoIs of 3
 * classes + background (last): the argmax is the label in rows 0, 2 and 4
 * (row 4 a background RoI), not in row 1; row 3 ties classes 0 and 1 and
 * torch.topk's first index (0) is not its label 1: 3 of 5 right = 60%. */
START_TEST(test_accuracy_as_mmdet) {
    const float logits[5][4] = {{2.0f, 1.0f, 0.0f, -1.0f},
                                {0.5f, 0.1f, 0.2f, 0.3f},
                                {-3.0f, -2.0f, -1.0f, -4.0f},
                                {1.0f, 1.0f, 0.0f, 0.0f},
                                {0.0f, 0.1f, 0.2f, 0.9f}};
    const int labels[5] = {0, 3, 2, 1, 3};
    ck_assert_float_eq(ts_accuracy(&logits[0][0], labels, 5, 4), 60.0f);
    ck_assert_float_eq(ts_accuracy(&logits[0][0], labels, 3, 4), 2.0f * (float)(100.0 / 3.0));
    ck_assert_float_eq(ts_accuracy(&logits[0][0], labels, 0, 4), 0.0f);
}
END_TEST

/* Stage 1 (IoU 0.5) and stage 2 (0.6) on hand-built boxes: P0 has IoU
 * 0.55 with the gt box, P1 0.45. Stage 1: P0 positive, P1 background.
 * Stage 1's deltas leave P0 where it is and move P1 onto the box; the
 * truth re-assigned on the refined boxes at 0.6 makes P0 background and
 * P1 positive. */
START_TEST(test_reassignment_on_refined_boxes) {
    wbt_env e;
    wbt_env_init(&e, NULL, 3);
    const float gt[4] = {10, 10, 50, 50};
    const int label[1] = {2};
    const uint8_t no_ignore[1] = {0};
    wb_gt_image img = {sizeof img, 1, gt, label, no_ignore, 64, 64, 64, 64, 1, 1, 0, 0, 0};
    wb_batch_truth t = {sizeof t, 1, 64, 64, &img};
    float props[8] = {10, 10, 32, 50, 10, 10, 28, 50}; /* inside the gt box: IoU 880/1600, 720/1600 */
    int64_t count = 2;
    float *boxes[1] = {props};
    ts_boxes p = {1, &count, boxes};
    ts_roi_stage_cfg cfg = {.num_classes = 3, .assigner = {0.5f, 0.5f, 0.5f, 0, -1.0f}, .sampler_num = 1000,
                            .add_gt = 0, .pos_fraction = 1.0f, .means = {0, 0, 0, 0}, .stds = {0.1f, 0.1f, 0.2f, 0.2f}};
    ts_roi_batch b1 = {0}, b2 = {0};
    ck_assert(ts_roi_sample(e.ctx, &cfg, &p, &t, &b1) == WB_OK);
    ck_assert_int_eq(b1.k, 2); /* positives first */
    ck_assert(memcmp(b1.boxes, props, 4 * sizeof(float)) == 0);
    ck_assert_int_eq(b1.labels[0], 2);
    ck_assert_int_eq(b1.labels[1], 3);
    /* stage 1's class-agnostic deltas: none for P0, P1's encoded gt box */
    float reg[8] = {0}, refined[8];
    e.ctx->host->box_encode(b1.boxes + 4, gt, 1, cfg.means, cfg.stds, reg + 4);
    ts_bbox_head head = {.num_classes = 3, .class_agnostic = 1};
    ts_refine(e.ctx->host, &cfg, &head, b1.boxes, b1.counts, 1, &t, reg, b1.labels, refined);
    for (int j = 0; j < 4; j++) ck_assert_float_eq_tol(refined[4 + j], gt[j], 1e-4f);
    float *next[1] = {refined};
    ts_boxes p2 = {1, b1.counts, next};
    ts_roi_stage_cfg cfg2 = cfg;
    cfg2.assigner.pos_iou_thr = cfg2.assigner.neg_iou_thr = cfg2.assigner.min_pos_iou = 0.6f;
    ck_assert(ts_roi_sample(e.ctx, &cfg2, &p2, &t, &b2) == WB_OK);
    ck_assert_int_eq(b2.k, 2);
    ck_assert(memcmp(b2.boxes, refined + 4, 4 * sizeof(float)) == 0); /* the refined P1, now positive */
    ck_assert_int_eq(b2.labels[0], 2);
    ck_assert(memcmp(b2.boxes + 4, props, 4 * sizeof(float)) == 0); /* P0, now background */
    ck_assert_int_eq(b2.labels[1], 3);
    printf("  P0 (IoU 0.55): stage 1 positive, stage 2 background; P1 (0.45) refined onto the box: background, "
           "then positive\n");
    ts_roi_batch_free(&b1);
    ts_roi_batch_free(&b2);
    wbt_env_free(&e);
}
END_TEST

int main(void) {
    if (!load_plugins()) return 1;
    Suite *s = suite_create("cascade");
    TCase *tc = tcase_create("cascade");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_stage0_equals_faster_rcnn_head);
    tcase_add_test(tc, test_stage_loss_weights);
    tcase_add_test(tc, test_test_scores_are_averaged_over_stages);
    tcase_add_test(tc, test_reassignment_on_refined_boxes);
    tcase_add_test(tc, test_accuracy_as_mmdet);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
