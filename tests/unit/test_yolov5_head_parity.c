/* Whole YOLOv5 models (cspdarknet + yolov5_pafpn + yolov5_head) against
 * YOLOv5 7.0's own code (tests/parity/gen_yolov5_head.py): the raw Detect
 * maps of yolov5n (3 classes) and yolov5s (80 classes) in eval mode, the loss
 * of ComputeLoss (box, obj, cls, total) on a training forward with the same
 * boxes, with the gradients of every Detect conv weight and bias after one
 * backward (yolov5s with label smoothing, focal loss and positive weights),
 * and the detections of non_max_suppression on two letterboxed images mapped
 * back to the originals. Weights come from tools/export_yolov5.py and load
 * by name (every tensor of the file, head anchors included).
 *
 * Without the yolov5 package this program says why and exits 77 (skipped).
 *
 * Tolerances (the issue's): maps and gradients max |ours - ref| / max |ref|
 * <= 1e-4, losses 1e-4 relative; detections: scores 1e-5, boxes 1e-3 px. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app/experiment.h"
#include "config/config.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "wbt_module.h"
#include "wbt_parity.h"
#include "wbtest.h"

#define REL_TOL 1e-4
#define SCORE_TOL 1e-5
#define BOX_TOL 1e-3
#define SKIP_EXIT_CODE 77

static wb_registry *g_reg;

typedef struct model_case {
    const char *name;
    double deepen, widen;
    int num_classes;
} model_case;
static const model_case k_n = {"yolov5n", 0.33, 0.25, 3}, k_s = {"yolov5s", 0.33, 0.50, 80};

/* The model section validated against the plugins' schemas, as `run` does. */
static wb_config *model_config(const model_case *mc, const char *head_extra) {
    char text[2048];
    snprintf(text, sizeof text,
             "model = {\n"
             "  backbone = { type = \"cspdarknet\"; deepen_factor = %g; widen_factor = %g; };\n"
             "  neck = { type = \"yolov5_pafpn\"; deepen_factor = %g; };\n"
             "  head = { type = \"yolov5_head\"; num_classes = %d; %s };\n"
             "};\n", mc->deepen, mc->widen, mc->deepen, mc->num_classes, head_extra);
    return wbt_model_config(g_reg, text);
}

typedef struct built {
    wb_config *cfg;
    wb_session *s;
    wb_model *m;
    wbt_env e;
} built;

static void build(built *b, const model_case *mc, const char *head_extra) {
    char err[1024], path[512];
    b->cfg = model_config(mc, head_extra);
    b->s = wb_session_create(NULL, 1);
    b->s->find_module = wb_registry_find_module;
    b->s->find_user = g_reg;
    ck_assert_msg(wb_model_build(b->s, wb_config_params(b->cfg, "model"), &b->m, err, sizeof err) == WB_OK, "%s", err);
    snprintf(path, sizeof path, "%s/%s_head_weights.safetensors", WB_PARITY_DIR, mc->name);
    wb_load_report r;
    ck_assert_msg(wb_checkpoint_load(path, b->s, NULL, &r, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_msg(r.missing == 0 && r.unexpected == 0 && r.shape_mismatched == 0 && r.matched == b->s->n_params,
                  "%s: matched %d of %d, missing %d (first %s), unexpected %d (first %s), mismatched %d (first %s)",
                  mc->name, r.matched, b->s->n_params, r.missing, r.first_missing, r.unexpected, r.first_unexpected,
                  r.shape_mismatched, r.first_mismatch);
    wb_module_slot *head = wb_model_head(b->m);
    b->e = (wbt_env){b->s, head->ctx, &head->ctx.pub};
}

static void unbuild(built *b) {
    wb_model_destroy(b->m);
    wb_session_destroy(b->s);
    wb_config_free(b->cfg);
}

static wb_tensor *input(built *b, const wb_st_file *f) {
    const wb_st_tensor *x = wb_st_find(f, "x");
    ck_assert(x != NULL);
    return wbt_from(&b->e, x->ndim, x->shape, x->data);
}

static void check_eval(const model_case *mc) {
    char case_name[64], err[1024];
    snprintf(case_name, sizeof case_name, "%s_head_eval", mc->name);
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    built b;
    build(&b, mc, "");
    ck_assert_msg(wb_model_forward(b.m, input(&b, &f), false, err, sizeof err) == WB_OK, "%s", err);
    wb_module_slot *head = wb_model_head(b.m);
    printf("%s (%d classes), eval mode, x [1, 3, 256, 320], Detect's conv maps vs YOLOv5:\n", mc->name,
           mc->num_classes);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "pred%d", i);
        const wb_st_tensor *ref = wb_st_find(&f, name);
        ck_assert(ref && ref->numel == head->out[i]->numel);
        for (int d = 0; d < 4; d++) ck_assert_int_eq(ref->shape[d], head->out[i]->shape[d]);
        wbt_assert_rel_close(name, head->out[i]->data, ref->data, ref->numel, REL_TOL);
    }
    unbuild(&b);
    wb_st_free(&f);
}

START_TEST(test_yolov5n_maps_match) { check_eval(&k_n); }
END_TEST

START_TEST(test_yolov5s_maps_match) { check_eval(&k_s); }
END_TEST

/* The loss case's boxes as the core hands them to a head. */
typedef struct loss_truth {
    int labels[2][16];
    uint8_t ignore[2][16];
    wb_gt_image images[2];
    wb_batch_truth batch;
} loss_truth;

static void read_truth(const wb_st_file *f, int h, int w, loss_truth *t) {
    memset(t, 0, sizeof *t);
    for (int i = 0; i < 2; i++) {
        char bn[16], ln[16];
        snprintf(bn, sizeof bn, "boxes%d", i);
        snprintf(ln, sizeof ln, "labels%d", i);
        const wb_st_tensor *boxes = wb_st_find(f, bn), *labels = wb_st_find(f, ln);
        ck_assert(boxes && labels && labels->numel <= 16);
        for (int k = 0; k < labels->numel; k++) t->labels[i][k] = (int)labels->data[k];
        t->images[i] = (wb_gt_image){.struct_size = sizeof(wb_gt_image), .num_boxes = (int)labels->numel,
                                     .boxes = boxes->data, .labels = t->labels[i], .ignore = t->ignore[i],
                                     .img_h = h, .img_w = w, .ori_h = h, .ori_w = w, .scale_x = 1.0f,
                                     .scale_y = 1.0f, .image_id = i};
    }
    t->batch = (wb_batch_truth){sizeof(wb_batch_truth), 2, h, w, t->images};
}

static void check_loss(const model_case *mc) {
    char case_name[64], err[1024], extra[512];
    snprintf(case_name, sizeof case_name, "%s_head_loss", mc->name);
    wb_st_file f;
    if (!wbt_parity_open(case_name, &f)) return;
    snprintf(extra, sizeof extra, "img_size = 160; box = %g; obj = %g; cls = %g; cls_pw = %g; obj_pw = %g; "
             "anchor_t = %g; fl_gamma = %g; label_smoothing = %g;", wbt_parity_attr(&f, "box"),
             wbt_parity_attr(&f, "obj"), wbt_parity_attr(&f, "cls"), wbt_parity_attr(&f, "cls_pw"),
             wbt_parity_attr(&f, "obj_pw"), wbt_parity_attr(&f, "anchor_t"), wbt_parity_attr(&f, "fl_gamma"),
             wbt_parity_attr(&f, "label_smoothing"));
    built b;
    build(&b, mc, extra);
    wb_tensor *x = input(&b, &f);
    ck_assert_msg(wb_model_forward(b.m, x, true, err, sizeof err) == WB_OK, "%s", err);
    loss_truth t;
    read_truth(&f, (int)x->shape[2], (int)x->shape[3], &t);
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n_terms = 0;
    ck_assert_msg(wb_model_loss(b.m, &t.batch, terms, &n_terms, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_int_eq(n_terms, 3);
    printf("%s (%d classes), training forward, x [2, 3, 128, 160], 8 boxes, %s; vs ComputeLoss:\n", mc->name,
           mc->num_classes, extra);
    static const char *const names[3] = {"loss_box", "loss_obj", "loss_cls"};
    float total = 0.0f;
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(terms[i].name, names[i]);
        float got = terms[i].value->data[0], want = wbt_parity_tensor(&f, names[i], 1)[0];
        printf("  %-10s ours %.8g, YOLOv5 %.8g, relative %.3g\n", names[i], got, want, fabs(got - want) / fabs(want));
        wbt_assert_close(names[i], &got, &want, 1, 0.0, REL_TOL);
        total += got;
    }
    float want = wbt_parity_tensor(&f, "loss", 1)[0];
    printf("  %-10s ours %.8g, YOLOv5 %.8g, relative %.3g\n", "total", total, want, fabs(total - want) / fabs(want));
    wbt_assert_close("total", &total, &want, 1, 0.0, REL_TOL);
    ck_assert_msg(wb_model_backward(b.m, terms, n_terms, err, sizeof err) == WB_OK, "%s", err);
    int n_grads = 0;
    for (int i = 0; i < f.count; i++) {
        const wb_st_tensor *ref = &f.tensors[i];
        if (strncmp(ref->name, "grad:", 5) != 0) continue;
        wb_param_entry *p = wb_session_find(b.s, ref->name + 5);
        ck_assert_msg(p && p->tensor->grad_valid, "no gradient for %s", ref->name + 5);
        ck_assert_int_eq(p->tensor->numel, ref->numel);
        wbt_assert_rel_close(ref->name, p->tensor->grad, ref->data, ref->numel, REL_TOL);
        n_grads++;
    }
    ck_assert_int_eq(n_grads, 6);
    unbuild(&b);
    wb_st_free(&f);
}

START_TEST(test_yolov5n_loss_matches) { check_loss(&k_n); }
END_TEST

START_TEST(test_yolov5s_loss_with_options_matches) { check_loss(&k_s); }
END_TEST

/* Each of our detections has one equal in YOLOv5's (same label, score within
 * SCORE_TOL, box within BOX_TOL px); counts equal. */
static const wbt_dets_match k_yolov5 = {"YOLOv5's", SCORE_TOL, BOX_TOL, false};

START_TEST(test_yolov5n_detections_match) {
    wb_st_file f;
    if (!wbt_parity_open("yolov5n_head_dets", &f)) return;
    char err[1024];
    built b;
    build(&b, &k_n, "");
    wb_tensor *x = input(&b, &f);
    ck_assert_msg(wb_model_forward(b.m, x, false, err, sizeof err) == WB_OK, "%s", err);
    wb_gt_image imgs[2];
    for (int i = 0; i < 2; i++) {
        char key[16];
        snprintf(key, sizeof key, "r%d", i);
        float r = (float)wbt_parity_attr(&f, key);
        snprintf(key, sizeof key, "dw%d", i);
        float dw = (float)wbt_parity_attr(&f, key);
        snprintf(key, sizeof key, "dh%d", i);
        float dh = (float)wbt_parity_attr(&f, key);
        snprintf(key, sizeof key, "h%d", i);
        int h = (int)wbt_parity_attr(&f, key);
        snprintf(key, sizeof key, "w%d", i);
        int w = (int)wbt_parity_attr(&f, key);
        imgs[i] = (wb_gt_image){.struct_size = sizeof(wb_gt_image), .img_h = (int)x->shape[2],
                                .img_w = (int)x->shape[3], .ori_h = h, .ori_w = w, .scale_x = r, .scale_y = r,
                                .image_id = i, .offset_x = dw, .offset_y = dh};
    }
    wb_batch_truth meta = {sizeof meta, 2, (int)x->shape[2], (int)x->shape[3], imgs};
    wb_detections dets[2];
    memset(dets, 0, sizeof dets);
    ck_assert_msg(wb_model_predict(b.m, &meta, dets, err, sizeof err) == WB_OK, "%s", err);
    printf("yolov5n, two images letterboxed to 256x256, conf 0.001, IoU 0.6, multi-label, 300 per image, vs "
           "non_max_suppression + scale_boxes:\n");
    for (int i = 0; i < 2; i++) {
        char nb[32], ns[32], nl[32], nn[32];
        snprintf(nb, sizeof nb, "det_boxes%d", i);
        snprintf(ns, sizeof ns, "det_scores%d", i);
        snprintf(nl, sizeof nl, "det_labels%d", i);
        snprintf(nn, sizeof nn, "num_dets%d", i);
        int want = (int)wbt_parity_attr(&f, nn);
        ck_assert_msg(dets[i].num == want, "image %d: %d detections, YOLOv5 %d", i, dets[i].num, want);
        wbt_assert_same_detections(&k_yolov5, i, &dets[i], wbt_parity_tensor(&f, nb, 4 * want),
                                   wbt_parity_tensor(&f, ns, want), wbt_parity_tensor(&f, nl, want));
    }
    wb_model_release_detections(b.m, dets, 2);
    unbuild(&b);
    wb_st_free(&f);
}
END_TEST

int main(void) {
    char why[1024];
    if (wbt_parity_unavailable("yolov5_unavailable", why, sizeof why)) {
        printf("SKIPPED: YOLOv5 parity of yolov5_head not run: %s\n", why);
        return SKIP_EXIT_CODE;
    }
    static const char *const files[] = {WB_PLUGIN_BUILD_DIR "/wb_backbone_cspdarknet.so", WB_PLUGIN_BUILD_DIR "/wb_neck_yolov5_pafpn.so",
                           WB_PLUGIN_BUILD_DIR "/wb_head_yolov5_head.so"};
    g_reg = wbt_registry_load(files, (int)(sizeof files / sizeof files[0]));
    if (!g_reg) return 1;
    Suite *s = suite_create("yolov5_head_parity");
    TCase *tc = tcase_create("yolov5_head_parity");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_yolov5n_maps_match);
    tcase_add_test(tc, test_yolov5s_maps_match);
    tcase_add_test(tc, test_yolov5n_loss_matches);
    tcase_add_test(tc, test_yolov5s_loss_with_options_matches);
    tcase_add_test(tc, test_yolov5n_detections_match);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
