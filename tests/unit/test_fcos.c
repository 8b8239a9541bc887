/* fcos_head beyond the torch parity cases (test_fcos_parity): what its
 * configuration refuses and why, a batch without objects (finite terms, zero
 * box and centerness losses that still reach the predictions), and one known
 * detection decoded back to original-image pixels through a letterbox. */
#define _POSIX_C_SOURCE 200809L /* mkstemp */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "app/experiment.h"
#include "config/config.h"
#include "model/model.h"
#include "plugin/registry.h"
#include "wbtest.h"

static wb_registry *g_reg;

static bool load_plugins(void) {
    g_reg = wb_registry_new();
    if (wb_registry_load_file(g_reg, WB_PLUGIN_BUILD_DIR "/wb_head_fcos_head.so", "test") != WB_OK) {
        fprintf(stderr, "cannot load wb_head_fcos_head.so: %s\n", wb_registry_error(g_reg));
        return false;
    }
    return true;
}

/* Creates a fcos_head from `body` (validated against its schema) on levels of
 * 16 channels at the given strides; returns the create status, err holds why. */
static wb_status make_head(wb_session *s, const char *body, const int *strides, int n_levels, wb_module_slot *head,
                           wb_config **cfg, char *err, size_t err_size) {
    char text[1024], path[] = "/tmp/wb_fcos_unit_XXXXXX";
    snprintf(text, sizeof text, "head = { type = \"fcos_head\"; num_classes = 2; feat_channels = 16; "
             "stacked_convs = 1; %s };\n", body);
    int fd = mkstemp(path);
    ck_assert(fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    *cfg = wb_config_new();
    wb_module_lookup lk = wb_registry_module_lookup(g_reg);
    ck_assert(wb_config_load(*cfg, path) == 0);
    unlink(path);
    wb_config_validate_module(*cfg, "head", WB_KIND_HEAD, &lk);
    if (wb_config_error_count(*cfg) > 0) wb_config_print_errors(*cfg, stderr);
    ck_assert_int_eq(wb_config_error_count(*cfg), 0);
    wb_feature_spec in[5];
    for (int l = 0; l < n_levels; l++) {
        in[l] = (wb_feature_spec){"", 16, strides[l]};
        snprintf(in[l].name, sizeof in[l].name, "p%d", l + 3);
    }
    return wb_slot_create(head, s, wb_registry_find_module(g_reg, WB_KIND_HEAD, "fcos_head"), "head",
                          wb_config_params(*cfg, "head"), in, n_levels, err, err_size);
}

static void expect_refusal(const char *body, const int *strides, int n_levels, const char *fragment) {
    wb_session *s = wb_session_create(NULL, 0);
    wb_module_slot head;
    wb_config *cfg;
    char err[1024];
    ck_assert_int_eq(make_head(s, body, strides, n_levels, &head, &cfg, err, sizeof err), WB_ERR_INVALID);
    ck_assert_msg(strstr(err, fragment) != NULL, "expected '%s' in: %s", fragment, err);
    wb_session_destroy(s);
    wb_config_free(cfg);
}

static const int k_strides[3] = {8, 16, 32};
#define LEVELS3 "num_groups = 4; strides = [8, 16, 32]; "

START_TEST(test_refusals_say_what_and_where) {
    expect_refusal(LEVELS3 "regress_ranges = [-1.0, 64.0, 1e8];", k_strides, 3,
                   "regress_ranges needs 4 boundaries (one more than the 3 levels), got 3");
    expect_refusal(LEVELS3 "regress_ranges = [-1.0, 64.0, 32.0, 1e8];", k_strides, 3,
                   "regress_ranges must increase, but boundary 2 (32) follows 64");
    expect_refusal("strides = [8, 16, 32]; regress_ranges = [-1.0, 64.0, 128.0, 1e8]; num_groups = 32;", k_strides,
                   3, "feat_channels 16 is not a multiple of num_groups 32");
    expect_refusal("num_groups = 4; strides = [8, 16, 64]; regress_ranges = [-1.0, 64.0, 128.0, 1e8];", k_strides, 3,
                   "input 2 (p5) has stride 32 but strides[2] is 64");
    expect_refusal("num_groups = 4; strides = [8, 16]; regress_ranges = [-1.0, 64.0, 1e8];", k_strides, 3,
                   "2 strides configured but the neck gives 3 feature maps");
    expect_refusal(LEVELS3 "regress_ranges = [-1.0, 64.0, 128.0, 1e8]; norm = \"none\"; "
                   "conv_bias = false;", k_strides, 3, "leaves the tower convs without any offset");
}
END_TEST

/* Predictions of a 64x96 input: every logit low except one point of P3 for
 * class 1, whose distances (in strides) give a known box. */
static void fill_predictions(wbt_env *e, wb_tensor **preds, int batch) {
    static const int hw[3][2] = {{8, 12}, {4, 6}, {2, 3}};
    for (int l = 0; l < 3; l++) {
        int64_t cs[4] = {batch, 2, hw[l][0], hw[l][1]}, rs[4] = {batch, 4, hw[l][0], hw[l][1]},
                ts[4] = {batch, 1, hw[l][0], hw[l][1]};
        preds[l] = wbt_random(e, 4, cs, -9.0f, -8.0f, &(uint64_t){7});
        preds[3 + l] = wbt_random(e, 4, rs, 0.5f, 1.0f, &(uint64_t){8});
        preds[6 + l] = wbt_random(e, 4, ts, -1.0f, 1.0f, &(uint64_t){9});
        for (int k = 0; k < 3; k++) preds[3 * k + l]->requires_grad = true;
    }
    /* P3 point (y 3, x 5), at (x, y) = (40, 24) input px with torchvision's points; class 1 */
    const int64_t plane = 8 * 12, c = 3 * 12 + 5;
    preds[0]->data[1 * plane + c] = 4.0f;
    const float dist[4] = {1.0f, 2.0f, 3.0f, 0.5f}; /* l, t, r, b in strides of 8 */
    for (int j = 0; j < 4; j++) preds[3]->data[j * plane + c] = dist[j];
    preds[6]->data[c] = 2.0f;
}

START_TEST(test_batch_without_objects) {
    wb_session *s = wb_session_create(NULL, 0);
    wb_module_slot head;
    wb_config *cfg;
    char err[1024];
    ck_assert_msg(make_head(s, LEVELS3 "regress_ranges = [-1.0, 64.0, 128.0, 1e8];", k_strides, 3,
                            &head, &cfg, err, sizeof err) == WB_OK, "%s", err);
    wbt_env e = {s, head.ctx, &head.ctx.pub};
    wb_tensor *preds[9];
    fill_predictions(&e, preds, 2);
    static const uint8_t none[1] = {0};
    wb_gt_image imgs[2];
    for (int i = 0; i < 2; i++)
        imgs[i] = (wb_gt_image){sizeof(wb_gt_image), 0, NULL, NULL, none, 64, 96, 64, 96, 1.0f, 1.0f, i, 0, 0};
    wb_batch_truth truth = {sizeof truth, 2, 64, 96, imgs};
    wb_loss_term terms[WB_MAX_LOSS_TERMS];
    int n = 0;
    head.ctx.grad_enabled = true;
    ck_assert_msg(head.desc->module->loss(head.instance, &head.ctx.pub, preds, 9, &truth, terms, &n) == WB_OK, "%s",
                  head.ctx.msg);
    ck_assert_int_eq(n, 3);
    ck_assert(terms[0].value->data[0] > 0.0f); /* every point is a negative */
    ck_assert_float_eq(terms[1].value->data[0], 0.0f);
    ck_assert_float_eq(terms[2].value->data[0], 0.0f);
    ck_assert_msg(wb_slot_seed_loss_grads(&head, terms, n, err, sizeof err) == WB_OK, "%s", err);
    ck_assert_msg(wb_slot_replay(&head, err, sizeof err) == WB_OK, "%s", err);
    ck_assert(preds[0]->grad_valid);
    wb_slot_destroy(&head);
    wb_session_destroy(s);
    wb_config_free(cfg);
}
END_TEST

/* The one confident point decodes to (40 - 8, 24 - 16, 40 + 24, 24 + 4) input
 * px; a letterbox of scale 0.5 and offset (4, 2) maps it to original pixels. */
START_TEST(test_detection_in_original_pixels) {
    wb_session *s = wb_session_create(NULL, 0);
    wb_module_slot head;
    wb_config *cfg;
    char err[1024];
    ck_assert_msg(make_head(s, LEVELS3 "regress_ranges = [-1.0, 64.0, 128.0, 1e8]; score_thr = 0.3;",
                            k_strides, 3, &head, &cfg, err, sizeof err) == WB_OK, "%s", err);
    wbt_env e = {s, head.ctx, &head.ctx.pub};
    wb_tensor *preds[9];
    fill_predictions(&e, preds, 1);
    static const uint8_t none[1] = {0};
    wb_gt_image img = {sizeof img, 0, NULL, NULL, none, 64, 96, 124, 184, 0.5f, 0.5f, 0, 4.0f, 2.0f};
    wb_batch_truth meta = {sizeof meta, 1, 64, 96, &img};
    wb_detections det;
    memset(&det, 0, sizeof det);
    det.struct_size = sizeof det;
    ck_assert_msg(head.desc->module->predict(head.instance, &head.ctx.pub, preds, 9, &meta, &det) == WB_OK, "%s",
                  head.ctx.msg);
    ck_assert_int_eq(det.num, 1);
    ck_assert_int_eq(det.labels[0], 1);
    const float score = sqrtf(1.0f / (1.0f + expf(-4.0f)) / (1.0f + expf(-2.0f)));
    ck_assert_float_eq_tol(det.scores[0], score, 1e-6f);
    const float want[4] = {(32.0f - 4.0f) / 0.5f, (8.0f - 2.0f) / 0.5f, (64.0f - 4.0f) / 0.5f, (28.0f - 2.0f) / 0.5f};
    for (int j = 0; j < 4; j++) ck_assert_float_eq_tol(det.boxes[j], want[j], 1e-4f);
    head.desc->module->release_detections(head.instance, &det);
    wb_slot_destroy(&head);
    wb_session_destroy(s);
    wb_config_free(cfg);
}
END_TEST

int main(void) {
    if (!load_plugins()) return 1;
    Suite *s = suite_create("fcos");
    TCase *tc = tcase_create("fcos_head");
    tcase_add_test(tc, test_refusals_say_what_and_where);
    tcase_add_test(tc, test_batch_without_objects);
    tcase_add_test(tc, test_detection_in_original_pixels);
    suite_add_tcase(s, tc);
    int rc = wbt_run_suite(s);
    wb_registry_free(g_reg);
    return rc;
}
