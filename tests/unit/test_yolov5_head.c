/* yolov5_head on hand-worked cases (its parity with YOLOv5's own code is
 * test_yolov5_head_parity): build_targets' anchors and neighbour cells for
 * boxes whose grid coordinates are worked out below, the decoded detection
 * of one confident cell through the letterbox, multi-label, single-label and
 * agnostic NMS, the objectness loss of an image without boxes, the prior
 * biases, check_anchor_order, and the configuration errors. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app/experiment.h"
#include "config/config.h"
#include "model/model.h"
#include "wbtest.h"
/* white box: the target builder is a plain function of the head's settings */
#include "../../plugins/heads/yolov5_head/targets.c"

static wb_registry *g_reg;

static const float k_default_anchors[18] = {10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, 198, 373, 326};

/* ---- build_targets ---- */

/* Level 0 (stride 8) of an 8 x 8 map, YOLOv5's P3 anchors (grid units
 * 1.25 x 1.625, 2 x 3.75, 4.125 x 2.875), anchor_t 4.
 * Image 0: A (10, 38, 26, 54): centre (2.25, 5.75), 2 x 2 cells: every anchor
 *            matches (largest ratio 1.6, 1.875, 2.06); x in the left half of
 *            its cell -> the left neighbour (gi 1), y in the lower half with
 *            8 - 5.75 = 2.25 > 1 -> the cell below (gj 6).
 *          B (0, 0, 64, 64): 8 x 8 cells, only anchor 2 (ratio 2.78; anchor
 *            1's 8 / 2 = 4 is not below anchor_t); centre (4, 4) on a cell
 *            corner: all four neighbours.
 *          D: ignored, no target.
 * Image 1: C (0, 0, 6, 6): centre (0.375, 0.375), 0.75 cells: anchor 0 only;
 *            no neighbour (gx > 1 fails, 7.625 % 1 >= 0.5). */
START_TEST(test_targets_match_hand_worked_cells) {
    yolov5_head h = {.num_classes = 3, .n_levels = 1, .na = 3, .no = 8, .strides = {8}, .anchor_t = 4.0f};
    const float boxes0[12] = {10, 38, 26, 54, 0, 0, 64, 64, 20, 20, 30, 30}, boxes1[4] = {0, 0, 6, 6};
    const int labels0[3] = {2, 1, 0}, labels1[1] = {1};
    const uint8_t ignore0[3] = {0, 0, 1}, ignore1[1] = {0};
    wb_gt_image imgs[2] = {{.struct_size = sizeof(wb_gt_image), .num_boxes = 3, .boxes = boxes0, .labels = labels0,
                            .ignore = ignore0},
                           {.struct_size = sizeof(wb_gt_image), .num_boxes = 1, .boxes = boxes1, .labels = labels1,
                            .ignore = ignore1}};
    wb_batch_truth truth = {sizeof truth, 2, 64, 64, imgs};
    ck_assert_int_eq(yolov5_max_targets(&h, &truth), 4 * 3 * 5);
    yolov5_target t[60];
    int n = yolov5_build_targets(&h, k_default_anchors, 0, 8, 8, &truth, t);
    /* offset-major, then anchor, then box: YOLOv5's order */
    static const int want[15][5] = {
        /* b, a, gj, gi, cls */
        {0, 0, 5, 2, 2}, {1, 0, 0, 0, 1}, {0, 1, 5, 2, 2}, {0, 2, 5, 2, 2}, {0, 2, 4, 4, 1}, /* own cells */
        {0, 0, 5, 1, 2}, {0, 1, 5, 1, 2}, {0, 2, 5, 1, 2}, {0, 2, 4, 3, 1},                  /* left */
        {0, 2, 3, 4, 1},                                                                      /* above */
        {0, 2, 4, 4, 1},                                                                      /* right: 4.5 -> 4 */
        {0, 0, 6, 2, 2}, {0, 1, 6, 2, 2}, {0, 2, 6, 2, 2}, {0, 2, 4, 4, 1},                  /* below */
    };
    ck_assert_int_eq(n, 15);
    for (int i = 0; i < n; i++)
        ck_assert_msg(t[i].b == want[i][0] && t[i].a == want[i][1] && t[i].gj == want[i][2] &&
                          t[i].gi == want[i][3] && t[i].cls == want[i][4],
                      "target %d: b %d a %d gj %d gi %d cls %d, want %d %d %d %d %d", i, t[i].b, t[i].a, t[i].gj,
                      t[i].gi, t[i].cls, want[i][0], want[i][1], want[i][2], want[i][3], want[i][4]);
    /* box targets relative to the (clamped) cell, sizes and anchors in grid units */
    const float own[4] = {0.25f, 0.75f, 2.0f, 2.0f}, left[4] = {1.25f, 0.75f, 2.0f, 2.0f},
                below[4] = {0.25f, -0.25f, 2.0f, 2.0f}, corner_right[4] = {0.0f, 0.0f, 8.0f, 8.0f};
    wbt_assert_close("own cell box", t[0].box, own, 4, 1e-6, 0);
    wbt_assert_close("left cell box", t[5].box, left, 4, 1e-6, 0);
    wbt_assert_close("cell below box", t[11].box, below, 4, 1e-6, 0);
    wbt_assert_close("right of a corner box", t[10].box, corner_right, 4, 1e-6, 0);
    const float anchor2[2] = {4.125f, 2.875f};
    wbt_assert_close("anchor in grid units", t[3].anchor, anchor2, 2, 1e-9, 0); /* exact */
}
END_TEST

/* ---- the plugin through its slot ---- */

static wb_config *head_config(const char *body) {
    char text[2048], path[] = "/tmp/wb_yolov5_head_unit_XXXXXX";
    snprintf(text, sizeof text, "head = { type = \"yolov5_head\"; %s };\n", body);
    int fd = mkstemp(path);
    ck_assert(fd >= 0);
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    wb_config *cfg = wb_config_new();
    wb_module_lookup lk = wb_registry_module_lookup(g_reg);
    ck_assert(wb_config_load(cfg, path) == 0);
    unlink(path);
    wb_config_validate_module(cfg, "head", WB_KIND_HEAD, &lk);
    if (wb_config_error_count(cfg) > 0) wb_config_print_errors(cfg, stderr);
    ck_assert_int_eq(wb_config_error_count(cfg), 0);
    return cfg;
}

typedef struct head_env {
    wb_config *cfg;
    wb_session *s;
    wb_module_slot head;
    wb_status st;
    char err[1024];
} head_env;

/* Three levels of 4 channels at strides 8, 16, 32 (unless strides given). */
static void head_create(head_env *e, const char *body, const int *strides) {
    static const int k_strides[3] = {8, 16, 32};
    if (!strides) strides = k_strides;
    e->cfg = head_config(body);
    e->s = wb_session_create(NULL, 0);
    wb_feature_spec in[3];
    for (int l = 0; l < 3; l++) {
        in[l] = (wb_feature_spec){"", 4, strides[l]};
        snprintf(in[l].name, sizeof in[l].name, "p%d", l + 3);
    }
    e->st = wb_slot_create(&e->head, e->s, wb_registry_find_module(g_reg, WB_KIND_HEAD, "yolov5_head"), "head",
                           wb_config_params(e->cfg, "head"), in, 3, e->err, sizeof e->err);
}

static void head_free(head_env *e) {
    wb_slot_destroy(&e->head);
    wb_session_destroy(e->s);
    wb_config_free(e->cfg);
}

static void expect_create_error(const char *body, const int *strides, const char *fragment) {
    head_env e;
    head_create(&e, body, strides);
    ck_assert_msg(e.st != WB_OK, "'%s' was accepted", body);
    ck_assert_msg(strstr(e.err, fragment), "'%s': error '%s' lacks '%s'", body, e.err, fragment);
    head_free(&e);
}

START_TEST(test_configuration_errors) {
    static const int wrong_strides[3] = {8, 16, 64};
    expect_create_error("num_classes = 2; anchors = [10, 13, 16, 30, 33, 23, 30, 61, 62, 45, 59, 119, 116, 90, 156, "
                        "198, 373];", NULL, "yolov5_head: anchors has 17 values; it needs the same number of (w, h) "
                        "pairs for each of the 3 levels");
    expect_create_error("num_classes = 2; balance = [4.0, 1.0];", NULL,
                        "yolov5_head: balance has 2 values but there are 3 levels");
    expect_create_error("num_classes = 2;", wrong_strides, "yolov5_head: input 2 (p5) has stride 64 but strides[2] is 32");
    expect_create_error("num_classes = 2; class_frequencies = [1.0, 2.0, 3.0];", NULL,
                        "yolov5_head: class_frequencies has 3 values for 2 classes");
}
END_TEST

/* _initialize_biases: PyTorch's uniform bias (bound 1/sqrt(4) = 0.5) plus
 * log(8 / (640 / s)^2) for objectness and log(0.6 / (K - 0.99999)) or
 * log(f_k / sum f) for the classes. */
static void check_priors(const char *body, const double *cls_prior) {
    head_env e;
    head_create(&e, body, NULL);
    ck_assert_msg(e.st == WB_OK, "%s", e.err);
    for (int l = 0; l < 3; l++) {
        char name[64];
        snprintf(name, sizeof name, "head.head_module.convs_pred.%d.bias", l);
        wb_param_entry *p = wb_session_find(e.s, name);
        ck_assert(p != NULL && p->tensor->numel == 3 * 7);
        double s = 8 << l, obj = log(8.0 / ((640.0 / s) * (640.0 / s)));
        for (int a = 0; a < 3; a++) {
            const float *b = p->tensor->data + a * 7;
            ck_assert_msg(fabs(b[4] - obj) <= 0.5 + 1e-6, "%s obj bias %g, prior %g", name, b[4], obj);
            for (int k = 0; k < 2; k++)
                ck_assert_msg(fabs(b[5 + k] - cls_prior[k]) <= 0.5 + 1e-6, "%s class %d bias %g, prior %g", name,
                              k, b[5 + k], cls_prior[k]);
            for (int k = 0; k < 4; k++) ck_assert(fabsf(b[k]) <= 0.5f);
        }
    }
    head_free(&e);
}

START_TEST(test_prior_biases) {
    const double even[2] = {log(0.6 / (2 - 0.99999)), log(0.6 / (2 - 0.99999))};
    check_priors("num_classes = 2;", even);
    const double freq[2] = {log(0.25), log(0.75)};
    check_priors("num_classes = 2; class_frequencies = [1.0, 3.0];", freq);
}
END_TEST

START_TEST(test_anchors_listed_largest_first_are_reversed) {
    head_env e;
    head_create(&e, "num_classes = 2; anchors = [116, 90, 156, 198, 373, 326, 30, 61, 62, 45, 59, 119, 10, 13, 16, "
                "30, 33, 23];", NULL);
    ck_assert_msg(e.st == WB_OK, "%s", e.err);
    wb_param_entry *p = wb_session_find(e.s, "head.anchors");
    ck_assert(p != NULL && p->is_buffer && p->tensor->numel == 18);
    wbt_assert_close("anchors", p->tensor->data, k_default_anchors, 18, 1e-9, 0); /* exact */
    head_free(&e);
}
END_TEST

/* The prediction maps of a 64 x 64 input ([1, 3 * 7, 8 >> l, 8 >> l], two
 * classes), every logit `fill`. */
static void make_preds(head_env *e, float fill, wb_tensor **preds) {
    wbt_env env = {e->s, e->head.ctx, &e->head.ctx.pub};
    static float data[3][21 * 64];
    for (int l = 0; l < 3; l++) {
        int64_t side = 8 >> l, shape[4] = {1, 21, side, side};
        for (int i = 0; i < 21 * side * side; i++) data[l][i] = fill;
        preds[l] = wbt_from(&env, 4, shape, data[l]);
    }
}

/* Level 0, anchor 1 (16 x 30), cell (y 2, x 3), logits 0 for the box and both
 * classes, 20 for objectness: centre ((2 * 0.5 - 0.5) + 3) * 8 = 28 and 20,
 * size (2 * 0.5)^2 * (16, 30): (20, 5, 36, 35) in the input; the letterbox
 * (scale 0.5, offset 4, 2) maps it to (32, 6, 64, 66), clipped to the 60 x
 * 100 original: (32, 6, 60, 66). Every other cell's objectness is
 * sigmoid(-20), below score_thr. */
static int predict_one_cell(const char *body, wb_detections *d) {
    head_env e;
    head_create(&e, body, NULL);
    ck_assert_msg(e.st == WB_OK, "%s", e.err);
    wb_tensor *preds[3];
    make_preds(&e, -20.0f, preds);
    float *p = preds[0]->data + 7 * 64; /* anchor 1 */
    const int cell = 2 * 8 + 3;
    for (int k = 0; k < 7; k++) p[k * 64 + cell] = k == 4 ? 20.0f : 0.0f;
    wb_gt_image img = {.struct_size = sizeof img, .img_h = 64, .img_w = 64, .ori_h = 100, .ori_w = 60,
                       .scale_x = 0.5f, .scale_y = 0.5f, .offset_x = 4.0f, .offset_y = 2.0f};
    wb_batch_truth meta = {sizeof meta, 1, 64, 64, &img};
    memset(d, 0, sizeof *d);
    ck_assert_msg(e.head.desc->module->predict(e.head.instance, &e.head.ctx.pub, preds, 3, &meta, d) == WB_OK, "%s",
                  e.head.ctx.msg);
    int n = d->num;
    const float box[4] = {32, 6, 60, 66};
    for (int i = 0; i < n; i++) {
        wbt_assert_close("box", d->boxes + 4 * i, box, 4, 1e-4, 0);
        ck_assert_msg(fabsf(d->scores[i] - 0.5f) < 1e-6f, "score %g, want 0.5", d->scores[i]);
        ck_assert_int_eq(d->labels[i], i);
    }
    e.head.desc->module->release_detections(e.head.instance, d);
    head_free(&e);
    return n;
}

START_TEST(test_predict_one_confident_cell) {
    wb_detections d;
    ck_assert_int_eq(predict_one_cell("num_classes = 2;", &d), 2);                        /* both classes */
    ck_assert_int_eq(predict_one_cell("num_classes = 2; multi_label = false;", &d), 1);   /* the first best */
    ck_assert_int_eq(predict_one_cell("num_classes = 2; agnostic = true;", &d), 1);       /* IoU 1 across classes */
    ck_assert_int_eq(predict_one_cell("num_classes = 2; score_thr = 0.5;", &d), 0);       /* 0.5 is not above */
}
END_TEST

/* Class logits straddling the score threshold by a hair: the decoder skips
 * the sigmoid of classes whose logit is clearly below logit(thr / obj), and
 * must keep exactly the (cell, class) pairs whose score
 * sigmoid(class) * sigmoid(obj) is above score_thr 0.25, as the definition
 * computed here says. Cells of level 0, anchor 0 (10 x 13 boxes), two cells
 * apart so no box overlaps another; every other objectness is -20.
 * obj 0.5 (q = thr / obj = 0.5, exact logit 0): +2e-4 and -2e-4, -5e-4 and
 * +2e-3, -2e-3 and -10, +1e-3 and +3e-3; obj = thr / 0.995 (no skipping
 * there): the exact logit +-1e-3. */
static int predict_near_threshold(const char *body, double *score_sum, int *want, double *want_sum) {
    head_env e;
    head_create(&e, body, NULL);
    ck_assert_msg(e.st == WB_OK, "%s", e.err);
    wb_tensor *preds[3];
    make_preds(&e, -20.0f, preds);
    const double q_near = 0.995, o_near = log((0.25 / q_near) / (1.0 - 0.25 / q_near)),
                 t_near = log(q_near / (1.0 - q_near));
    const float cells[5][3] = {{0.0f, 2e-4f, -2e-4f},
                               {0.0f, -5e-4f, 2e-3f},
                               {0.0f, -2e-3f, -10.0f},
                               {(float)o_near, (float)(t_near + 1e-3), (float)(t_near - 1e-3)},
                               {0.0f, 1e-3f, 3e-3f}};
    const bool multi = strstr(body, "multi_label = false") == NULL;
    float *p = preds[0]->data; /* anchor 0 */
    *want = 0, *want_sum = 0.0;
    for (int i = 0; i < 5; i++) {
        const int cell = 16 * (i / 2) + 4 * (i % 2); /* y 0, 0, 2, 2, 4; x 0, 4 */
        for (int k = 0; k < 4; k++) p[k * 64 + cell] = 0.0f;
        p[4 * 64 + cell] = cells[i][0];
        p[5 * 64 + cell] = cells[i][1], p[6 * 64 + cell] = cells[i][2];
        float obj = 1.0f / (1.0f + expf(-cells[i][0])), best = -1.0f;
        for (int k = 0; k < 2; k++) {
            float score = 1.0f / (1.0f + expf(-cells[i][1 + k])) * obj;
            if (multi && score > 0.25f) ++*want, *want_sum += score;
            if (score > best) best = score;
        }
        if (!multi && best > 0.25f) ++*want, *want_sum += best;
    }
    wb_gt_image img = {.struct_size = sizeof img, .img_h = 64, .img_w = 64, .ori_h = 64, .ori_w = 64,
                       .scale_x = 1.0f, .scale_y = 1.0f};
    wb_batch_truth meta = {sizeof meta, 1, 64, 64, &img};
    wb_detections d;
    memset(&d, 0, sizeof d);
    ck_assert_msg(e.head.desc->module->predict(e.head.instance, &e.head.ctx.pub, preds, 3, &meta, &d) == WB_OK,
                  "%s", e.head.ctx.msg);
    int n = d.num;
    *score_sum = 0.0;
    for (int i = 0; i < n; i++) *score_sum += d.scores[i];
    e.head.desc->module->release_detections(e.head.instance, &d);
    head_free(&e);
    return n;
}

START_TEST(test_predict_keeps_exactly_the_scores_above_threshold) {
    double sum, want_sum;
    int want;
    int n = predict_near_threshold("num_classes = 2; score_thr = 0.25;", &sum, &want, &want_sum);
    ck_assert_int_eq(want, 5); /* +2e-4, +2e-3, the near cell's +1e-3, +1e-3 and +3e-3 */
    ck_assert_int_eq(n, want);
    ck_assert_msg(fabs(sum - want_sum) < 1e-6, "scores sum to %.8f, want %.8f", sum, want_sum);
    n = predict_near_threshold("num_classes = 2; score_thr = 0.25; multi_label = false;", &sum, &want, &want_sum);
    ck_assert_int_eq(want, 4); /* the best of each cell but the third */
    ck_assert_int_eq(n, want);
    ck_assert_msg(fabs(sum - want_sum) < 1e-6, "scores sum to %.8f, want %.8f", sum, want_sum);
}
END_TEST

/* Detections of random maps whose boxes are 4x their anchors, so that
 * neighbouring cells overlap and NMS suppresses most of the best-scored
 * candidates (the head then runs NMS on longer and longer prefixes). */
static int predict_overlapping(const char *body, wb_detections *d) {
    head_env e;
    head_create(&e, body, NULL);
    ck_assert_msg(e.st == WB_OK, "%s", e.err);
    wb_tensor *preds[3];
    make_preds(&e, 0.0f, preds);
    uint64_t rng = 12345;
    for (int l = 0; l < 3; l++) {
        int64_t plane = (8 >> l) * (8 >> l);
        for (int64_t i = 0; i < 21 * plane; i++) {
            int k = (int)((i / plane) % 7);
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            float u = (float)(rng >> 40) / (float)(1 << 24);
            preds[l]->data[i] = k == 2 || k == 3 ? 10.0f : k < 2 ? 0.0f : 6.0f * u - 3.0f;
        }
    }
    wb_gt_image img = {.struct_size = sizeof img, .img_h = 64, .img_w = 64, .ori_h = 64, .ori_w = 64,
                       .scale_x = 1.0f, .scale_y = 1.0f};
    wb_batch_truth meta = {sizeof meta, 1, 64, 64, &img};
    memset(d, 0, sizeof *d);
    ck_assert_msg(e.head.desc->module->predict(e.head.instance, &e.head.ctx.pub, preds, 3, &meta, d) == WB_OK, "%s",
                  e.head.ctx.msg);
    head_free(&e); /* release_detections only frees the arrays: d stays the caller's */
    return d->num;
}

START_TEST(test_max_per_img_keeps_the_best_of_full_nms) {
    wb_detections all, first;
    int n_all = predict_overlapping("num_classes = 2; agnostic = true; max_per_img = 1000;", &all);
    int n_first = predict_overlapping("num_classes = 2; agnostic = true; max_per_img = 40;", &first);
    /* 504 candidates (252 anchors, 2 classes); the best 160 keep fewer than 40 */
    ck_assert_msg(n_all > 40 && n_all < 100, "NMS kept %d of 504 candidates: the case is meant to suppress most",
                  n_all);
    ck_assert_int_eq(n_first, 40);
    wbt_assert_close("first 40 boxes", first.boxes, all.boxes, 4 * 40, 1e-9, 0); /* the same */
    wbt_assert_close("first 40 scores", first.scores, all.scores, 40, 1e-9, 0);
    free(all.boxes), free(all.scores), free(all.labels);
    free(first.boxes), free(first.scores), free(first.labels);
}
END_TEST

/* Without boxes only objectness is learnt: every objectness logit c gives
 * BCE(c, 0) = softplus(c) per cell, so loss_obj = bs * obj gain * sum of the
 * balance * softplus(c) = 2 * 1 * 5.4 * log(1 + e^-2) with c = -2 (the gain
 * obj = 1 is scaled by (640 / 640)^2 * 3 / 3). */
START_TEST(test_loss_without_boxes_is_objectness_alone) {
    head_env e;
    head_create(&e, "num_classes = 2;", NULL);
    ck_assert_msg(e.st == WB_OK, "%s", e.err);
    wbt_env env = {e.s, e.head.ctx, &e.head.ctx.pub};
    wb_tensor *preds[3];
    static float data[3][2 * 21 * 64];
    for (int l = 0; l < 3; l++) {
        int64_t side = 8 >> l, shape[4] = {2, 21, side, side};
        for (int i = 0; i < 2 * 21 * side * side; i++) data[l][i] = (i / (side * side)) % 7 == 4 ? -2.0f : 0.3f;
        preds[l] = wbt_from(&env, 4, shape, data[l]);
    }
    const uint8_t none = 0;
    wb_gt_image imgs[2] = {{.struct_size = sizeof(wb_gt_image), .ignore = &none, .img_h = 64, .img_w = 64},
                           {.struct_size = sizeof(wb_gt_image), .ignore = &none, .img_h = 64, .img_w = 64}};
    wb_batch_truth truth = {sizeof truth, 2, 64, 64, imgs};
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n = 0;
    e.head.ctx.grad_enabled = true;
    ck_assert_msg(e.head.desc->module->loss(e.head.instance, &e.head.ctx.pub, preds, 3, &truth, terms, &n) == WB_OK,
                  "%s", e.head.ctx.msg);
    ck_assert_int_eq(n, 3);
    float got[3] = {terms[0].value->data[0], terms[1].value->data[0], terms[2].value->data[0]};
    const float want[3] = {0.0f, (float)(2.0 * 5.4 * log1p(exp(-2.0))), 0.0f};
    ck_assert_str_eq(terms[1].name, "loss_obj");
    wbt_assert_close("loss_box, loss_obj, loss_cls", got, want, 3, 1e-7, 1e-6);
    head_free(&e);
}
END_TEST

int main(void) {
    g_reg = wb_registry_new();
    if (wb_registry_load_file(g_reg, WB_PLUGIN_BUILD_DIR "/wb_head_yolov5_head.so", "test") != WB_OK) {
        fprintf(stderr, "cannot load yolov5_head: %s\n", wb_registry_error(g_reg));
        return 1;
    }
    Suite *s = suite_create("yolov5_head");
    TCase *tc = tcase_create("yolov5_head");
    tcase_add_test(tc, test_targets_match_hand_worked_cells);
    tcase_add_test(tc, test_configuration_errors);
    tcase_add_test(tc, test_prior_biases);
    tcase_add_test(tc, test_anchors_listed_largest_first_are_reversed);
    tcase_add_test(tc, test_predict_one_confident_cell);
    tcase_add_test(tc, test_predict_keeps_exactly_the_scores_above_threshold);
    tcase_add_test(tc, test_max_per_img_keeps_the_best_of_full_nms);
    tcase_add_test(tc, test_loss_without_boxes_is_objectness_alone);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
